"""Reading and resizing images and label maps, with errors that name the file and the problem."""

from pathlib import Path

import cv2
import numpy as np


def read_rgb_png(path) -> np.ndarray:
    """(H, W, 3) uint8 RGB."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{path}: cannot read image (missing or corrupt)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def read_label_file(path) -> np.ndarray:
    """(H, W) uint8 native ids of a single-channel label PNG (no value check; see
    ``label_encoding.py`` for the conversion to trainIds)."""
    label = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if label is None:
        raise ValueError(f"{path}: cannot read label PNG (missing or corrupt)")
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ValueError(f"{path}: label must be a single-channel uint8 PNG, got shape {label.shape} "
                         f"dtype {label.dtype}")
    return label


def resize_image(image: np.ndarray, size_hw) -> np.ndarray:
    """Area interpolation (what a camera downscale does); returns the input if already that size."""
    if size_hw is None or tuple(image.shape[:2]) == tuple(size_hw):
        return image
    return cv2.resize(image, (int(size_hw[1]), int(size_hw[0])), interpolation=cv2.INTER_AREA)


def resize_label(label: np.ndarray, size_hw) -> np.ndarray:
    """Nearest neighbour, so no new ids are invented at class borders."""
    if size_hw is None or tuple(label.shape[:2]) == tuple(size_hw):
        return label
    return cv2.resize(label, (int(size_hw[1]), int(size_hw[0])), interpolation=cv2.INTER_NEAREST)


def check_label_matches(label: np.ndarray, frame_hw, label_path: Path, frame_desc: str):
    if tuple(label.shape[:2]) != tuple(frame_hw):
        raise ValueError(f"{label_path}: label is {label.shape[0]}x{label.shape[1]} but {frame_desc} "
                         f"is {frame_hw[0]}x{frame_hw[1]}; labels must have the frame's resolution")
