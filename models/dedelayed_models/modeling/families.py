"""Network families: the one table from a config's family name to the networks it builds.

    local family   (LocalConfig.family)      the robot's segmenter, split where z is added
    backbone       (RemoteConfig.backbone)   the cloud's per-frame image backbone, stride 8

``world`` is the project's own architecture (``local_model.py`` and the EfficientViT-like stack
in ``remote_model.py``), trained from scratch; ``espnetv2`` loads pretrained Cityscapes weights
(``espnetv2.py``, ``pretrained.py``). A new family (e.g. another pretrained backbone) is one
entry in each table: a builder returning a module with the interface below. Training, export,
checkpoints and the nodes only call these builders.

Local model interface: ``channels`` (C of z), ``stage1_shape(image_hw)``, ``split(x) -> (h,
skips)``, ``finish(h, skips, out_hw) -> logits`` and ``forward(x, z=None, remote_valid=None)``.
Backbone interface: ``forward(frames (N, 3, H, W) RGB [0, 1]) -> (N, out_channels, H/8, W/8)``
and an ``out_channels`` attribute.
"""

from __future__ import annotations

from typing import Callable, Dict

import torch.nn as nn

from .config import LocalConfig, RemoteConfig
from .espnetv2 import ESPNetv2Features, ESPNetv2Local
from .local_model import LocalModel
from .world_backbone import WorldBackbone


def _espnetv2_local(cfg: LocalConfig) -> nn.Module:
    return ESPNetv2Local(cfg.width, cfg.num_classes)


def _espnetv2_backbone(cfg: RemoteConfig) -> nn.Module:
    return ESPNetv2Features(cfg.backbone_width)


LOCAL_FAMILIES: Dict[str, Callable[[LocalConfig], nn.Module]] = {
    "world": LocalModel.from_config,
    "espnetv2": _espnetv2_local,
}
BACKBONES: Dict[str, Callable[[RemoteConfig], nn.Module]] = {
    "world": WorldBackbone,
    "espnetv2": _espnetv2_backbone,
}
LOCAL_CLASSES = (LocalModel, ESPNetv2Local)   # what a "local" checkpoint may hold


def build_local(cfg: LocalConfig) -> nn.Module:
    """The robot's local model of ``cfg.family`` (random initial weights)."""
    if cfg.family not in LOCAL_FAMILIES:
        raise ValueError(f"local family {cfg.family!r} unknown; choose one of {sorted(LOCAL_FAMILIES)}")
    return LOCAL_FAMILIES[cfg.family](cfg)


def build_image_backbone(cfg: RemoteConfig) -> nn.Module:
    """The remote's per-frame stride-8 image backbone of ``cfg.backbone`` (random initial weights)."""
    if cfg.backbone not in BACKBONES:
        raise ValueError(f"remote backbone {cfg.backbone!r} unknown; choose one of {sorted(BACKBONES)}")
    return BACKBONES[cfg.backbone](cfg)
