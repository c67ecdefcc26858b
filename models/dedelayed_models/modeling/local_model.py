"""Local (robot-side) segmenter: the paper's MSTransformer2D role (section 4.2, appendix A.1).

    h  = T1(x)                      C x ceil(H/8) x ceil(W/8)   <- remote features z are added here
    h' = h + z                      (paper eq. 2; skipped when z is None)
    y  = h' + P2(T2(h')) + P3(T3(T2(h')))   multi-scale sum at T1's grid
    logits = seg_head(y), bilinearly up-sampled to H x W

T1 is a convolutional stem (three stride-2 steps, MBConv blocks); T2 (stride 16) and T3
(stride 32) are a stride-2 MBConv followed by transformer blocks. P2/P3 are 1x1 projections
to C followed by a bilinear resize to T1's grid, so H and W need not be multiples of 32
(e.g. 120x216 -> T1 15x27, T2 8x14, T3 4x7).

Input convention: RGB float in [0, 1], NCHW; ImageNet normalisation happens inside T1.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import LocalConfig
from .fusion import fuse, stage1_grid
from .layers import ConvBNAct, InputNormalize, MBConv, TransformerBlock2D, dims


class LocalModel(nn.Module):
    """Light multi-stage segmenter with an additive fusion point after T1."""

    def __init__(self, cfg: LocalConfig):
        """cfg: every width and depth (its defaults are the paper's)."""
        super().__init__()
        c1, c2, c3 = cfg.channels
        e, head_dim, mlp_ratio = cfg.expand_ratio, cfg.head_dim, cfg.mlp_ratio
        self.channels = c1
        self.T1 = nn.Sequential(
            InputNormalize(),
            ConvBNAct(3, max(c1 // 4, 8), 3, 2),                                 # stride 2
            MBConv(max(c1 // 4, 8), c1 // 2, 2, e),                              # stride 4
            MBConv(c1 // 2, c1, 2, e),                                           # stride 8
            *[MBConv(c1, c1, 1, e) for _ in range(cfg.t1_depth)])
        self.T2 = nn.Sequential(
            MBConv(c1, c2, 2, e),                                                # stride 16
            *[TransformerBlock2D(c2, head_dim, mlp_ratio) for _ in range(cfg.t2_depth)])
        self.T3 = nn.Sequential(
            MBConv(c2, c3, 2, e),                                                # stride 32
            *[TransformerBlock2D(c3, head_dim, mlp_ratio) for _ in range(cfg.t3_depth)])
        self.P2 = ConvBNAct(c2, c1, 1, act=False)
        self.P3 = ConvBNAct(c3, c1, 1, act=False)
        self.seg_head = nn.Sequential(ConvBNAct(c1, c1, 3), nn.Conv2d(c1, cfg.num_classes, 1))

    @classmethod
    def from_config(cls, cfg: LocalConfig) -> "LocalModel":
        """``LocalModel(cfg)``, named like ``RemoteModel.from_config``."""
        return cls(cfg)

    def local_stage1(self, x: torch.Tensor) -> torch.Tensor:
        """h = T1(x): (B, 3, H, W) RGB in [0, 1] -> (B, C, ceil(H/8), ceil(W/8))."""
        return self.T1(x)

    def stage1_shape(self, image_hw: Tuple[int, int]) -> Tuple[int, int, int]:
        """(C, h, w) of T1's output -- the exact shape remote features z must have."""
        return (self.channels, *stage1_grid(image_hw))

    def split(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """The family interface (``families.py``): (h = T1(x), no skips)."""
        return self.local_stage1(x), ()

    def finish(self, h: torch.Tensor, skips: Tuple[torch.Tensor, ...], out_hw: Tuple[int, int]
               ) -> torch.Tensor:
        """The family interface: ``decode`` (this family uses no skips)."""
        return self.decode(h, out_hw)

    def decode(self, h: torch.Tensor, out_hw: Tuple[int, int]) -> torch.Tensor:
        """Remaining local model after fusion: (B, C, h, w) -> logits (B, classes, *out_hw)."""
        grid = dims(h)[-2:]
        h2 = self.T2(h)
        h3 = self.T3(h2)
        y = h + F.interpolate(self.P2(h2), size=grid, mode="bilinear", align_corners=False)
        y = y + F.interpolate(self.P3(h3), size=grid, mode="bilinear", align_corners=False)
        logits = self.seg_head(y)
        return F.interpolate(logits, size=tuple(out_hw), mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor, z: Optional[torch.Tensor] = None,
                remote_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Segment the fresh frame x, optionally fused with remote features z.

        x: (B, 3, H, W) float RGB in [0, 1].
        z: None (local-only fallback: the exact local computation) or (B, C, ceil(H/8), ceil(W/8))
           remote features for this frame.
        remote_valid: None, or (B,) 0/1 per sample: 0 computes that sample exactly as the
           local-only fallback (training the fallback inside a fused batch).
        Returns logits (B, num_classes, H, W).
        """
        h = self.local_stage1(x)
        if z is not None:
            h = fuse(h, z, remote_valid)
        return self.decode(h, dims(x)[-2:])
