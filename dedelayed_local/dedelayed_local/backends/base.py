"""The one interface every local segmenter backend implements."""

from abc import ABC, abstractmethod
from typing import Optional, Tuple

import numpy as np

BACKENDS = ("torch", "onnxruntime", "tensorrt")


class SegmenterBackend(ABC):
    """Runs the robot model: fresh frame (+ optional remote features) -> class ids.

    image_hw: (H, W) the local model's input size; feature_shape: (C, H/8, W/8) of z.
    """

    name = "abstract"

    def __init__(self, image_hw: Tuple[int, int], feature_shape: Tuple[int, int, int]):
        self.image_hw = tuple(image_hw)
        self.feature_shape = tuple(feature_shape)

    @abstractmethod
    def segment(self, image: np.ndarray, z: Optional[np.ndarray]) -> np.ndarray:
        """image: (1, 3, H, W) float32 RGB in [0, 1]; z: (C, H/8, W/8) float32 or None
        (local-only: the exact local model). Returns (H, W) int32 trainIds 0-18."""

    def close(self) -> None:
        """Release engines and device buffers."""


def create_backend(name: str, robot_model, *, device: str = "cpu", onnx_path: str = "",
                   engine_path: str = "", force_engine_rebuild: bool = False,
                   fp16: bool = True, cache_dir: str = "", cpu_threads: int = 0) -> SegmenterBackend:
    """Build the backend ``name`` for a loaded ``RobotModel`` (see robot_model.py);
    cpu_threads: intra-op threads of the CPU backends (0 = the library's default)."""
    if cpu_threads < 0:
        raise ValueError(f"cpu_threads {cpu_threads} is negative; give 0 (default: the library's "
                         "one thread per core) or a thread count")
    if name == "torch":
        from dedelayed_local.backends.torch_backend import TorchBackend
        return TorchBackend(robot_model, device=device, cpu_threads=cpu_threads)
    if name in ("onnxruntime", "tensorrt"):
        onnx_path = onnx_path or robot_model.export_onnx(cache_dir)
        if name == "onnxruntime":
            from dedelayed_local.backends.onnxruntime_backend import OnnxRuntimeBackend
            return OnnxRuntimeBackend(onnx_path, robot_model.image_hw, robot_model.feature_shape,
                                      device=device, cpu_threads=cpu_threads)
        from dedelayed_local.backends.tensorrt_backend import TensorRTBackend
        return TensorRTBackend(onnx_path, robot_model.image_hw, robot_model.feature_shape,
                               engine_path=engine_path, force_rebuild=force_engine_rebuild,
                               fp16=fp16, cache_dir=cache_dir)
    raise ValueError(f"backend '{name}' is unknown; set the backend parameter to one of {BACKENDS}")
