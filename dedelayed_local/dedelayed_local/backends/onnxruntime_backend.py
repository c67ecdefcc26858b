"""onnxruntime backend: the exported robot graph (inputs image, remote_features, remote_valid)."""

from typing import Optional

import numpy as np

from dedelayed_local.backends.base import SegmenterBackend
from dedelayed_models.export.graphs import CLASS_IDS, IMAGE, REMOTE_FEATURES, REMOTE_VALID, ROBOT_INPUTS


class OnnxRuntimeBackend(SegmenterBackend):
    name = "onnxruntime"

    def __init__(self, onnx_path: str, image_hw, feature_shape, device: str = "cpu"):
        super().__init__(image_hw, feature_shape)
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError("device 'cuda' requested but this onnxruntime has no CUDA "
                                   "provider; install onnxruntime-gpu or set device to 'cpu'")
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(onnx_path, providers=providers)
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
