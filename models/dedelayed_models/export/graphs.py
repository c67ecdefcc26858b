"""The exact computations that become the two ONNX graphs (and the TensorRT engines built from them).

Robot graph -- one engine serves fused and fallback frames:
    inputs  image            (1, 3, H, W)        float32 RGB in [0, 1], NCHW (no mean/std: done inside)
            remote_features  (1, C, h, w)        float32, h = ceil(H/8), w = ceil(W/8); zeros when unused
            remote_valid     (1,)                float32, 1.0 = fuse remote_features, 0.0 = local-only
    outputs logits           (1, 19, H, W)       float32 class scores
            class_ids        (1, H, W)           int32 argmax trainId 0-18 (int32 because TensorRT
                                                 has no int64 and uint8 outputs are not universal;
                                                 cast to uint8 for the mono8 topic)

Remote features graph:
    inputs  frames           (1, K, 3, Hr, Wr)   float32 RGB in [0, 1], oldest first, newest = t - tau
            frame_ages_ms    (1, K)              float32 each frame's age at the target [ms]
    output  remote_features  (1, C, h, w)        float32 z for a robot whose local input is H x W
"""

from __future__ import annotations

from typing import Tuple

import torch
import torch.nn as nn

from ..data.timing import DEFAULT_FPS, frame_period_ms
from ..modeling.fusion import fuse, stage1_grid
from ..modeling.layers import dims
from ..modeling.remote_model import RemoteModel, context_ages_ms

# The ONNX tensor names: the exporter, its sidecar and the robot's onnxruntime and TensorRT
# backends all use these.
IMAGE, REMOTE_FEATURES, REMOTE_VALID = "image", "remote_features", "remote_valid"
LOGITS, CLASS_IDS = "logits", "class_ids"
FRAMES, FRAME_AGES_MS = "frames", "frame_ages_ms"
ROBOT_INPUTS = (IMAGE, REMOTE_FEATURES, REMOTE_VALID)
ROBOT_OUTPUTS = (LOGITS, CLASS_IDS)
REMOTE_INPUTS = (FRAMES, FRAME_AGES_MS)
REMOTE_OUTPUTS = (REMOTE_FEATURES,)


class RobotGraph(nn.Module):
    """h = T1(image) + remote_valid * remote_features, then the rest of the local model (any
    family in ``modeling/families.py``)."""

    def __init__(self, local: nn.Module):
        super().__init__()
        self.local = local

    def forward(self, image: torch.Tensor, remote_features: torch.Tensor,
                remote_valid: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h, skips = self.local.split(image)
        logits = self.local.finish(fuse(h, remote_features, remote_valid), skips, dims(image)[-2:])
        return logits, logits.argmax(dim=1).to(torch.int32)

    def example_inputs(self, image_hw: Tuple[int, int]) -> Tuple[torch.Tensor, ...]:
        c, h, w = self.local.stage1_shape(image_hw)
        return (torch.rand(1, 3, *image_hw), torch.randn(1, c, h, w), torch.ones(1))


class RemoteFeaturesGraph(nn.Module):
    """z = remote.features(frames, frame_ages_ms) at a fixed local T1 grid."""

    def __init__(self, remote: RemoteModel, image_hw: Tuple[int, int]):
        super().__init__()
        self.remote = remote
        self.grid_hw = stage1_grid(image_hw)

    def forward(self, frames: torch.Tensor, frame_ages_ms: torch.Tensor) -> torch.Tensor:
        return self.remote.features(frames, frame_ages_ms, self.grid_hw)

    def example_inputs(self, remote_hw: Tuple[int, int]) -> Tuple[torch.Tensor, ...]:
        k = self.remote.num_frames
        return (torch.rand(1, k, 3, *remote_hw), context_ages_ms(66.0, frame_period_ms(DEFAULT_FPS), k))
