"""The world family's per-frame image backbone of the remote (paper Fig. 5, EfficientViT-L1-like).

conv stem (stride 2) -> MBConv stages (strides 4 and 8) -> ReLU linear-attention blocks at
stride 8. Trained from scratch on the synthetic world; ``families.py`` lists it beside the
pretrained backbones.
"""

from __future__ import annotations

import torch.nn as nn

from .config import RemoteConfig
from .layers import ConvBNAct, EfficientViTBlock, InputNormalize, MBConv


class WorldBackbone(nn.Sequential):
    """(N, 3, H, W) RGB in [0, 1] -> (N, stage_widths[1], ceil(H/8), ceil(W/8))."""

    def __init__(self, cfg: RemoteConfig):
        w1, w2 = cfg.stage_widths
        e, stem_width = cfg.backbone_expand_ratio, cfg.stem_width
        super().__init__(
            InputNormalize(),
            ConvBNAct(3, stem_width, 3, 2),                                     # stride 2
            *[MBConv(stem_width, stem_width, 1, 1) for _ in range(cfg.stem_depth)],
            MBConv(stem_width, w1, 2, e),                                       # stride 4
            *[MBConv(w1, w1, 1, e) for _ in range(cfg.stage_depths[0] - 1)],
            MBConv(w1, w2, 2, e),                                               # stride 8
            *[MBConv(w2, w2, 1, e) for _ in range(cfg.stage_depths[1] - 1)],
            *[EfficientViTBlock(w2, cfg.attn_head_dim, e) for _ in range(cfg.attn_depth)])
        self.out_channels = w2
