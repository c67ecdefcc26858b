"""CamVid sequence layout: ``frames/<seq>_NNNNN.png`` (RGB) + ``labels/<seq>_NNNNN.png``.

A ``FrameFolder`` whose labels are SegNet's 11-class CamVid ids by default (``camvid11`` in
``label_encoding.py``, which holds the mapping table); CamVid labels already converted to trainIds
load with ``label_encoding_name="trainid"``. The shared sequence 0016E5 is every 2nd frame of
30 fps video, so ``DEFAULT_CAMVID_FPS`` is 15.
"""

from pathlib import Path

from .frames import FrameFolder
from .label_encoding import CAMVID_TO_TRAINID  # noqa: F401  (the mapping, re-exported)
from .paths import shared_data_dir

DEFAULT_CAMVID_FPS = 15.0
CAMVID_SHARED_NAME = "camvid-0016E5-val"


def camvid_shared_root() -> Path:
    return shared_data_dir() / CAMVID_SHARED_NAME


class CamVidSequence(FrameFolder):
    """A frame source (see ``sources.py``) over one CamVid folder; every frame is labelled."""

    def __init__(self, root, fps: float = DEFAULT_CAMVID_FPS, label_encoding_name: str = "camvid11"):
        labels_dir = Path(root) / "labels"
        if not labels_dir.is_dir():
            raise FileNotFoundError(f"{Path(root)}: expected frames/ and labels/ folders (CamVid layout)")
        super().__init__(root, fps, label_encoding_name)
        missing = [p.name for t, p in enumerate(self.frame_paths) if t not in self._label_paths]
        if missing:
            raise FileNotFoundError(f"{labels_dir}: {len(missing)} frames have no label, e.g. {missing[0]}")
