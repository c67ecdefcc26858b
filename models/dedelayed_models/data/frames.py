"""A folder of frame images, with an optional matching folder of label PNGs, as one video.

Layout::

    <root>/frames/<name>.png (or .jpg / .jpeg)     RGB frames; file names sort in time order
    <root>/labels/<name>.png                       optional, may be sparse: single-channel uint8
                                                   label of the frame with the same name

Labels are converted to trainIds with the folder's label encoding (``label_encoding.py``); a
label must have its frame's resolution. The frame rate is not in the files: the caller states
it (``data.fps`` or ``fps:`` in ``<root>/dataset.yaml``; ``datasets.py``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .label_encoding import label_encoding
from .labels import check_label_matches, read_label_file, read_rgb_png, resize_image, resize_label

FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")


class FrameFolder:
    """Frame source (``sources.py``) over ``<root>/frames`` + optional ``<root>/labels``."""

    def __init__(self, root, fps: float, label_encoding_name: str = "trainid", name: str = None):
        self.root = Path(root)
        frames_dir, labels_dir = self.root / "frames", self.root / "labels"
        if not frames_dir.is_dir():
            raise FileNotFoundError(f"{frames_dir}: no such folder (expected <root>/frames/ with the "
                                    f"frame images and, optionally, <root>/labels/ with label PNGs)")
        self.frame_paths = sorted(p for p in frames_dir.iterdir() if p.suffix.lower() in FRAME_SUFFIXES)
        if not self.frame_paths:
            raise FileNotFoundError(f"{frames_dir}: no {'/'.join(FRAME_SUFFIXES)} frames")
        if not fps or float(fps) <= 0:
            raise ValueError(f"{self.root}: frame rate {fps!r} must be a positive number of frames per "
                             f"second (data.fps, or 'fps:' in {self.root / 'dataset.yaml'})")
        self.fps, self.name = float(fps), name or self.root.name
        self.num_frames = len(self.frame_paths)
        self.encoding = label_encoding(label_encoding_name)
        stems = {p.stem: t for t, p in enumerate(self.frame_paths)}
        self._label_paths = {}
        if labels_dir.is_dir():
            for p in sorted(labels_dir.glob("*.png")):
                if p.stem not in stems:
                    raise FileNotFoundError(f"{p}: label without a frame; expected "
                                            f"{frames_dir / p.stem}.png (or .jpg)")
                self._label_paths[stems[p.stem]] = p
        self._labeled = sorted(self._label_paths)
        self._frame_hw = None

    @property
    def labeled_frames(self) -> list:
        return self._labeled

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        return resize_image(read_rgb_png(self.frame_paths[t]), size_hw)

    def label(self, t: int, size_hw=None) -> np.ndarray:
        if t not in self._label_paths:
            raise KeyError(f"{self.root}: frame {t} ({self.frame_paths[t].name}) has no label")
        path = self._label_paths[t]
        label = self.encoding.to_trainids(read_label_file(path), path)
        if self._frame_hw is None:
            self._frame_hw = read_rgb_png(self.frame_paths[t]).shape[:2]
        check_label_matches(label, self._frame_hw, path, f"frame {self.frame_paths[t].name}")
        return resize_label(label, size_hw)
