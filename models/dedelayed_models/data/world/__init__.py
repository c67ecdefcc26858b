"""The procedural driving world: exact labels at any resolution, deterministic per seed.

Entry point: ``WorldSequence(seed, num_frames, motion)``; viewer: ``python -m
dedelayed_models.data.world.view --out world.png``.
"""

from .sequence import (
    DEFAULT_CAMERA_HW,
    DEFAULT_NUM_FRAMES,
    TRAIN_SEEDS,
    VAL_SEEDS,
    WorldSequence,
    split_of_seed,
    world_seeds,
)

__all__ = ["WorldSequence", "world_seeds", "split_of_seed", "TRAIN_SEEDS", "VAL_SEEDS",
           "DEFAULT_CAMERA_HW", "DEFAULT_NUM_FRAMES"]
