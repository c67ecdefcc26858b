"""What one cloud answer costs, with and without the per-frame feature cache, and robots per core.

    python -m dedelayed_bringup.bench.cloud_answer --checkpoint models/dedelayed_models/checkpoints/dedelayed.pt \
        --threads 1 --json bench_out/remote_answer.json

Streams snapshots as a live robot makes them (one new frame per answer, stamps 1/rate apart) into
two ``RemoteServer`` s of the same model, one with the feature cache and one without, alternating
answers so both see the same machine load; times each answer (wall and process CPU time: host->
device copy, backbone of new frames, 3-D encoder, pooling, device->host copy; decode and payload
encoding are per robot and not included) and counts its multiply-accumulates
(``dedelayed_models.bench.macs``). Robots per CPU core at ``rate_hz`` = 1000 / (rate_hz x CPU ms
per answer at one thread). ``--paper-macs`` adds the paper preset's MACs per answer (K = 4):
joint-attention blocks uncached (the architecture before divided attention and the cache) versus
the preset as it is now, cached.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from typing import Dict

import torch

from dedelayed_models.bench.macs import count_macs
from dedelayed_models.modeling import get_config
from dedelayed_models.modeling.remote_model import RemoteModel, context_ages_ms
from dedelayed_remote.remote_server import RemoteServer
from dedelayed_remote.served_model import load_served_model
from dedelayed_remote.snapshot_stream import snapshot_stream


def answer_cost(served, robots: int = 1, *, repeats: int = 20, rate_hz: float = 10.0) -> Dict:
    """Cached versus uncached answers of one model, measured side by side (see module doc)."""
    local_hw = served.config.local_hw
    servers = {"cached": RemoteServer(served, local_hw=local_hw, feature_cache=True),
               "uncached": RemoteServer(served, local_hw=local_hw, feature_cache=False)}
    stream = snapshot_stream(servers["cached"], robots, rate_hz=rate_hz)
    warm = served.num_frames + 1                     # fill the context and the cache first
    times = {name: {"wall_ms": [], "cpu_ms": []} for name in servers}
    for i in range(warm + repeats):
        batch = next(stream)
        for name, server in servers.items():
            wall0, cpu0 = time.perf_counter(), time.process_time()
            server.features_for(batch)
            wall, cpu = (time.perf_counter() - wall0) * 1e3, (time.process_time() - cpu0) * 1e3
            if i >= warm:
                times[name]["wall_ms"].append(wall)
                times[name]["cpu_ms"].append(cpu)
    batch = next(stream)
    out: Dict = {"robots": robots, "K": served.num_frames, "rate_hz": rate_hz,
                 "torch_threads": torch.get_num_threads(), "repeats": repeats}
    for name, server in servers.items():
        macs = count_macs(lambda s=server: s.features_for(batch))
        cpu = statistics.median(times[name]["cpu_ms"]) / robots
        out[name] = {"wall_ms_median": statistics.median(times[name]["wall_ms"]) / robots,
                     "cpu_ms_median": cpu, "macs_per_answer": macs / robots,
                     "robots_per_core_at_rate": 1000.0 / (rate_hz * cpu) if cpu > 0 else None}
    for key in ("wall_ms_median", "cpu_ms_median", "macs_per_answer"):
        out[f"{key}_ratio_cached_over_uncached"] = out["cached"][key] / out["uncached"][key]
    return out


def paper_preset_macs(vit_attention_before: str = "joint") -> Dict:
    """MACs per answer of the paper preset (K = 4 at 720x1280, local 480x864): the joint-attention
    model encoding all K frames per answer, versus the preset now, with the per-frame cache."""
    cfg = get_config("paper")
    k, (hr, wr) = cfg.remote.num_frames, cfg.remote_hw
    with torch.device("meta"):          # shapes only: the count needs no arithmetic
        before = RemoteModel.from_config(dataclasses.replace(cfg.remote, vit_attention=vit_attention_before),
                                         local_hw=cfg.local_hw).eval()
        now = RemoteModel.from_config(cfg.remote, local_hw=cfg.local_hw).eval()
        frames = torch.zeros(1, k, 3, hr, wr)
        ages = context_ages_ms(torch.full((1,), 100.0), 1000.0 / 30.0, k)
        encoded = torch.zeros(1, k, cfg.remote.d_model, *now.encode_frames(frames[:, :1]).shape[-2:])
        backbone = count_macs(lambda: now.encode_frames(frames[:, :1]))
        uncached_before = count_macs(lambda: before.features(frames, ages))
        cached_now = backbone + count_macs(lambda: now.features_from_encoded(encoded, ages))
    return {"preset": "paper", "K": k, "remote_hw": [hr, wr],
            "before": f"{vit_attention_before} attention, all K frames through the backbone per answer",
            "now": f"{cfg.remote.vit_attention} attention, one new frame through the backbone per answer",
            "backbone_macs_per_frame": backbone, "macs_per_answer_before": uncached_before,
            "macs_per_answer_now": cached_now, "ratio_now_over_before": cached_now / uncached_before}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="", help="remote or dedelayed checkpoint ('' = random)")
    parser.add_argument("--preset", default="small", help="random-weight preset without a checkpoint")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--robots", type=int, nargs="+", default=[1], help="robots per batch")
    parser.add_argument("--repeats", type=int, default=20, help="timed answers per server")
    parser.add_argument("--rate-hz", type=float, default=10.0, help="camera rate for robots per core")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: per-core figures)")
    parser.add_argument("--paper-macs", action="store_true", help="also count the paper preset's MACs")
    parser.add_argument("--json", default="", help="write the figures here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    served = load_served_model(checkpoint=args.checkpoint, preset=args.preset, device=args.device)
    result = {"model": served.source, "device": args.device,
              "answers": [answer_cost(served, r, repeats=args.repeats, rate_hz=args.rate_hz)
                          for r in args.robots]}
    print(f"remote answers, {served.source}, device {args.device}, torch threads {torch.get_num_threads()}")
    print("robots | path | wall ms/answer | CPU ms/answer | MMACs/answer | robots/core at "
          f"{args.rate_hz:g} fps")
    for row in result["answers"]:
        for name in ("uncached", "cached"):
            r = row[name]
            print(f"{row['robots']:6d} | {name:8s} | {r['wall_ms_median']:14.1f} | {r['cpu_ms_median']:13.1f} | "
                  f"{r['macs_per_answer'] / 1e6:12.0f} | {r['robots_per_core_at_rate'] or 0:.2f}")
        print(f"       cached/uncached: CPU time {row['cpu_ms_median_ratio_cached_over_uncached']:.3f}, "
              f"MACs {row['macs_per_answer_ratio_cached_over_uncached']:.3f}")
    if args.paper_macs:
        result["paper_preset"] = p = paper_preset_macs()
        print(f"paper preset (K={p['K']}): {p['macs_per_answer_before'] / 1e9:.0f} GMACs per answer "
              f"({p['before']}) -> {p['macs_per_answer_now'] / 1e9:.0f} GMACs ({p['now']}): "
              f"{p['ratio_now_over_before']:.3f}x")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
