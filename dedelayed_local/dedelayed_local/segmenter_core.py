"""One camera frame through the robot pipeline, without ROS: preprocess, pair with remote
features, run the backend, postprocess. The segmenter node wraps this; tests call it directly.
"""

import time
from dataclasses import dataclass, field
from typing import Dict, Optional

import cv2
import numpy as np

from dedelayed_local.backends.base import SegmenterBackend
from dedelayed_local.feature_store import FusionDecision
from dedelayed_local.robot_link import RobotLink
from dedelayed_models.classes import colorize

OVERLAY_ALPHA = 0.5  # weight of the class colours over the camera image in the overlay


@dataclass
class SegmentationResult:
    class_ids: np.ndarray              # (H, W) uint8 trainIds at the output size
    decision: FusionDecision           # fused or local-only, why, tau
    stage_ms: Dict[str, float] = field(default_factory=dict)  # per-stage wall time [ms]
    local_only_ids: Optional[np.ndarray] = None  # (H, W) uint8, when asked for comparison


def preprocess(rgb: np.ndarray, image_hw) -> np.ndarray:
    """(H0, W0, 3) uint8 RGB -> (1, 3, H, W) float32 in [0, 1] at the model's input size."""
    height, width = image_hw
    if rgb.shape[:2] != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32) * (1.0 / 255.0)


def postprocess(class_ids: np.ndarray, out_hw) -> np.ndarray:
    """(H, W) integer ids -> (H_out, W_out) uint8 (nearest neighbour keeps ids valid)."""
    ids = class_ids.astype(np.uint8)
    if ids.shape != tuple(out_hw):
        ids = cv2.resize(ids, (out_hw[1], out_hw[0]), interpolation=cv2.INTER_NEAREST)
    return ids


def overlay(rgb: np.ndarray, class_ids: np.ndarray) -> np.ndarray:
    """Class colours blended over the camera image, (H, W, 3) uint8 at the ids' size."""
    if rgb.shape[:2] != class_ids.shape:
        rgb = cv2.resize(rgb, (class_ids.shape[1], class_ids.shape[0]), interpolation=cv2.INTER_AREA)
    return cv2.addWeighted(rgb, 1.0 - OVERLAY_ALPHA, colorize(class_ids), OVERLAY_ALPHA, 0.0)


class LocalSegmenter:
    """Segments fresh frames, fusing the newest valid remote features when there are any.

    output_size: "camera" (labels at the camera image size, pixel-aligned for planners) or
    "model" (the local model's input size; cheaper).
    """

    def __init__(self, backend: SegmenterBackend, link: RobotLink,
                 output_size: str = "camera"):
        if output_size not in ("camera", "model"):
            raise ValueError(f"output_size '{output_size}' must be 'camera' or 'model'")
        if tuple(link.expected_shape) != tuple(backend.feature_shape):
            raise ValueError(f"the robot link expects remote features {link.expected_shape} but "
                             f"the backend's stage-1 shape is {backend.feature_shape}")
        self.backend, self.link, self.output_size = backend, link, output_size

    def segment(self, rgb: np.ndarray, stamp_ns: int, with_local_only: bool = False
                ) -> SegmentationResult:
        """rgb: (H0, W0, 3) uint8 camera frame stamped ``stamp_ns`` on the robot clock."""
        stage_ms = {}
        t0 = time.perf_counter()
        image = preprocess(rgb, self.backend.image_hw)
        t1 = time.perf_counter()
        decision = self.link.select(stamp_ns)
        z = decision.features.z if decision.features is not None else None
        t2 = time.perf_counter()
        ids = self.backend.segment(image, z)
        t3 = time.perf_counter()
        out_hw = rgb.shape[:2] if self.output_size == "camera" else self.backend.image_hw
        class_ids = postprocess(ids, out_hw)
        t4 = time.perf_counter()
        stage_ms.update(preprocess=(t1 - t0) * 1e3, pair=(t2 - t1) * 1e3,
                        network=(t3 - t2) * 1e3, postprocess=(t4 - t3) * 1e3)
        local_only = None
        if with_local_only:
            # Same frame, same instant, without z: the comparison baseline (demo, evaluation).
            local_only = class_ids if z is None else postprocess(self.backend.segment(image, None),
                                                                 out_hw)
            stage_ms["local_only_network"] = (time.perf_counter() - t4) * 1e3
        return SegmentationResult(class_ids, decision, stage_ms, local_only)
