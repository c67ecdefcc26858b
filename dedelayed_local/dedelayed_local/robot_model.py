"""The robot's half of a Dedelayed model: local segmenter weights, input size, identities.

Loaded from a checkpoint (``dedelayed_models.modeling.save_checkpoint`` format). The expected
remote identity -- the remote model whose features this local model was trained to fuse --
comes from the same checkpoint unless overridden. For tests and bring-up without weights,
``RobotModel.random(preset, seed)`` takes the local half of
``dedelayed_models.modeling.random_model``, the recipe the cloud uses too, so identities match.
"""

import os
from dataclasses import dataclass
from typing import Optional, Tuple

import torch

from dedelayed_models.data.context_timing import DEFAULT_LIVE_DELAY_MS_RANGE
from dedelayed_models.modeling import load_checkpoint, random_model
from dedelayed_models.modeling.config import DedelayedConfig
from dedelayed_models.transport.z_bounds import ZBounds, bounds_for_checkpoint


@dataclass
class RobotModel:
    local: torch.nn.Module                 # LocalModel, eval mode, CPU
    config: DedelayedConfig
    image_hw: Tuple[int, int]              # local model input (H, W) [pixels]
    local_identity: str
    expected_remote_identity: str
    source: str                            # checkpoint path or "random:<preset>:<seed>"
    # Newest-frame ages [ms] the model was trained to fuse (the trainer records them in the
    # checkpoint); older checkpoints and random weights: the default live training range.
    trained_delay_ms: Tuple[float, float] = DEFAULT_LIVE_DELAY_MS_RANGE
    # Per-channel ranges of z seen in training, stored beside the checkpoint (None: not measured).
    z_bounds: Optional[ZBounds] = None

    @property
    def feature_shape(self) -> Tuple[int, int, int]:
        """(C, H/8, W/8): the shape remote features z must have."""
        return self.local.stage1_shape(self.image_hw)

    @classmethod
    def from_checkpoint(cls, path: str, image_hw: Tuple[int, int] = (0, 0),
                        expected_remote_identity: str = "") -> "RobotModel":
        loaded = load_checkpoint(path)
        local = loaded.model.local if loaded.kind == "dedelayed" else loaded.model
        if loaded.kind == "remote":
            raise ValueError(f"checkpoint {path} holds only a remote model; the robot needs a "
                             "local or dedelayed checkpoint")
        remote_identity = expected_remote_identity or loaded.identity.get("remote", "")
        if not remote_identity:
            remote_identity = str(loaded.extra.get("expected_remote_identity", ""))
        if not remote_identity:
            raise ValueError(f"checkpoint {path} does not say which remote model it fuses; set "
                             "the expected_remote_identity parameter")
        own_remote = loaded.identity.get("remote", "")
        bounds = bounds_for_checkpoint(path, own_remote) if remote_identity == own_remote else None
        return cls(local.eval(), loaded.config, _image_hw(loaded.config, image_hw),
                   loaded.identity["local"], remote_identity, path, loaded.trained_delay_ms,
                   bounds)

    @classmethod
    def random(cls, preset: str, seed: int = 0, image_hw: Tuple[int, int] = (0, 0)) -> "RobotModel":
        """The local half of ``random_model(preset, seed)``, which the cloud builds too."""
        built = random_model(preset, seed)
        return cls(built.model.local, built.config, _image_hw(built.config, image_hw),
                   built.identity["local"], built.identity["remote"], built.source)

    def export_onnx(self, cache_dir: str = "") -> str:
        """Export (once) the robot ONNX graph for this model and size; returns its path."""
        from dedelayed_models.export.onnx_export import export_robot_onnx

        folder = cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "dedelayed", "onnx")
        name = f"robot-{self.local_identity}-{self.image_hw[0]}x{self.image_hw[1]}.onnx"
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            os.makedirs(folder, exist_ok=True)
            partial = path + ".partial.onnx"
            export_robot_onnx(self.local, partial, image_hw=self.image_hw,
                              local_identity=self.local_identity,
                              expected_remote_identity=self.expected_remote_identity,
                              preset=self.config.name)
            os.replace(partial, path)  # a crash mid-export never leaves a half file at `path`
            os.replace(os.path.splitext(partial)[0] + ".json", os.path.splitext(path)[0] + ".json")
        return path


def _image_hw(config: DedelayedConfig, image_hw: Tuple[int, int]) -> Tuple[int, int]:
    """The requested local input size, or the preset's when (0, 0)."""
    if image_hw and image_hw[0] > 0 and image_hw[1] > 0:
        return (int(image_hw[0]), int(image_hw[1]))
    return tuple(config.local_hw)
