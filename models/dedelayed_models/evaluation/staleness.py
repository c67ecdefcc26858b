"""How much a *perfect* label loses when it arrives late: the oracle bound of remote inference.

``stale_label_curve(labels, delays)`` scores label t-D against label t over a sequence (one
confusion matrix over all frames t >= max delay, so every delay sees the same frames).
``on_output_grid(label, stride_px)`` is what a model whose logits live on a stride-``stride_px``
grid (bilinearly up-sampled) can draw at best: the bound of the shipped models' outputs.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ..classes import IGNORE_ID, NUM_CLASSES
from .semseg import SemSegEvaluator


def on_output_grid(label: np.ndarray, stride_px: int) -> np.ndarray:
    """(H, W) trainIds -> (H, W) trainIds as seen through a stride-``stride_px`` output grid:
    per-class area fractions pooled over stride x stride cells, bilinearly up-sampled, argmax."""
    ids = torch.from_numpy(label.astype(np.int64))
    ids[ids == IGNORE_ID] = NUM_CLASSES                      # void is its own (never drawn) class
    onehot = F.one_hot(ids, NUM_CLASSES + 1).permute(2, 0, 1)[None].float()
    pooled = F.avg_pool2d(onehot, stride_px, ceil_mode=True)
    up = F.interpolate(pooled, size=label.shape, mode="bilinear", align_corners=False)
    return up[0, :NUM_CLASSES].argmax(0).numpy().astype(np.uint8)


def stale_label_curve(label_at, num_frames: int, delays_frames, output_stride_px: int = 1,
                      **evaluator_kwargs) -> dict:
    """label_at: callable t -> (H, W) trainIds. Returns {delay_frames: evaluate() dict}.

    output_stride_px > 1 delivers the stale label through ``on_output_grid`` (scored against the
    exact current label)."""
    delays = sorted(int(d) for d in delays_frames)
    if num_frames <= delays[-1]:
        raise ValueError(f"{num_frames} frames cannot show a delay of {delays[-1]} frames")
    evaluators = {d: SemSegEvaluator(**evaluator_kwargs) for d in delays}
    delivered = {}                 # frame -> label as delivered; each frame serves every delay
    for t in range(delays[-1], num_frames):
        current = label_at(t)
        for d in delays:
            if t - d not in delivered:
                stale = label_at(t - d)
                delivered[t - d] = stale if output_stride_px <= 1 else on_output_grid(stale, output_stride_px)
            evaluators[d].process(delivered[t - d], current)
        delivered.pop(t - delays[-1], None)           # no later t looks this far back
    return {d: e.evaluate() for d, e in evaluators.items()}
