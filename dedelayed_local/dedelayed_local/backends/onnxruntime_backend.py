"""onnxruntime backend: the exported robot graph (inputs image, remote_features, remote_valid)."""

from typing import Optional

import numpy as np

from dedelayed_local.backends.base import SegmenterBackend


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
        if names != ["image", "remote_features", "remote_valid"]:
            raise ValueError(f"{onnx_path} has inputs {names}; expected the robot graph's "
                             "[image, remote_features, remote_valid] (export it with "
                             "python -m dedelayed_models.export)")
        self._zeros = np.zeros((1, *self.feature_shape), dtype=np.float32)
        self._valid = np.ones(1, dtype=np.float32)
        self._invalid = np.zeros(1, dtype=np.float32)

    def segment(self, image: np.ndarray, z: Optional[np.ndarray]) -> np.ndarray:
        feeds = {"image": image,
                 "remote_features": self._zeros if z is None else z[None],
                 "remote_valid": self._invalid if z is None else self._valid}
        (class_ids,) = self.session.run(["class_ids"], feeds)
        return class_ids[0]
