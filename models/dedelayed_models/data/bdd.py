"""BDD100K-like video folders with per-frame pseudo-labels, and a writer for that layout.

Layout::

    <root>/videos/<split>/<name>.mp4 (or .mov)
    <root>/labels/<split>/<name>/<frame_index:06d>.png    uint8 labels, may be sparse

Labels are trainIds (255 void) unless the caller names another encoding (``label_encoding.py``);
the loader converts them to trainIds.

Videos are decoded with OpenCV (FFmpeg backend). ``write_clip`` writes any frame source (e.g. a
``WorldSequence``) in this layout with the ``mp4v`` (MPEG-4 part 2) codec: OpenCV's PyPI wheel
writes and reads it back; it has no H.264 encoder (``avc1`` fails to open).
"""

import logging
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from .label_encoding import label_encoding
from .labels import check_label_matches, read_label_file, resize_image, resize_label

log = logging.getLogger(__name__)
VIDEO_SUFFIXES = (".mp4", ".mov")
VIDEO_FOURCC = "mp4v"


class BDDVideo:
    """One video + its label folder as a frame source (see ``sources.py``)."""

    def __init__(self, video_path, label_dir, cache_frames: int = 32, label_encoding_name: str = "trainid"):
        self.video_path, self.label_dir = Path(video_path), Path(label_dir)
        self.encoding = label_encoding(label_encoding_name)
        self.name = self.video_path.stem
        if not self.video_path.is_file():
            raise FileNotFoundError(f"{self.video_path}: video file missing")
        cap = cv2.VideoCapture(str(self.video_path))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok:
            cap.release()
            raise ValueError(f"{self.video_path}: cannot decode video (corrupt or unsupported codec)")
        self.num_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or 30.0
        self.frame_hw = first.shape[:2]
        self._cap, self._next = cap, 1
        self._cache = OrderedDict({(0, None): cv2.cvtColor(first, cv2.COLOR_BGR2RGB)})
        self._cache_frames = cache_frames
        label_paths = sorted(self.label_dir.glob("*.png")) if self.label_dir.is_dir() else []
        self._label_paths = {}
        for p in label_paths:
            if not p.stem.isdigit():
                raise ValueError(f"{p}: label files must be named <frame_index:06d>.png")
            t = int(p.stem)
            if t >= self.num_frames:
                raise ValueError(f"{p}: frame {t} is beyond the video's {self.num_frames} frames "
                                 f"({self.video_path})")
            self._label_paths[t] = p
        self._labeled = sorted(self._label_paths)

    @property
    def labeled_frames(self) -> list:
        return self._labeled

    def _decode(self, t: int) -> np.ndarray:
        if t != self._next:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, t)
        ok, bgr = self._cap.read()
        if not ok:
            raise ValueError(f"{self.video_path}: cannot decode frame {t} of {self.num_frames} "
                             f"(truncated or corrupt video)")
        self._next = t + 1
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        if not 0 <= t < self.num_frames:
            raise IndexError(f"{self.video_path}: frame {t} outside 0..{self.num_frames - 1}")
        key = (int(t), None if size_hw is None else tuple(size_hw))
        if key not in self._cache:
            full = self._cache.get((t, None))
            full = self._decode(t) if full is None else full
            self._cache[key] = resize_image(full, size_hw)
            if len(self._cache) > self._cache_frames:
                self._cache.popitem(last=False)
        self._cache.move_to_end(key)
        return self._cache[key]

    def label(self, t: int, size_hw=None) -> np.ndarray:
        if t not in self._label_paths:
            raise KeyError(f"{self.label_dir}: frame {t} has no label")
        path = self._label_paths[t]
        label = self.encoding.to_trainids(read_label_file(path), path)
        check_label_matches(label, self.frame_hw, path, f"video {self.video_path.name}")
        return resize_label(label, size_hw)


def open_bdd_split(root, split: str, cache_frames: int = 32, label_encoding_name: str = "trainid") -> list:
    """All videos of ``split`` with at least one label, as ``BDDVideo`` sources.

    Videos without labels are skipped and the count is logged; a label folder whose video is
    missing is an error (it would silently drop labelled data).
    """
    root = Path(root)
    video_dir, label_root = root / "videos" / split, root / "labels" / split
    if not video_dir.is_dir():
        raise FileNotFoundError(f"{video_dir}: no such folder (expected <root>/videos/<split>/)")
    videos = {p.stem: p for p in sorted(video_dir.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES}
    if label_root.is_dir():
        for d in sorted(label_root.iterdir()):
            if d.is_dir() and d.name not in videos:
                raise FileNotFoundError(f"{d}: labels without a video; expected {video_dir / d.name}.mp4")
    sources, unlabeled = [], 0
    for name, path in videos.items():
        src = BDDVideo(path, label_root / name, cache_frames, label_encoding_name)
        if src.labeled_frames:
            sources.append(src)
        else:
            unlabeled += 1
    if unlabeled:
        log.warning("%s: skipped %d of %d videos that have no labels in %s", video_dir, unlabeled,
                    len(videos), label_root)
    return sources


def write_clip(source, root, split: str, name: str = None, size_hw=None, label_every: int = 1,
               num_frames: int = None) -> Path:
    """Write ``source`` (e.g. a WorldSequence) as ``<root>/videos/<split>/<name>.mp4`` + labels.

    label_every: write the label of every n-th frame only (sparse, like pseudo-labelled data).
    Returns the video path.
    """
    name = name or source.name
    n = source.num_frames if num_frames is None else min(num_frames, source.num_frames)
    video_path = Path(root) / "videos" / split / f"{name}.mp4"
    label_dir = Path(root) / "labels" / split / name
    video_path.parent.mkdir(parents=True, exist_ok=True)
    label_dir.mkdir(parents=True, exist_ok=True)
    first = source.frame(0, size_hw)
    h, w = first.shape[:2]
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*VIDEO_FOURCC), source.fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"{video_path}: OpenCV cannot open a {VIDEO_FOURCC} writer")
    try:
        for t in range(n):
            writer.write(cv2.cvtColor(source.frame(t, size_hw), cv2.COLOR_RGB2BGR))
            if t % label_every == 0:
                cv2.imwrite(str(label_dir / f"{t:06d}.png"), source.label(t, (h, w)))
    finally:
        writer.release()
    return video_path
