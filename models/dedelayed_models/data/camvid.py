"""CamVid sequence layout: ``frames/<seq>_NNNNN.png`` (RGB) + ``labels/<seq>_NNNNN.png``.

Labels use SegNet's 11-class CamVid ids, mapped to Cityscapes trainIds with the table below
(CamVid does not separate rider from bicycle: its "Bicyclist" becomes bicycle). The shared
sequence 0016E5 is every 2nd frame of 30 fps video, so ``DEFAULT_CAMVID_FPS`` is 15.
"""

from pathlib import Path

import numpy as np

from ..classes import IGNORE_ID
from .labels import read_label_png, resize_label, read_rgb_png, resize_image
from .paths import shared_data_dir

DEFAULT_CAMVID_FPS = 15.0
CAMVID_SHARED_NAME = "camvid-0016E5-val"

# CamVid (SegNet 11 classes + void) -> Cityscapes trainId.
CAMVID_TO_TRAINID = {0: 10, 1: 2, 2: 5, 3: 0, 4: 1, 5: 8, 6: 7, 7: 4, 8: 13, 9: 11, 10: 18, 11: IGNORE_ID}
_LUT = np.full(256, IGNORE_ID, dtype=np.uint8)
for _k, _v in CAMVID_TO_TRAINID.items():
    _LUT[_k] = _v


def camvid_shared_root() -> Path:
    return shared_data_dir() / CAMVID_SHARED_NAME


class CamVidSequence:
    """A frame source (see ``sources.py``) over one CamVid folder; every frame is labelled."""

    def __init__(self, root, fps: float = DEFAULT_CAMVID_FPS):
        self.root = Path(root)
        frames_dir, labels_dir = self.root / "frames", self.root / "labels"
        if not frames_dir.is_dir() or not labels_dir.is_dir():
            raise FileNotFoundError(f"{self.root}: expected frames/ and labels/ folders (CamVid layout)")
        self.frame_paths = sorted(frames_dir.glob("*.png"))
        if not self.frame_paths:
            raise FileNotFoundError(f"{frames_dir}: no PNG frames")
        self.label_paths = [labels_dir / p.name for p in self.frame_paths]
        missing = [p.name for p in self.label_paths if not p.exists()]
        if missing:
            raise FileNotFoundError(f"{labels_dir}: {len(missing)} frames have no label, e.g. {missing[0]}")
        self.fps, self.name = float(fps), self.root.name
        self.num_frames = len(self.frame_paths)

    @property
    def labeled_frames(self) -> range:
        return range(self.num_frames)

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        return resize_image(read_rgb_png(self.frame_paths[t]), size_hw)

    def label(self, t: int, size_hw=None) -> np.ndarray:
        raw = read_label_png(self.label_paths[t], valid_max=11, allow_ignore=False)
        return resize_label(_LUT[raw], size_hw)
