"""How a real frame of any aspect ratio becomes the model's input size: ``squash | crop | pad``.

- ``crop`` (default): cut the centred window of the model's aspect ratio, then resize. Objects
  keep their shape, as a camera with the model's aspect would see them; the cut-off border (top
  and bottom of a 4:3 frame for a 2:1 model) is neither seen nor scored.
- ``squash``: resize the whole frame, stretching it to the model's aspect ratio.
- ``pad``: resize the whole frame to fit inside, keeping its aspect ratio, and fill the rest
  with black pixels and void (255) labels, which are not scored.

Images are resized with area interpolation, labels by nearest neighbour (``labels.py``); the
label always gets the same geometry as its frame. The synthetic world renders at the model's
size and needs none of this.
"""

from __future__ import annotations

import numpy as np

from ..classes import IGNORE_ID
from .labels import resize_image, resize_label

RESIZE_POLICIES = ("crop", "squash", "pad")
DEFAULT_RESIZE = "crop"


def check_policy(policy: str) -> str:
    if policy not in RESIZE_POLICIES:
        raise ValueError(f"resize policy {policy!r} unknown; choose one of {list(RESIZE_POLICIES)} "
                         f"(data.resize; default {DEFAULT_RESIZE!r})")
    return policy


def crop_box(src_hw, dst_hw):
    """(top, left, height, width) of the centred window of ``dst_hw``'s aspect ratio in ``src_hw``."""
    h, w = src_hw
    dh, dw = dst_hw
    if w * dh > h * dw:                       # source is wider: cut left and right
        cw = max(1, round(h * dw / dh))
        return 0, (w - cw) // 2, h, cw
    ch = max(1, round(w * dh / dw))
    return (h - ch) // 2, 0, ch, w


def _pad_layout(src_hw, dst_hw):
    """(top, left, height, width) of the resized frame inside ``dst_hw`` for the pad policy."""
    h, w = src_hw
    dh, dw = dst_hw
    scale = min(dh / h, dw / w)
    ih, iw = max(1, round(h * scale)), max(1, round(w * scale))
    return (dh - ih) // 2, (dw - iw) // 2, ih, iw


def _fit(array: np.ndarray, size_hw, policy: str, resize, fill) -> np.ndarray:
    if size_hw is None or tuple(array.shape[:2]) == tuple(size_hw):
        return array
    size_hw = (int(size_hw[0]), int(size_hw[1]))
    if policy == "squash":
        return resize(array, size_hw)
    if policy == "crop":
        top, left, ch, cw = crop_box(array.shape[:2], size_hw)
        return resize(array[top:top + ch, left:left + cw], size_hw)
    top, left, ih, iw = _pad_layout(array.shape[:2], size_hw)
    out = np.full(size_hw + array.shape[2:], fill, dtype=array.dtype)
    out[top:top + ih, left:left + iw] = resize(array, (ih, iw))
    return out


def fit_image(image: np.ndarray, size_hw, policy: str = DEFAULT_RESIZE) -> np.ndarray:
    """(H, W, 3) uint8 -> (h, w, 3) uint8 at ``size_hw`` by ``policy`` (padding is black)."""
    return _fit(image, size_hw, check_policy(policy), resize_image, 0)


def fit_label(label: np.ndarray, size_hw, policy: str = DEFAULT_RESIZE) -> np.ndarray:
    """(H, W) uint8 trainIds -> (h, w) at ``size_hw`` by ``policy`` (padding is void, 255)."""
    return _fit(label, size_hw, check_policy(policy), resize_label, IGNORE_ID)
