"""Real frame sources at the model's sizes: resize policy, uplink codec, and a memo of results.

The synthetic world renders at the model's sizes and runs the codec once (``world_sources.py``).
Real video arrives at its own size and aspect ratio: ``PreparedSource`` fits frames and labels
to any requested size by the resize policy (``resize.py``), passes frames requested at the
remote size through the WebP uplink (as the robot's uplink does), and keeps recent results in
memory (one ``FrameMemo`` budget shared by all sources of a dataset) so the delay sweeps, which
read every frame once per delay, decode it once.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Optional

import numpy as np

from .resize import DEFAULT_RESIZE, check_policy, fit_image, fit_label
from .uplink import uplink_roundtrip

DEFAULT_MEMO_MB = 256.0


class FrameMemo:
    """Least-recently-used arrays up to ``limit_mb`` megabytes in all."""

    def __init__(self, limit_mb: float = DEFAULT_MEMO_MB):
        self._items, self._bytes, self._limit = OrderedDict(), 0, int(limit_mb * 2**20)

    def get(self, key, make):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = make()
        self._items[key] = value
        self._bytes += value.nbytes
        while self._bytes > self._limit and len(self._items) > 1:
            self._bytes -= self._items.popitem(last=False)[1].nbytes
        return value


class PreparedSource:
    """Frame source (``sources.py``) over a real one: ``frame(t, hw)`` is the frame fitted to
    ``hw`` by ``resize`` ((h, w, 3) uint8; at ``remote_hw`` after the uplink codec),
    ``label(t, hw)`` the label fitted the same way ((h, w) uint8 trainIds, 255 void).
    ``memo``: shared by the sources of one dataset (default: one of its own)."""

    def __init__(self, source, *, remote_hw, uplink_quality: Optional[int], resize: str = DEFAULT_RESIZE,
                 memo: Optional[FrameMemo] = None):
        self.source, self.remote_hw = source, tuple(remote_hw)
        self.uplink_quality, self.resize = uplink_quality, check_policy(resize)
        self.name, self.fps, self.num_frames = source.name, float(source.fps), source.num_frames
        self._memo = memo if memo is not None else FrameMemo()

    @property
    def labeled_frames(self):
        return self.source.labeled_frames

    def _remember(self, key, make):
        return self._memo.get((id(self),) + key, make)

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        hw = None if size_hw is None else (int(size_hw[0]), int(size_hw[1]))

        def make():
            image = fit_image(self.source.frame(t), hw, self.resize)
            if hw == self.remote_hw and self.uplink_quality is not None:
                image = uplink_roundtrip(image, self.uplink_quality)
            return image
        return self._remember(("frame", int(t), hw), make)

    def label(self, t: int, size_hw=None) -> np.ndarray:
        hw = None if size_hw is None else (int(size_hw[0]), int(size_hw[1]))
        return self._remember(("label", int(t), hw), lambda: fit_label(self.source.label(t), hw, self.resize))


class FrameRange:
    """Frames ``start`` .. ``stop - 1`` of a source as a source of their own (frame 0 = ``start``);
    a context never reaches outside the range."""

    def __init__(self, source, start: int, stop: int):
        start, stop = int(start), min(int(stop), source.num_frames)
        if not 0 <= start < stop:
            raise ValueError(f"{source.name}: frame range [{start}, {stop}) is empty or outside its "
                             f"{source.num_frames} frames; give [start, stop) with 0 <= start < stop")
        self.source, self.start = source, start
        self.name, self.fps, self.num_frames = f"{source.name}[{start}:{stop}]", source.fps, stop - start
        self._labeled = [t - start for t in source.labeled_frames if start <= t < stop]

    @property
    def labeled_frames(self):
        return self._labeled

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        return self.source.frame(t + self.start, size_hw)

    def label(self, t: int, size_hw=None) -> np.ndarray:
        return self.source.label(t + self.start, size_hw)
