"""Cityscapes: ``leftImg8bit`` images + ``gtFine`` labelIds, mapped to the 19 trainIds.

Layout::

    <root>/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png       (or _labelTrainIds.png)
    <root>/leftImg8bit_sequence/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png   (optional)

Without the sequence package each labelled image is a one-frame source: use
``DelayedClipDataset(..., static_sources=True)`` (K copies of the frame, delay 0). With it, each
labelled image becomes a snippet of the surrounding video frames (Cityscapes ships 30 frames per
snippet at 17 fps, the labelled one is the 20th), so real delays can be drawn.

The label file's name says its encoding: ``_labelIds.png`` (official labelIds, mapped with
``LABELID_TO_TRAINID`` in ``label_encoding.py``) or, where only that exists, ``_labelTrainIds.png``
(already trainIds, as ``createTrainIdLabelImgs.py`` writes them).
"""

from pathlib import Path

import numpy as np

from .label_encoding import LABEL_ENCODINGS, LABELID_TO_TRAINID  # noqa: F401  (re-exported)
from .labels import check_label_matches, read_label_file, read_rgb_png, resize_image, resize_label

CITYSCAPES_FPS = 17.0
_LUT = LABEL_ENCODINGS["cityscapes_labelid"].lut


def labelids_to_trainids(label_ids: np.ndarray) -> np.ndarray:
    """(H, W) uint8 Cityscapes labelIds -> trainIds (255 void)."""
    return _LUT[label_ids]


class CityscapesSnippet:
    """One labelled Cityscapes image, with its video snippet when available (a frame source)."""

    def __init__(self, image_path: Path, label_path: Path, sequence_paths=None, labeled_index: int = 0):
        self.image_path, self.label_path = Path(image_path), Path(label_path)
        self.name = self.image_path.name.replace("_leftImg8bit.png", "")
        self.fps = CITYSCAPES_FPS
        self.frame_paths = list(sequence_paths) if sequence_paths else [self.image_path]
        self.frame_paths[labeled_index] = self.image_path
        self.num_frames = len(self.frame_paths)
        self._labeled_index = labeled_index

    @property
    def labeled_frames(self) -> list:
        return [self._labeled_index]

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        return resize_image(read_rgb_png(self.frame_paths[t]), size_hw)

    def label(self, t: int, size_hw=None) -> np.ndarray:
        if t != self._labeled_index:
            raise KeyError(f"{self.name}: only frame {self._labeled_index} is labelled")
        encoding = LABEL_ENCODINGS["trainid" if self.label_path.name.endswith("_labelTrainIds.png")
                                   else "cityscapes_labelid"]
        label = encoding.to_trainids(read_label_file(self.label_path), self.label_path)
        image = read_rgb_png(self.image_path)
        check_label_matches(label, image.shape[:2], self.label_path, f"image {self.image_path.name}")
        return resize_label(label, size_hw)


def _snippet_paths(seq_dir: Path, stem: str):
    """Frames of the labelled image's snippet, oldest first, and the labelled one's index."""
    city, seq, frame = stem.split("_")[:3]
    paths = []
    for f in range(int(frame) - 19, int(frame) + 11):
        p = seq_dir / f"{city}_{seq}_{f:06d}_leftImg8bit.png"
        if p.exists():
            paths.append(p)
        elif f <= int(frame):
            paths = []                       # a gap before the labelled frame: keep only the frames after it
    numbers = [int(p.name.split("_")[2]) for p in paths]
    if int(frame) not in numbers:
        return [], 0
    return paths, numbers.index(int(frame))


def open_cityscapes(root, split: str, use_sequences: str = "auto") -> list:
    """Every labelled image of ``split``; ``use_sequences``: 'auto' (if present), 'yes', 'no'."""
    root = Path(root)
    image_root, label_root = root / "leftImg8bit" / split, root / "gtFine" / split
    seq_root = root / "leftImg8bit_sequence" / split
    if not image_root.is_dir():
        raise FileNotFoundError(f"{image_root}: no such folder (expected Cityscapes leftImg8bit/<split>/)")
    want_seq = {"auto": seq_root.is_dir(), "yes": True, "no": False}[use_sequences]
    if want_seq and not seq_root.is_dir():
        raise FileNotFoundError(f"{seq_root}: use_sequences='yes' but leftImg8bit_sequence is missing")
    sources = []
    for image_path in sorted(image_root.glob("*/*_leftImg8bit.png")):
        stem = image_path.name[: -len("_leftImg8bit.png")]
        label_path = label_root / image_path.parent.name / f"{stem}_gtFine_labelIds.png"
        if not label_path.exists():
            train_ids = label_path.with_name(f"{stem}_gtFine_labelTrainIds.png")
            if not train_ids.exists():
                raise FileNotFoundError(f"{label_path}: missing label for {image_path} (nor "
                                        f"{train_ids.name})")
            label_path = train_ids
        paths, index = (_snippet_paths(seq_root / image_path.parent.name, stem) if want_seq else ([], 0))
        sources.append(CityscapesSnippet(image_path, label_path, paths or None, index if paths else 0))
    if not sources:
        raise FileNotFoundError(f"{image_root}: no *_leftImg8bit.png images")
    return sources
