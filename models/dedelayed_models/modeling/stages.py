"""The training stages (paper Table 2): the one table of what each stage trains and computes.

    stage                   trains                                        computes (the loss's logits)
    remote                  remote predictive pretraining (delay-aware):  remote predictive head
                            the whole remote trunk (image backbone, patch
                            merge, time/position/frame-age embeddings,
                            3-D ViT) and the predictive head; pre_pool /
                            post_pool are not on that path
    remote_frozen_backbone  Table 2 remote stage 1: as "remote" with the  remote predictive head
                            image backbone frozen
    local                   local segmenter alone (delay-unaware): every  local model alone
                            local parameter
    fusion                  fused fine-tuning (delay-aware): the local    fused: local(x, z)
                            model and the remote MLP-pool-MLP (pre_pool,
                            post_pool) that shapes z for it; the remote
                            backbone, 3-D encoder (with its embeddings)
                            and the unused predictive head stay frozen
    streaming               the robot's model for streaming use, from a   fused: local(x, z), and
                            fusion result: the local model only, so z     local(x) for the share
                            and the remote identity stay the fused        of samples the trainer
                            model's (one cloud serves both); trained on   drops z from
                            output-lagged samples (its output is used
                            one camera frame after its frame) with and
                            without z, so the fallback learns it too

``trainable_parameters`` / ``prepare_stage`` read the "trains" column, ``stage_logits`` the
"computes" one; the trainer and the training-config check use ``STAGES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from .dedelayed import DedelayedModel

REMOTE_HEAD, LOCAL_ONLY, FUSED = "remote predictive head", "local model alone", "fused"

_REMOTE_TRUNK = ("remote.image_backbone", "remote.patch_merge", "remote.time_embedding",
                 "remote.pos", "remote.delay_embedding", "remote.vit3d", "remote.norm")


@dataclass(frozen=True)
class Stage:
    trains: Tuple[str, ...]    # parameter-name prefixes the stage optimises; every other is frozen
    computes: str              # REMOTE_HEAD, LOCAL_ONLY or FUSED: the forward the loss sees


STAGE_TABLE: Dict[str, Stage] = {
    "remote": Stage(_REMOTE_TRUNK + ("remote.head",), REMOTE_HEAD),
    "remote_frozen_backbone": Stage(tuple(p for p in _REMOTE_TRUNK if p != "remote.image_backbone")
                                    + ("remote.head",), REMOTE_HEAD),
    "local": Stage(("local",), LOCAL_ONLY),
    "fusion": Stage(("local", "remote.pre_pool", "remote.post_pool"), FUSED),
    "streaming": Stage(("local",), FUSED),
}
STAGES = tuple(STAGE_TABLE)


def stage_of(name: str) -> Stage:
    """The table row of stage ``name``; a clear error naming the stages for any other name."""
    if name not in STAGE_TABLE:
        raise ValueError(f"unknown training stage '{name}'; choose one of {STAGES}")
    return STAGE_TABLE[name]


def _in_stage(name: str, prefixes: Tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def trainable_parameters(model: DedelayedModel, stage: str) -> List[Tuple[str, nn.Parameter]]:
    """(name, parameter) pairs that ``stage`` trains; every other parameter stays frozen."""
    prefixes = stage_of(stage).trains
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


def stage_logits(model: DedelayedModel, stage: str, image: torch.Tensor, frames: torch.Tensor,
                 frame_ages_ms: torch.Tensor, remote_valid: Optional[torch.Tensor] = None
                 ) -> torch.Tensor:
    """The logits (B, 19, H, W) ``stage`` trains against the labels of the fresh frame.

    image (B, 3, H, W), frames (B, K, 3, Hr, Wr) oldest first, frame_ages_ms (B, K) [ms];
    remote_valid (B,) 0/1 (fused stages only): samples with 0 take the local-only path. The
    remote predictive head's logits are up-sampled to H x W.
    """
    computes = stage_of(stage).computes
    if computes == REMOTE_HEAD:
        return model.remote(frames, frame_ages_ms, label_hw=tuple(image.shape[-2:]))
    if computes == LOCAL_ONLY:
        return model.local(image)
    return model(image, frames, frame_ages_ms, remote_valid)
