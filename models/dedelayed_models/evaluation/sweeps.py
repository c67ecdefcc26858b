"""Offline sweeps of the paper's Figs. 6, 9, 10, 11 (and the motion sweep) on delayed clips.

How each method of Fig. 6 is computed from the two shipped checkpoints (``local.pt`` = the local
stage, ``dedelayed.pt`` = the fusion stage, whose remote trunk and predictive head are the remote
stage's, frozen during fusion). For a labelled frame t and a delay D (frames of the source's
rate), the context is the K frames ending at t-D, one frame apart, and its true ages at t are
``frame_ages_ms`` (D + K-1-k frame periods); all are scored against the exact label of frame t
at the local resolution:

- local image:        local(x_t)                                  (independent of D)
- local only:         the fused model's own local without z, dedelayed.local(x_t): the robot's
                      local-only fallback, trained as long as the fused model (its fusion stage
                      drops z for a share of the samples); the honest local-only baseline is
                      the stronger of the two (``best_local``)
- remote image:       remote head, K copies of frame t-D, every age input 0 ms
                      (a single stale frame, no motion cue, no prediction; the remote stage saw
                      such K-copy clips in ``static_clip_prob`` of its batches)
- remote video:       remote head, the K frames ending at t-D, ages relative to frame t-D
                      (segments its newest frame, i.e. the present of what it sees)
- remote predictive:  remote head, the K frames ending at t-D, their true ages at t
- dedelayed:          local(x_t, z), z = remote features of the same context and true ages
                      (local + remote predictive)

Every context goes through the remote's 2-D backbone once (``encode_frames``), as on the
cloud; the methods differ only in the ages and the head. Remote-head logits are bilinearly
resized to the label size. Jitter matrix (Fig. 9): dedelayed mIoU with delay *input* D_in
(ages shifted so the newest is D_in frames old) on clips whose *observed* delay is D_obs.
``expected_under_jitter`` (Fig. 10) weights row D_in by a binned normal pmf of D_obs.
"""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

from ..data import DelayedClipDataset, delay_frames_to_ms
from ..modeling import stage1_grid
from .semseg import SemSegEvaluator

METHODS = ("local image", "local only", "remote image", "remote video", "remote predictive", "dedelayed")
LIVE_METHODS = ("local image", "local only", "remote image", "remote predictive", "dedelayed")   # 0-600 ms sweeps
LOCAL_METHODS = ("local image", "local only")   # independent of the delay


def best_local(values: Dict[str, float]) -> tuple:
    """(name, value) of the stronger local-only baseline among ``values`` {method: figure}."""
    present = [m for m in LOCAL_METHODS if m in values]
    name = max(present, key=lambda m: values[m])
    return name, values[name]


def eval_dataset(sources, model_cfg, max_delay_frames: int) -> DelayedClipDataset:
    """Clips with enough history for every delay up to ``max_delay_frames``, so each delay is
    scored on the same frames t (sources already carry the uplinked remote frames)."""
    return DelayedClipDataset(sources, local_hw=model_cfg.local_hw, remote_hw=model_cfg.remote_hw,
                              num_remote_frames=model_cfg.remote.num_frames,
                              delay_frames_range=(0, max_delay_frames), uplink_quality=None)


def miou(result: Dict) -> float:
    """The 19-class mIoU (%) of an ``evaluate()`` dict: the sweeps' default metric."""
    return result["mIoU"]


def _batches(dataset, indices: Sequence[int], delay_frames: int, batch_size: int):
    for s in range(0, len(indices), batch_size):
        yield default_collate([dataset[(i, delay_frames)] for i in indices[s:s + batch_size]])


def score_logits(evaluator: SemSegEvaluator, logits: torch.Tensor, label: torch.Tensor) -> None:
    if tuple(logits.shape[-2:]) != tuple(label.shape[-2:]):
        logits = F.interpolate(logits, size=tuple(label.shape[-2:]), mode="bilinear", align_corners=False)
    evaluator.process(logits.argmax(1), label)


def _fps(dataset) -> float:
    return float(dataset.sources[0].fps)


def fused_logits(dedelayed, image: torch.Tensor, encoded: torch.Tensor, ages: torch.Tensor) -> torch.Tensor:
    z = dedelayed.remote.features_from_encoded(encoded, ages, stage1_grid(tuple(image.shape[-2:])))
    return dedelayed.local(image, z)


@torch.no_grad()
def delay_sweep(local, dedelayed, dataset, indices: Sequence[int], delays: Sequence[int],
                batch_size: int = 8, methods: Sequence[str] = METHODS,
                details: Optional[Dict] = None) -> Dict[str, List[float]]:
    """Fig. 6: {method: [mIoU % per delay in ``delays``]} (local/dedelayed in eval mode).
    ``details``, if given, is filled with {method: [``SemSegEvaluator.evaluate()`` dict per delay]}
    (per-class IoU, pixel accuracy)."""
    out = {m: [] for m in methods}
    full = {m: [] for m in methods}
    local_results = {}
    remote = dedelayed.remote
    for d in delays:
        ev = {m: SemSegEvaluator() for m in methods}
        for b in _batches(dataset, indices, d, batch_size):
            image, label, ages = b["image"], b["label"], b["frame_ages_ms"]
            hw = tuple(label.shape[-2:])
            encoded = remote.encode_frames(b["remote_frames"])          # (B, K, d, h, w)
            if "local image" in ev and "local image" not in local_results:
                score_logits(ev["local image"], local(image), label)
            if "local only" in ev and "local only" not in local_results:
                score_logits(ev["local only"], dedelayed.local(image), label)
            if "remote image" in ev:
                still = encoded[:, -1:].expand_as(encoded).contiguous()
                score_logits(ev["remote image"], remote.segment_encoded(still, torch.zeros_like(ages), hw), label)
            if "remote video" in ev:
                score_logits(ev["remote video"], remote.segment_encoded(encoded, ages - ages[:, -1:], hw), label)
            if "remote predictive" in ev:
                score_logits(ev["remote predictive"], remote.segment_encoded(encoded, ages, hw), label)
            if "dedelayed" in ev:
                score_logits(ev["dedelayed"], fused_logits(dedelayed, image, encoded, ages), label)
        for m in methods:
            if m in LOCAL_METHODS:
                result = local_results.setdefault(m, ev[m].evaluate())
            else:
                result = ev[m].evaluate()
            full[m].append(result)
            out[m].append(result["mIoU"])
    if details is not None:
        details.update(full)
    return out


@torch.no_grad()
def jitter_matrix(dedelayed, dataset, indices: Sequence[int], input_delays: Sequence[int],
                  observed_delays: Sequence[int], batch_size: int = 8,
                  metric: Callable[[Dict], float] = miou) -> List[List[float]]:
    """Fig. 9: M[i][j] = dedelayed mIoU % (``metric`` of the evaluate() dict) with delay input
    input_delays[i] (frames) on clips whose observed delay is observed_delays[j] (frames)."""
    fps = _fps(dataset)
    rows = [[None] * len(observed_delays) for _ in input_delays]
    for j, d_obs in enumerate(observed_delays):
        evs = [SemSegEvaluator() for _ in input_delays]
        for b in _batches(dataset, indices, d_obs, batch_size):
            ages = b["frame_ages_ms"]
            encoded = dedelayed.remote.encode_frames(b["remote_frames"])
            for ev, d_in in zip(evs, input_delays):
                ages_in = ages - ages[:, -1:] + delay_frames_to_ms(d_in, fps)
                score_logits(ev, fused_logits(dedelayed, b["image"], encoded, ages_in), b["label"])
        for i, ev in enumerate(evs):
            rows[i][j] = metric(ev.evaluate())
    return rows


def binned_normal_pmf(mean_ms: float, sigma_ms: float, observed_delays: Sequence[int],
                      frame_ms: float) -> List[float]:
    """P(observed delay rounds to each of ``observed_delays`` frames) for N(mean_ms, sigma_ms^2).
    Bin j covers [(d_j - 0.5) * frame_ms, (d_j + 0.5) * frame_ms); mass outside the first/last
    bin goes to that boundary bin. sigma 0 puts all mass on the nearest bin."""
    if sigma_ms <= 0:
        nearest = min(range(len(observed_delays)),
                      key=lambda j: abs(observed_delays[j] * frame_ms - mean_ms))
        return [1.0 if j == nearest else 0.0 for j in range(len(observed_delays))]

    def cdf(x_ms):
        return 0.5 * (1 + math.erf((x_ms - mean_ms) / (sigma_ms * math.sqrt(2))))
    pmf = []
    for j, d in enumerate(observed_delays):
        lo = -math.inf if j == 0 else (d - 0.5) * frame_ms
        hi = math.inf if j == len(observed_delays) - 1 else (d + 0.5) * frame_ms
        pmf.append((1.0 if hi == math.inf else cdf(hi)) - (0.0 if lo == -math.inf else cdf(lo)))
    return pmf


def expected_under_jitter(matrix: Sequence[Sequence[float]], input_delays: Sequence[int],
                          observed_delays: Sequence[int], sigma_ms: float, frame_ms: float
                          ) -> List[float]:
    """Fig. 10: expected mIoU % per delay input when the observed delay ~ N(input, sigma^2)."""
    out = []
    for row, d_in in zip(matrix, input_delays):
        w = binned_normal_pmf(d_in * frame_ms, sigma_ms, observed_delays, frame_ms)
        out.append(float(sum(wi * m for wi, m in zip(w, row))))
    return out
