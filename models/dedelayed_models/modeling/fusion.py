"""The fusion point shared by both hosts: where z goes and what shape it must have.

Paper eq. 2 / appendix A.1: h' = T1(x_t) + z_{t-tau}. The remote host must produce z with
exactly T1's shape; ``stage1_grid`` is the one place that says what that grid is.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import torch

LOCAL_STAGE1_STRIDE = 8  # T1 downsamples by three 'same'-padded stride-2 steps


def stage1_grid(image_hw: Tuple[int, int]) -> Tuple[int, int]:
    """(h, w) of T1's output for a local input of image_hw = (H, W): (ceil(H/8), ceil(W/8))."""
    h, w = (int(v) for v in image_hw)
    return math.ceil(h / LOCAL_STAGE1_STRIDE), math.ceil(w / LOCAL_STAGE1_STRIDE)


def scaled_local_hw(image_hw: Tuple[int, int], factor: float) -> Tuple[int, int]:
    """(H, W) times ``factor``, each rounded to a multiple of T1's stride (at least one stride):
    the local input sizes of a resolution sweep (paper A.3 / Fig. 11)."""
    s = LOCAL_STAGE1_STRIDE
    return tuple(max(s, int(round(int(v) * factor / s)) * s) for v in image_hw)


def fuse(h: torch.Tensor, z: torch.Tensor, remote_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """h' = h + z, or h + remote_valid * z for a per-sample 0/1 flag of shape (B,).

    h, z: (B, C, h, w) float. With remote_valid == 0 the result equals h exactly as long as z is
    finite, which is why the robot passes zeros (not garbage) as z on fallback frames.
    """
    if z.shape[1:] != h.shape[1:]:
        raise ValueError(
            f"remote features shape {tuple(z.shape[1:])} does not match local stage-1 shape "
            f"{tuple(h.shape[1:])}; was the remote model built for this local resolution and preset?")
    if remote_valid is None:
        return h + z
    return h + remote_valid.reshape(-1, 1, 1, 1).to(z.dtype) * z
