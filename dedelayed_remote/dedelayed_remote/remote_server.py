"""The cloud's inference core: one batched forward pass for every robot with a ready frame.

    snapshots (one per ready robot: K frames + its own delay_ms)
      -> frames (B, K, Hr, Wr, 3) uint8 on the host -> device -> (B, K, 3, Hr, Wr) float [0, 1]
      -> remote.features(frames, delay_ms (B,), stage1_grid(local_hw)) -> z (B, C, H/8, W/8)
      -> per robot: encode_features(z[b], encoding) -> EncodedFeatures for a FeatureMap

Frames travel to the device as uint8 (a quarter of the bytes of float32) and are scaled there.
Timing per robot (FeatureMap.remote_compute_ms) = its newest frame's decode + the batch's
forward (shared: the robot waited for the whole batch) + its own encode.
Plain Python, no rclpy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from dedelayed_models.modeling import stage1_grid
from dedelayed_models.transport import ENCODINGS, EncodedFeatures, encode_features

from .robot_context import ContextSnapshot
from .served_model import ServedModel


@dataclass(frozen=True)
class ServedFeatures:
    """One robot's answer from one batch."""

    snapshot: ContextSnapshot
    encoded: Optional[EncodedFeatures]   # None when encoding refused the features (see error)
    error: str                           # "" on success
    batch_size: int                      # robots in the forward pass that produced it
    forward_ms: float                    # the whole batch's host->device + forward + device->host [ms]
    encode_ms: float                     # this robot's payload encoding [ms]

    @property
    def robot(self) -> str:
        return self.snapshot.robot

    @property
    def compute_ms(self) -> float:
        """decode + forward + encode [ms], what FeatureMap.remote_compute_ms carries."""
        return self.snapshot.newest.decode_ms + self.forward_ms + self.encode_ms


class RemoteServer:
    """Batched remote features for robots whose local model takes local_hw inputs."""

    def __init__(self, served: ServedModel, *, local_hw: Tuple[int, int],
                 feature_encoding: str = "float16"):
        if feature_encoding not in ENCODINGS:
            raise ValueError(f"feature_encoding '{feature_encoding}' is unknown; use one of {ENCODINGS}")
        height, width = (int(v) for v in local_hw)
        if height <= 0 or width <= 0:
            raise ValueError(f"local_hw must be positive (H, W) pixels, got {local_hw}")
        self.served = served
        self.local_hw = (height, width)
        self.out_hw = stage1_grid(self.local_hw)
        self.feature_encoding = feature_encoding

    @property
    def feature_shape(self) -> Tuple[int, int, int]:
        """(C, ceil(H/8), ceil(W/8)) of every z this server sends."""
        return (int(self.served.remote.out_channels), *self.out_hw)

    def forward_batch(self, frames_uint8: np.ndarray, delay_ms: Sequence[float]) -> Tuple[np.ndarray, float]:
        """frames_uint8 (B, K, Hr, Wr, 3) uint8 RGB, oldest first; delay_ms (B,) [ms].

        Returns (z (B, C, h, w) float32 on the host, forward_ms).
        """
        frames_uint8 = np.asarray(frames_uint8)
        k, (hr, wr) = self.served.num_frames, self.served.remote_hw
        if frames_uint8.dtype != np.uint8 or frames_uint8.shape[1:] != (k, hr, wr, 3):
            raise ValueError(f"frames must be (B, {k}, {hr}, {wr}, 3) uint8 RGB, got "
                             f"{frames_uint8.shape} {frames_uint8.dtype}")
        device = self.served.device
        start = time.perf_counter()
        with torch.inference_mode():
            frames = torch.from_numpy(frames_uint8).to(device, non_blocking=True)
            frames = frames.permute(0, 1, 4, 2, 3).float().div_(255.0).contiguous()
            delays = torch.as_tensor(np.asarray(delay_ms, dtype=np.float32), device=device)
            z = self.served.remote.features(frames, delays, self.out_hw)
            z_host = z.float().cpu().numpy()   # synchronises the device, so the timing is real
        return z_host, (time.perf_counter() - start) * 1e3

    def warm_up(self, delay_ms: float = 0.0) -> float:
        """One forward pass on a black context (B = 1); returns its time [ms].

        The first pass pays for CUDA context creation and kernel selection; doing it at start-up
        keeps that out of the first robot's answer and proves the settings run.
        """
        k, (hr, wr) = self.served.num_frames, self.served.remote_hw
        return self.forward_batch(np.zeros((1, k, hr, wr, 3), np.uint8), [delay_ms])[1]

    def remote_segmentation(self, snapshots: Sequence[ContextSnapshot]) -> Tuple[np.ndarray, float]:
        """The cloud's own delay-unaware answer: (B, H, W) uint8 trainIds at local_hw, and its ms.

        The predictive head (``RemoteModel.forward``) on the same K frames with delay input 0,
        i.e. "what the newest uplinked frame shows", as a plain remote image model would answer.
        It describes the frame it was computed from; by the time it reaches the robot that frame
        is a round trip old. Used only as the remote-only baseline of the demo (off by default):
        it costs a second forward pass.
        """
        if not snapshots:
            return np.zeros((0, *self.local_hw), np.uint8), 0.0
        frames_uint8 = np.stack([np.stack(s.frames) for s in snapshots])   # (B, K, Hr, Wr, 3)
        start = time.perf_counter()
        with torch.inference_mode():
            frames = torch.from_numpy(frames_uint8).to(self.served.device)
            frames = frames.permute(0, 1, 4, 2, 3).float().div_(255.0).contiguous()
            zero_delay = torch.zeros(len(snapshots), device=self.served.device)
            logits = self.served.remote(frames, zero_delay, label_hw=self.local_hw)
            class_ids = logits.argmax(dim=1).to(torch.uint8).cpu().numpy()
        return class_ids, (time.perf_counter() - start) * 1e3

    def serve(self, snapshots: Sequence[ContextSnapshot]) -> List[ServedFeatures]:
        """One forward pass for all snapshots (each with its own delay); answers in input order."""
        if not snapshots:
            return []
        frames = np.stack([np.stack(s.frames) for s in snapshots])          # (B, K, Hr, Wr, 3)
        z, forward_ms = self.forward_batch(frames, [s.delay_ms for s in snapshots])
        answers = []
        for snapshot, z_robot in zip(snapshots, z):
            start = time.perf_counter()
            try:
                encoded, error = encode_features(z_robot, self.feature_encoding), ""
            except ValueError as exc:   # non-finite z, or beyond float16's range
                encoded, error = None, str(exc)
            answers.append(ServedFeatures(snapshot=snapshot, encoded=encoded, error=error,
                                          batch_size=len(snapshots), forward_ms=forward_ms,
                                          encode_ms=(time.perf_counter() - start) * 1e3))
        return answers
