"""The fused system and its two-host split, plus the one definition of what each training stage trains.

Two hosts (paper Fig. 4):
    cloud:  z = model.remote.features(frames, frame_ages_ms, stage1_grid(image_hw)) -> FeatureMap
    robot:  logits = model.local(x_t, z)          # or model.local(x_t) when no usable z

``DedelayedModel.forward`` chains both for training and offline evaluation (paper appendix A.1).

Training stages (paper Table 2), names used by ``trainable_parameters`` / ``prepare_stage``:
    "remote"                 remote predictive pretraining (delay-aware): the whole remote trunk
                             (image backbone, patch merge, time/position/frame-age embeddings, 3-D ViT)
                             and the predictive head. pre_pool/post_pool are not on that path.
    "remote_frozen_backbone" Table 2 remote stage 1: as "remote" with the image backbone frozen.
    "local"                  local segmenter alone (delay-unaware): every local parameter.
    "fusion"                 fused fine-tuning (delay-aware): the local model and the remote
                             MLP-pool-MLP (pre_pool, post_pool) that shape z for it; the remote
                             image backbone and 3-D encoder (with its embeddings) stay frozen,
                             and so does the unused predictive head.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from .config import DedelayedConfig, get_config
from .fusion import stage1_grid
from .local_model import LocalModel
from .remote_model import AgesLike, RemoteModel

_REMOTE_TRUNK = ("remote.image_backbone", "remote.patch_merge", "remote.time_embedding",
                 "remote.pos", "remote.delay_embedding", "remote.vit3d", "remote.norm")

STAGE_TRAINABLE: Dict[str, Tuple[str, ...]] = {
    "remote": _REMOTE_TRUNK + ("remote.head",),
    "remote_frozen_backbone": tuple(p for p in _REMOTE_TRUNK if p != "remote.image_backbone")
                              + ("remote.head",),
    "local": ("local",),
    "fusion": ("local", "remote.pre_pool", "remote.post_pool"),
}
STAGES = tuple(STAGE_TRAINABLE)


class DedelayedModel(nn.Module):
    """Local segmenter + remote delay-conditioned video model, fused after local T1."""

    def __init__(self, *, local: LocalModel, remote: RemoteModel):
        super().__init__()
        if remote.out_channels != local.channels:
            raise ValueError(f"remote features have {remote.out_channels} channels but local T1 "
                             f"has {local.channels}; build both from the same preset")
        self.local, self.remote = local, remote

    @classmethod
    def from_config(cls, cfg: DedelayedConfig) -> "DedelayedModel":
        return cls(local=LocalModel.from_config(cfg.local),
                   remote=RemoteModel.from_config(cfg.remote, local_hw=cfg.local_hw))

    def remote_features(self, frames: torch.Tensor, frame_ages_ms: AgesLike,
                        image_hw: Tuple[int, int]) -> torch.Tensor:
        """Cloud side: z (B, C, ceil(H/8), ceil(W/8)) for a robot whose local input is image_hw;
        frame_ages_ms (B, K) [ms], target time minus each context frame's stamp."""
        return self.remote.features(frames, frame_ages_ms, stage1_grid(image_hw))

    def forward(self, x_local: torch.Tensor, frames: Optional[torch.Tensor] = None,
                frame_ages_ms: Optional[AgesLike] = None) -> torch.Tensor:
        """x_local (B, 3, H, W) fresh frame x_t in [0, 1]; frames (B, K, 3, Hr, Wr) oldest first;
        frame_ages_ms (B, K) their ages at t [ms]. frames None -> local-only.
        Returns logits (B, 19, H, W)."""
        if frames is None:
            return self.local(x_local)
        if frame_ages_ms is None:
            raise ValueError("frame_ages_ms is required with frames (the remote is time-conditioned)")
        return self.local(x_local, self.remote_features(frames, frame_ages_ms, x_local.shape[-2:]))


def build_model(preset_or_config="tiny") -> DedelayedModel:
    """DedelayedModel from a preset name or a DedelayedConfig (random initial weights)."""
    cfg = get_config(preset_or_config) if isinstance(preset_or_config, str) else preset_or_config
    return DedelayedModel.from_config(cfg)


def _in_stage(name: str, prefixes: Tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def trainable_parameters(model: DedelayedModel, stage: str) -> List[Tuple[str, nn.Parameter]]:
    """(name, parameter) pairs that ``stage`` trains; every other parameter stays frozen."""
    if stage not in STAGE_TRAINABLE:
        raise ValueError(f"unknown training stage '{stage}'; choose one of {STAGES}")
    prefixes = STAGE_TRAINABLE[stage]
    return [(n, p) for n, p in model.named_parameters() if _in_stage(n, prefixes)]


def prepare_stage(model: DedelayedModel, stage: str) -> List[nn.Parameter]:
    """Put ``model`` in training mode for ``stage``; returns the parameters to optimise.

    Sets requires_grad accordingly and switches every module with no trainable parameter left
    (frozen backbone BatchNorms in particular) to eval mode, so frozen parts keep their running
    statistics. Call it again after any ``model.train()``.
    """
    trainable = dict(trainable_parameters(model, stage))
    model.train()
    for name, p in model.named_parameters():
        p.requires_grad_(name in trainable)
    for module in model.modules():
        params = list(module.parameters())
        if params and not any(p.requires_grad for p in params):
            module.eval()
    return list(trainable.values())
