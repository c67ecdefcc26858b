"""Cloud throughput: remote-feature requests per second versus robots batched (B) and K.

Uses the remote node's own answers with its per-frame feature cache, streamed as a live robot
sends frames (``cloud_answer.answer_cost``, which times the uncached path beside
it). K is fixed by a
model's time embedding, so each K gets a random model of the preset with that K (the cost of a
forward pass does not depend on the weights).
"""

from __future__ import annotations

import dataclasses
from typing import Dict, List, Sequence

from dedelayed_bringup.bench.cloud_answer import answer_cost
from dedelayed_models.data.timing import DEFAULT_FPS
from dedelayed_models.modeling import get_config, random_model
from dedelayed_remote.served_model import ServedModel, resolve_device


def served_with_k(preset: str, k: int, device: str) -> ServedModel:
    cfg = get_config(preset)
    cfg = dataclasses.replace(cfg, remote=dataclasses.replace(cfg.remote, num_frames=int(k)))
    built = random_model(cfg)
    dev = resolve_device(device)
    return ServedModel(built.model.remote.to(dev), cfg, built.identity["remote"], dev,
                       f"{built.source}:K{k}")


def cloud_throughput(preset: str, batch_sizes: Sequence[int], ks: Sequence[int], device: str,
                     repeats: int = 2, rate_hz: float = DEFAULT_FPS) -> Dict:
    """Rows of forward ms and features/s per (K, B), and robots served at ``rate_hz`` per device
    (features/s of the best batch size / rate_hz: each robot wants one FeatureMap per frame)."""
    rows: List[Dict] = []
    for k in ks:
        served = served_with_k(preset, k, device)
        for b in batch_sizes:
            cost = answer_cost(served, int(b), repeats=repeats, rate_hz=rate_hz)
            batch_ms = cost["cached"]["wall_ms_median"] * int(b)
            rows.append({"K": int(k), "batch_size": int(b), "forward_ms_median": batch_ms,
                         "uncached_forward_ms_median": cost["uncached"]["wall_ms_median"] * int(b),
                         "features_per_s": int(b) * 1000.0 / batch_ms})
    best = {}
    for k in ks:
        fps = max(r["features_per_s"] for r in rows if r["K"] == k)
        best[str(k)] = {"features_per_s": fps, "robots_at_rate": fps / rate_hz}
    return {"preset": preset, "device": device, "rate_hz": rate_hz, "rows": rows,
            "robots_per_device": best}
