"""sensor_msgs/Image <-> numpy without cv_bridge (the conversion is a reshape; no extra dependency).

Duck-typed on the message fields (height, width, encoding, step, data) so it is testable without
a ROS graph; the nodes pass real messages. Errors name the bad value and the fix.
"""

import array

import numpy as np

from dedelayed_models.peer_text import peer_text

_CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1}


class ImageDecodeError(ValueError):
    """A camera frame that cannot be segmented (wrong encoding, truncated data)."""


def image_msg_to_rgb(msg) -> np.ndarray:
    """Camera Image message -> (H, W, 3) uint8 RGB (a view where the layout allows)."""
    encoding = str(msg.encoding).lower()   # in a message only once known (escaped otherwise)
    if encoding not in _CHANNELS:
        raise ImageDecodeError(
            f"camera image encoding '{peer_text(msg.encoding)}' is not supported; publish one of "
            f"{sorted(_CHANNELS)} (e.g. with an image_proc debayer node)")
    channels, height, width = _CHANNELS[encoding], int(msg.height), int(msg.width)
    row_bytes = width * channels
    step = int(msg.step) or row_bytes
    if height <= 0 or width <= 0 or step < row_bytes:
        raise ImageDecodeError(
            f"camera image header is inconsistent: {width}x{height} {encoding} with step {msg.step}")
    if len(msg.data) < step * height:
        raise ImageDecodeError(
            f"camera image {width}x{height} {encoding} needs {step * height} bytes, "
            f"got {len(msg.data)}: the frame is truncated")
    raw = np.frombuffer(msg.data, dtype=np.uint8, count=step * height).reshape(height, step)
    pixels = raw[:, :row_bytes].reshape(height, width, channels)
    if encoding == "rgb8":
        return pixels
    if encoding == "mono8":
        return np.repeat(pixels, 3, axis=2)
    if encoding == "rgba8":
        return pixels[:, :, :3]
    return np.ascontiguousarray(pixels[:, :, 2::-1])  # bgr8 / bgra8


def fill_image_msg(msg, pixels: np.ndarray, encoding: str):
    """Write an (H, W) mono8 or (H, W, 3) rgb8 uint8 array into an Image message; returns msg."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    expected_channels = _CHANNELS[encoding]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    if channels != expected_channels:
        raise ValueError(f"{encoding} needs {expected_channels} channel(s), got {pixels.shape}")
    msg.height, msg.width = int(pixels.shape[0]), int(pixels.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = msg.width * channels
    msg.data = array.array("B", pixels.tobytes())  # one memcpy, not a per-element check
    return msg
