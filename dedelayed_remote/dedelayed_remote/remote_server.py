"""The cloud's inference core: one batched forward pass for every robot with a ready frame.

    snapshots (one per ready robot: K frames, their stamps, its own delay_ms)
      -> frames not yet in the per-frame feature cache: uint8 (N, Hr, Wr, 3) -> device -> float
         -> remote.encode_frames -> cached per robot and stamp (each frame through the 2-D
            backbone once, paper section 4.2)
      -> cached (B, K, d, h, w) + frame_ages_ms (B, K)
         -> remote.features_from_encoded(..., stage1_grid(local_hw)) -> z (B, C, H/8, W/8)
      -> per robot: encode_features(z[b], encoding) -> EncodedFeatures for a FeatureMap

An answer therefore costs the 3-D encoder over the K cached features plus the pooling, and the
backbone of the frames that are new since the last answer (usually one). ``feature_cache=False``
encodes all K frames for every answer (the uncached path, kept for the benchmark and the test
that both give the same z). Frames travel to the device as uint8 and are scaled there.
Timing per robot (FeatureMap.remote_compute_ms) = its newest frame's decode + the batch's
forward (shared: the robot waited for the whole batch) + its own encode.
Plain Python, no rclpy.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from dedelayed_models.modeling import stage1_grid
from dedelayed_models.transport import ENCODINGS, EncodedFeatures, encode_features

from .robot_context import ContextSnapshot, Stamp
from .served_model import ServedModel


class FrameFeatureCache:
    """Backbone output (d, h, w) per (robot, frame stamp), the newest ``capacity`` per robot.

    Used by the single inference worker only (not thread-safe). A robot's context holds at most
    K distinct stamps, so a capacity of 2K keeps every frame a later answer can still use.
    """

    def __init__(self, capacity: int):
        self.capacity = int(capacity)
        self._per_robot: Dict[str, "OrderedDict[Stamp, torch.Tensor]"] = {}
        self.frames_encoded = 0

    def get(self, robot: str, stamp: Stamp) -> Optional[torch.Tensor]:
        return self._per_robot.get(robot, {}).get(stamp)

    def put(self, robot: str, stamp: Stamp, encoded: torch.Tensor) -> None:
        entries = self._per_robot.setdefault(robot, OrderedDict())
        entries[stamp] = encoded
        while len(entries) > self.capacity:
            entries.popitem(last=False)
        self.frames_encoded += 1


@dataclass(frozen=True)
class ServedFeatures:
    """One robot's answer from one batch."""

    snapshot: ContextSnapshot
    encoded: Optional[EncodedFeatures]   # None when encoding refused the features (see error)
    error: str                           # "" on success
    batch_size: int                      # robots in the forward pass that produced it
    forward_ms: float                    # the whole batch's host->device + forward + device->host [ms]
    encode_ms: float                     # this robot's payload encoding [ms]
    class_ids: Optional[np.ndarray] = None   # (H, W) uint8 remote-only segmentation (serve(segment=True))

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
                 feature_encoding: str = "float16", feature_cache: bool = True):
        if feature_encoding not in ENCODINGS:
            raise ValueError(f"feature_encoding '{feature_encoding}' is unknown; use one of {ENCODINGS}")
        height, width = (int(v) for v in local_hw)
        if height <= 0 or width <= 0:
            raise ValueError(f"local_hw must be positive (H, W) pixels, got {local_hw}")
        self.served = served
        self.local_hw = (height, width)
        self.out_hw = stage1_grid(self.local_hw)
        self.feature_encoding = feature_encoding
        self.cache = FrameFeatureCache(2 * served.num_frames) if feature_cache else None

    @property
    def feature_shape(self) -> Tuple[int, int, int]:
        """(C, ceil(H/8), ceil(W/8)) of every z this server sends."""
        return (int(self.served.remote.out_channels), *self.out_hw)

    def _to_device(self, frames_uint8: np.ndarray) -> torch.Tensor:
        """(..., Hr, Wr, 3) uint8 RGB on the host -> (..., 3, Hr, Wr) float [0, 1] on the device."""
        frames = torch.from_numpy(np.ascontiguousarray(frames_uint8)).to(self.served.device,
                                                                         non_blocking=True)
        return frames.movedim(-1, -3).float().div_(255.0).contiguous()

    def encode_contexts(self, snapshots: Sequence[ContextSnapshot]) -> torch.Tensor:
        """(B, K, d, h, w) backbone features of the snapshots' frames: from the cache where it
        has them; the others go through the backbone (and into the cache)."""
        k, (hr, wr) = self.served.num_frames, self.served.remote_hw
        for s in snapshots:
            if len(s.frames) != k or any(f.shape != (hr, wr, 3) or f.dtype != np.uint8 for f in s.frames):
                raise ValueError(f"robot {s.robot!r}: context must be {k} frames of ({hr}, {wr}, 3) "
                                 f"uint8 RGB, got {[(f.shape, f.dtype.name) for f in s.frames]}")
        if self.cache is None:
            return torch.stack([torch.stack([self._encode_frame(f) for f in s.frames]) for s in snapshots])
        for s in snapshots:
            for stamp, pixels in zip(s.stamps, s.frames):
                if self.cache.get(s.robot, stamp) is None:
                    self.cache.put(s.robot, stamp, self._encode_frame(pixels))
        return torch.stack([torch.stack([self.cache.get(s.robot, st) for st in s.stamps])
                            for s in snapshots])

    def _encode_frame(self, pixels: np.ndarray) -> torch.Tensor:
        """One uplinked frame (Hr, Wr, 3) uint8 -> backbone features (d, h, w) on the device.

        Frame by frame, as frames arrive: CPU convolution kernels round differently for
        different batch sizes, and one frame at a time keeps the cached and uncached paths
        bit-identical (batching frames would save little: each is a full image)."""
        return self.served.remote.encode_frames(self._to_device(pixels[None, None]))[0, 0]

    def features_for(self, snapshots: Sequence[ContextSnapshot], segment: bool = False
                     ) -> Tuple[np.ndarray, float, Optional[np.ndarray]]:
        """z (B, C, h, w) float32 on the host for the snapshots (each with its own frame ages),
        the time of the whole batch (host->device, backbone of new frames, 3-D encoder and
        pooling, device->host) [ms], and with ``segment`` the remote-only segmentation of the
        same pass ((B, H, W) uint8 trainIds at local_hw, else None)."""
        start = time.perf_counter()
        remote = self.served.remote
        class_ids = None
        with torch.inference_mode():
            encoded = self.encode_contexts(snapshots)
            ages = torch.tensor([s.frame_ages_ms() for s in snapshots], dtype=torch.float32,
                                device=self.served.device)
            tokens = remote.forward_encoded(encoded, ages)                 # (B, d, K, h, w)
            z_host = remote.pool_features(tokens, self.out_hw).float().cpu().numpy()
            if segment:
                logits = remote.segment_tokens(tokens, self.local_hw)
                class_ids = logits.argmax(dim=1).to(torch.uint8).cpu().numpy()
        return z_host, (time.perf_counter() - start) * 1e3, class_ids

    def warm_up(self, delay_ms: float = 0.0) -> float:
        """One answer on a black context (B = 1, not cached); returns its time [ms].

        The first pass pays for CUDA context creation and kernel selection; doing it at start-up
        keeps that out of the first robot's answer and proves the settings run.
        """
        k, (hr, wr) = self.served.num_frames, self.served.remote_hw
        black = np.zeros((hr, wr, 3), np.uint8)
        snapshot = ContextSnapshot(robot="\0warm-up", frames=(black,) * k, stamps=(0,) * k,
                                   newest=None, delay_ms=float(delay_ms), real_frames=k)
        cache, self.cache = self.cache, None
        try:
            return self.features_for([snapshot], segment=True)[1]
        finally:
            self.cache = cache

    def serve(self, snapshots: Sequence[ContextSnapshot], segment: bool = False) -> List[ServedFeatures]:
        """One batched answer for all snapshots (each with its own frame ages), in input order;
        ``segment`` adds each robot's remote-only segmentation from the same pass."""
        if not snapshots:
            return []
        z, forward_ms, class_ids = self.features_for(snapshots, segment)
        answers = []
        for i, (snapshot, z_robot) in enumerate(zip(snapshots, z)):
            start = time.perf_counter()
            try:
                encoded, error = encode_features(z_robot, self.feature_encoding), ""
            except ValueError as exc:   # non-finite z, or beyond float16's range
                encoded, error = None, str(exc)
            answers.append(ServedFeatures(snapshot=snapshot, encoded=encoded, error=error,
                                          batch_size=len(snapshots), forward_ms=forward_ms,
                                          encode_ms=(time.perf_counter() - start) * 1e3,
                                          class_ids=None if class_ids is None else class_ids[i]))
        return answers
