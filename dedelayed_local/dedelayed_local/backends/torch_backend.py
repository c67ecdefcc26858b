"""PyTorch backend: the LocalModel itself (CPU or CUDA)."""

from typing import Optional

import numpy as np
import torch

from dedelayed_local.backends.base import SegmenterBackend


class TorchBackend(SegmenterBackend):
    name = "torch"

    def __init__(self, robot_model, device: str = "cpu", cpu_threads: int = 0):
        super().__init__(robot_model.image_hw, robot_model.feature_shape)
        if cpu_threads > 0:
            torch.set_num_threads(int(cpu_threads))   # process-wide: the robot process's pool
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(f"device '{device}' requested but torch sees no CUDA GPU; "
                               "set device to 'cpu'")
        self.device = torch.device(device)
        self.local = robot_model.local.to(self.device).eval()

    @torch.inference_mode()
    def segment(self, image: np.ndarray, z: Optional[np.ndarray]) -> np.ndarray:
        x = torch.from_numpy(image).to(self.device)
        z_t = None if z is None else torch.from_numpy(z).to(self.device).unsqueeze(0)
        logits = self.local(x, z_t)
        return logits[0].argmax(dim=0).to(torch.int32).cpu().numpy()
