"""The frame-source protocol every dataset in this package implements.

A frame source is one video (a synthetic world clip, a BDD100K video, a Cityscapes snippet, a
CamVid sequence) with random access:

- ``name`` (str), ``fps`` (float), ``num_frames`` (int);
- ``labeled_frames``: the frame indices that have a label (sorted; may be sparse);
- ``frame(t, size_hw=None)`` -> (H, W, 3) uint8 RGB, area-resized to ``size_hw`` if given;
- ``label(t, size_hw=None)`` -> (H, W) uint8 trainIds (255 void), resized to ``size_hw`` by
  nearest neighbour (the world renders it exactly at that size instead).
"""

from typing import Protocol, Sequence

import numpy as np


class FrameSource(Protocol):
    name: str
    fps: float
    num_frames: int

    @property
    def labeled_frames(self) -> Sequence[int]: ...

    def frame(self, t: int, size_hw=None) -> np.ndarray: ...

    def label(self, t: int, size_hw=None) -> np.ndarray: ...
