"""Which models the demo runs: the shipped trained checkpoint, or random weights (said loudly).

Robot and cloud must agree: the robot's local model only accepts features from the remote model
it was trained to fuse (its checkpoint names that remote identity). A dedelayed checkpoint holds
both halves, so both sides load the same file; with no checkpoint both build the random model
of the same preset and seed, which also gives matching identities.

Two shipped checkpoints share one remote model (same z, same identity):
``dedelayed_streaming.pt`` (the streaming stage: the robot's output is used one camera frame
after its frame, as in any running system) and ``dedelayed.pt`` (the fusion stage: output scored
at its own frame, the offline report's). ``auto`` takes the streaming one, since the demo is a
running system; ``--checkpoint .../dedelayed.pt`` runs the other.

With ``--video`` (real frames) ``auto`` takes the CamVid checkpoint instead
(``checkpoints/camvid/dedelayed.pt``: preset camvid, ESPNetv2 networks pretrained on Cityscapes
and fine-tuned on CamVid; the world models are at chance on real video). When it is missing the
demo says so and falls back as the world demo does: random weights of ``--preset``.
"""

import os
from dataclasses import dataclass
from typing import Tuple

from dedelayed_models.shipped import SHIPPED_CHECKPOINT_DIR, SHIPPED_CHECKPOINTS

SHIPPED_CHECKPOINT = os.path.join(SHIPPED_CHECKPOINT_DIR, "dedelayed.pt")
SHIPPED_STREAMING_CHECKPOINT = SHIPPED_CHECKPOINTS["shipped:world"]  # the nodes' default too
CAMVID_CHECKPOINT = SHIPPED_CHECKPOINTS["shipped:camvid"]


def auto_checkpoints(video: bool = False) -> tuple:
    """The checkpoints ``--checkpoint auto`` tries, in order: real video (``video``) or the world."""
    return (CAMVID_CHECKPOINT,) if video else (SHIPPED_STREAMING_CHECKPOINT, SHIPPED_CHECKPOINT)


def shipped_checkpoint(video: bool = False) -> str:
    """The shipped checkpoint a running robot should use ('' when none is shipped)."""
    for path in auto_checkpoints(video):
        if os.path.isfile(path):
            return path
    return ""


def missing_checkpoint_note(video: bool = False) -> str:
    """What the demo prints when ``auto`` found no checkpoint: which files are missing."""
    missing = " and ".join("models/dedelayed_models/checkpoints/" + os.path.relpath(p, SHIPPED_CHECKPOINT_DIR)
                           for p in auto_checkpoints(video))
    what = (" (the CamVid model, written by the camvid stage configs in "
            "models/dedelayed_models/configs/camvid/)" if video else "")
    return f"no trained checkpoint: {missing} missing{what}"


@dataclass(frozen=True)
class DemoModels:
    checkpoint: str                 # "" = random weights of preset + seed
    preset: str
    seed: int
    local_hw: Tuple[int, int]       # robot model input (H, W) [px]
    remote_hw: Tuple[int, int]      # uplinked frame size the cloud model takes (H, W) [px]
    num_frames: int                 # K context frames of the remote model
    trained_delay_ms: Tuple[float, float]  # newest-frame ages the checkpoint was trained for [ms]

    @property
    def trained(self) -> bool:
        return bool(self.checkpoint)

    def describe(self) -> str:
        what = self.checkpoint if self.trained else f"RANDOM weights (preset {self.preset}, seed {self.seed})"
        return (f"{what}: local {self.local_hw[0]}x{self.local_hw[1]}, remote "
                f"{self.remote_hw[0]}x{self.remote_hw[1]}, K={self.num_frames}")


def resolve_models(checkpoint: str, preset: str, seed: int, video: bool = False) -> DemoModels:
    """checkpoint: a path, "auto" (``shipped_checkpoint(video)``, else random) or "none"."""
    from dedelayed_models.data.context_timing import DEFAULT_LIVE_DELAY_MS_RANGE
    from dedelayed_models.modeling import get_config, load_checkpoint

    if checkpoint == "auto":
        checkpoint = shipped_checkpoint(video)
    elif checkpoint == "none":
        checkpoint = ""
    if checkpoint:
        if not os.path.isfile(checkpoint):
            raise FileNotFoundError(f"--checkpoint {checkpoint} does not exist; give a dedelayed "
                                    "checkpoint (local + remote), 'auto' or 'none'")
        loaded = load_checkpoint(checkpoint)
        if loaded.kind != "dedelayed":
            raise ValueError(f"--checkpoint {checkpoint} holds a {loaded.kind} model; the demo "
                             "needs a dedelayed checkpoint (the fusion stage's result) so robot "
                             "and cloud serve matching halves")
        config = loaded.config
        checkpoint = os.path.abspath(checkpoint)
        trained = loaded.trained_delay_ms
    else:
        config = get_config(preset)
        trained = DEFAULT_LIVE_DELAY_MS_RANGE
    return DemoModels(checkpoint=checkpoint, preset=config.name, seed=int(seed),
                      local_hw=tuple(int(v) for v in config.local_hw),
                      remote_hw=tuple(int(v) for v in config.remote_hw),
                      num_frames=int(config.remote.num_frames),
                      trained_delay_ms=trained)
