"""``WorldSequence``: one deterministic synthetic driving clip, rendered frame by frame on demand.

``(seed, frame_index)`` fixes the frame and its label: every random choice comes from the seed
(layout, lighting) or from the frame index (sensor-noise pick); nothing depends on call order,
so frames can be rendered in any order, in any process.

Resolutions: ``render(t, H, W)`` rasterises directly at H x W, so the label is exact at every
size. As a frame source, a sequence is a camera with a fixed sensor size ``camera_hw``: images
for other sizes are area-downsampled from it (as a robot downscales its camera frame, so thin
far objects fade instead of being drawn one pixel wide), labels are rendered directly.

Seeds: training uses ``TRAIN_SEEDS`` and validation ``VAL_SEEDS``; the ranges are disjoint.
"""

from collections import OrderedDict

import cv2
import numpy as np

from ..timing import DEFAULT_FPS
from .camera import Camera, ego_pose
from .effects import Look
from .layout import EGO_SPEED_MPS, make_layout
from .render import render_layout

TRAIN_SEEDS = range(0, 1_000_000)
VAL_SEEDS = range(1_000_000, 1_100_000)
DEFAULT_CAMERA_HW = (256, 512)
DEFAULT_NUM_FRAMES = 300          # 10 s at 30 fps


def world_seeds(split: str, count: int, start: int = 0) -> list:
    """``count`` seeds of ``split`` ('train' or 'val'), beginning ``start`` into its range."""
    ranges = {"train": TRAIN_SEEDS, "val": VAL_SEEDS}
    if split not in ranges:
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    r = ranges[split]
    if start + count > len(r):
        raise ValueError(f"{split} has {len(r)} seeds; asked for {count} from {start}")
    return list(r[start:start + count])


def split_of_seed(seed: int) -> str:
    if seed in TRAIN_SEEDS:
        return "train"
    if seed in VAL_SEEDS:
        return "val"
    raise ValueError(f"seed {seed} is in neither TRAIN_SEEDS {TRAIN_SEEDS} nor VAL_SEEDS {VAL_SEEDS}")


class WorldSequence:
    """A synthetic driving clip of ``num_frames`` frames at ``fps``.

    ``motion`` scales time inside the scene (ego speed, agents, bumps all together): motion 2
    shows in one frame what motion 1 shows in two, so staleness grows monotonically with it.
    """

    def __init__(self, seed: int, num_frames: int = DEFAULT_NUM_FRAMES, motion: float = 1.0,
                 fps: float = DEFAULT_FPS, camera_hw: tuple = DEFAULT_CAMERA_HW, effects: bool = True,
                 cache_size: int = 64):
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        if motion < 0:
            raise ValueError(f"motion must be >= 0, got {motion}")
        split_of_seed(seed)
        self.seed, self.num_frames, self.motion, self.fps = int(seed), int(num_frames), float(motion), float(fps)
        self.camera_hw = tuple(int(v) for v in camera_hw)
        self.effects = effects
        self.name = f"world-{self.seed:07d}"
        self.layout = make_layout(self.seed, self.scene_time_s(self.num_frames) + 1.0)
        self._phases = np.random.default_rng([self.seed, 4242]).uniform(0, 2 * np.pi, size=6)
        self.look = Look(self.seed, self.layout.colors, blur_px_at_512=1.5 * self.motion)
        self._cache = OrderedDict()
        self._cache_size = cache_size

    # ---- frame-source protocol (see data/sources.py) ------------------------------------
    @property
    def labeled_frames(self) -> range:
        return range(self.num_frames)

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        """Camera frame t, (H, W, 3) uint8 RGB, at ``size_hw`` (default ``camera_hw``)."""
        image, _ = self.render(t, *self.camera_hw)
        if size_hw is None or tuple(size_hw) == self.camera_hw:
            return image
        return cv2.resize(image, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA)

    def label(self, t: int, size_hw=None) -> np.ndarray:
        """Exact label of frame t, (H, W) uint8 trainIds, rendered at ``size_hw``."""
        h, w = self.camera_hw if size_hw is None else size_hw
        key = (t, h, w, True)
        cached = self._cache.get(key) or self._cache.get((t, h, w, False))
        if cached is not None:
            return cached[1]
        return self._render_cached(t, h, w, labels_only=True)[1]

    # ---- rendering ----------------------------------------------------------------------
    def scene_time_s(self, t: float) -> float:
        return self.motion * t / self.fps

    def render(self, t: int, height_px: int, width_px: int) -> tuple:
        """Frame t at H x W: ``(image (H, W, 3) uint8 RGB, label (H, W) uint8 trainIds)``."""
        return self._render_cached(t, height_px, width_px, labels_only=False)

    def _render_cached(self, t, h, w, labels_only):
        if not 0 <= t < self.num_frames:
            raise IndexError(f"{self.name}: frame {t} outside 0..{self.num_frames - 1}")
        key = (int(t), int(h), int(w), labels_only)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        tau = self.scene_time_s(t)
        pose = ego_pose(self.layout.road, tau, self._phases, EGO_SPEED_MPS)
        background = None if labels_only else self.look.background(h, w)
        image, label = render_layout(self.layout, pose, tau, h, w, background, self.look.light)
        if image is not None and self.effects:
            image = self.look.finish(image, label, int(t), Camera(h, w, pose))
        self._cache[key] = (image, label)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return image, label
