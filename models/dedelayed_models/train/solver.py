"""Optimizer and schedule: Adan with layer-wise LR decay, trapezoidal cosine LR, gradient clipping.

Paper section 5: cross-entropy, Adan (Xie et al. 2024, from ``pytorch-optimizer``), a trapezoidal
cosine schedule and layer-wise learning-rate decay (LLRD, 0.9 for the local fine-tuning stages).
"""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn as nn

# Heads: the last "layer" for LLRD (full learning rate).
_HEAD_PREFIXES = ("local.P2", "local.P3", "local.seg_head", "remote.head", "remote.pre_pool",
                  "remote.post_pool", "remote.norm")


def layer_ids(names: Sequence[str]) -> Dict[str, int]:
    """Depth index of each parameter name for LLRD, in module order.

    A "layer" is a block of a sequential stage (``local.T1.3``, ``remote.vit3d.2``) or a
    top-level module (``remote.patch_merge``); heads/projections share the last index.
    """
    block_of = {}
    order: List[str] = []
    for n in names:
        parts = n.split(".")
        if any(n == p or n.startswith(p + ".") for p in _HEAD_PREFIXES):
            block = "<head>"
        elif len(parts) >= 3 and parts[2].isdigit():
            block = ".".join(parts[:3])
        else:
            block = ".".join(parts[:2])
        block_of[n] = block
        if block != "<head>" and block not in order:
            order.append(block)
    index = {b: i for i, b in enumerate(order)}
    index["<head>"] = len(order)
    return {n: index[b] for n, b in block_of.items()}


def param_groups(named: Sequence[Tuple[str, nn.Parameter]], *, lr: float, weight_decay: float,
                 layer_decay: float = 1.0) -> List[dict]:
    """Adan parameter groups: lr * layer_decay ** (depth_max - depth); no weight decay on
    1-D tensors (norms, biases) and embeddings. Each group carries ``lr_scale`` for the schedule."""
    ids = layer_ids([n for n, _ in named])
    top = max(ids.values(), default=0)
    groups: Dict[Tuple[int, bool], dict] = {}
    for name, p in named:
        no_wd = p.ndim <= 1 or "embedding" in name
        key = (ids[name], no_wd)
        if key not in groups:
            scale = layer_decay ** (top - ids[name])
            groups[key] = {"params": [], "lr": lr * scale, "lr_scale": scale,
                           "weight_decay": 0.0 if no_wd else weight_decay}
        groups[key]["params"].append(p)
    return [groups[k] for k in sorted(groups)]


def build_optimizer(named, solver: dict) -> torch.optim.Optimizer:
    from pytorch_optimizer import Adan
    groups = param_groups(named, lr=solver["lr"], weight_decay=solver["weight_decay"],
                          layer_decay=solver["layer_decay"])
    return Adan(groups, lr=solver["lr"], betas=tuple(solver["betas"]), weight_decay=solver["weight_decay"],
                weight_decouple=True)


def trapezoidal_cosine(iteration: int, max_iters: int, warmup_frac: float, decay_start_frac: float,
                       min_lr_ratio: float) -> float:
    """LR multiplier: linear warm-up to 1, plateau at 1, cosine decay to ``min_lr_ratio``."""
    warm = max(1, int(round(warmup_frac * max_iters)))
    start = max(warm, int(round(decay_start_frac * max_iters)))
    if iteration < warm:
        return (iteration + 1) / warm
    if iteration < start:
        return 1.0
    progress = min(1.0, (iteration - start) / max(1, max_iters - start))
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def build_scheduler(optimizer, solver: dict) -> torch.optim.lr_scheduler.LambdaLR:
    """LambdaLR of ``trapezoidal_cosine``; the groups' base lrs already include LLRD."""
    fn = lambda it: trapezoidal_cosine(it, solver["max_iters"], solver["warmup_frac"],  # noqa: E731
                                       solver["decay_start_frac"], solver["min_lr_ratio"])
    return torch.optim.lr_scheduler.LambdaLR(optimizer, fn)
