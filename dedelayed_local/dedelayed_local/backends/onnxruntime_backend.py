"""onnxruntime backend: the exported robot graph (inputs image, remote_features, remote_valid)."""

from typing import Optional

import numpy as np

from dedelayed_local.backends.base import SegmenterBackend
from dedelayed_models.export.graphs import CLASS_IDS, IMAGE, REMOTE_FEATURES, REMOTE_VALID, ROBOT_INPUTS


def session_options(ort, cpu_threads: int):
    """0: onnxruntime's defaults (one spinning intra-op thread per core). Otherwise
    ``cpu_threads`` intra-op threads that sleep instead of spin-waiting between operators, so
    the segmenter leaves CPU to whatever else runs on the robot (measured in the demo: 1 thread
    took the robot process from 0.72 to 0.57 cores, median output latency 22 -> 33 ms)."""
    options = ort.SessionOptions()
    if cpu_threads == 0:
        return options
    options.intra_op_num_threads = int(cpu_threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class OnnxRuntimeBackend(SegmenterBackend):
    name = "onnxruntime"

    def __init__(self, onnx_path: str, image_hw, feature_shape, device: str = "cpu",
                 cpu_threads: int = 0):
        super().__init__(image_hw, feature_shape)
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError("device 'cuda' requested but this onnxruntime has no CUDA "
                                   "provider; install onnxruntime-gpu or set device to 'cpu'")
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(onnx_path, session_options(ort, cpu_threads),
                                            providers=providers)
        names = [i.name for i in self.session.get_inputs()]
        if names != list(ROBOT_INPUTS):
            raise ValueError(f"{onnx_path} has inputs {names}; expected the robot graph's "
                             f"{list(ROBOT_INPUTS)} (export it with "
                             "python -m dedelayed_models.export)")
        self._zeros = np.zeros((1, *self.feature_shape), dtype=np.float32)
        self._valid = np.ones(1, dtype=np.float32)
        self._invalid = np.zeros(1, dtype=np.float32)

    def segment(self, image: np.ndarray, z: Optional[np.ndarray]) -> np.ndarray:
        feeds = {IMAGE: image,
                 REMOTE_FEATURES: self._zeros if z is None else z[None],
                 REMOTE_VALID: self._invalid if z is None else self._valid}
        (class_ids,) = self.session.run([CLASS_IDS], feeds)
        return class_ids[0]
