"""The fused system and its two-host split.

Two hosts (paper Fig. 4):
    cloud:  z = model.remote.features(frames, frame_ages_ms, stage1_grid(image_hw)) -> FeatureMap
    robot:  logits = model.local(x_t, z)          # or model.local(x_t) when no usable z

``DedelayedModel.forward`` chains both for training and offline evaluation (paper appendix A.1).
What each training stage trains and computes is the table in ``stages.py``.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn

from .config import DedelayedConfig, get_config
from .families import build_local
from .fusion import stage1_grid
from .remote_model import AgesLike, RemoteModel


class DedelayedModel(nn.Module):
    """Local segmenter + remote delay-conditioned video model, fused after local T1."""

    def __init__(self, *, local: nn.Module, remote: RemoteModel):
        super().__init__()
        if remote.out_channels != local.channels:
            raise ValueError(f"remote features have {remote.out_channels} channels but local T1 "
                             f"has {local.channels}; build both from the same preset")
        self.local, self.remote = local, remote

    @classmethod
    def from_config(cls, cfg: DedelayedConfig) -> "DedelayedModel":
        return cls(local=build_local(cfg.local),
                   remote=RemoteModel.from_config(cfg.remote, local_hw=cfg.local_hw))

    def remote_features(self, frames: torch.Tensor, frame_ages_ms: AgesLike,
                        image_hw: Tuple[int, int]) -> torch.Tensor:
        """Cloud side: z (B, C, ceil(H/8), ceil(W/8)) for a robot whose local input is image_hw;
        frame_ages_ms (B, K) [ms], target time minus each context frame's stamp."""
        return self.remote.features(frames, frame_ages_ms, stage1_grid(image_hw))

    def forward(self, x_local: torch.Tensor, frames: Optional[torch.Tensor] = None,
                frame_ages_ms: Optional[AgesLike] = None,
                remote_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x_local (B, 3, H, W) fresh frame x_t in [0, 1]; frames (B, K, 3, Hr, Wr) oldest first;
        frame_ages_ms (B, K) their ages at t [ms]. frames None -> local-only; remote_valid (B,)
        0/1 -> samples with 0 are local-only (see ``LocalModel.forward``, any family).
        Returns logits (B, 19, H, W)."""
        if frames is None:
            return self.local(x_local)
        if frame_ages_ms is None:
            raise ValueError("frame_ages_ms is required with frames (the remote is time-conditioned)")
        z = self.remote_features(frames, frame_ages_ms, x_local.shape[-2:])
        return self.local(x_local, z, remote_valid)


def build_model(preset_or_config="tiny") -> DedelayedModel:
    """DedelayedModel from a preset name or a DedelayedConfig (random initial weights)."""
    cfg = get_config(preset_or_config) if isinstance(preset_or_config, str) else preset_or_config
    return DedelayedModel.from_config(cfg)
