"""The uplink codec: WebP at quality 85 (paper section 5), shared by training and the robot.

Training passes remote frames through ``encode_uplink``/``decode_uplink`` so the remote model
sees exactly the artefacts the robot's uplink node will send. Images are RGB in this project;
OpenCV codes BGR, so the conversion happens here and nowhere else.
"""

import cv2
import numpy as np

WEBP_QUALITY = 85


def encode_uplink(image_rgb: np.ndarray, quality: int = WEBP_QUALITY) -> bytes:
    """(H, W, 3) uint8 RGB -> WebP bytes."""
    if not (isinstance(image_rgb, np.ndarray) and image_rgb.dtype == np.uint8 and image_rgb.ndim == 3
            and image_rgb.shape[2] == 3):
        raise ValueError(f"uplink frames must be (H, W, 3) uint8 RGB, got "
                         f"{getattr(image_rgb, 'shape', None)} {getattr(image_rgb, 'dtype', type(image_rgb))}")
    if not 1 <= quality <= 100:
        raise ValueError(f"WebP quality must be 1-100 (101 = lossless in OpenCV is not used), got {quality}")
    ok, buf = cv2.imencode(".webp", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_WEBP_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode WebP; is this OpenCV built with WebP support?")
    return buf.tobytes()


def decode_uplink(data: bytes) -> np.ndarray:
    """WebP (or any image OpenCV reads) bytes -> (H, W, 3) uint8 RGB."""
    if not data:
        raise ValueError("uplink payload is empty: nothing to decode")
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"uplink payload of {len(data)} bytes is not a decodable image "
                         f"(starts with {bytes(data[:12])!r}; expected WebP 'RIFF....WEBP')")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def uplink_roundtrip(image_rgb: np.ndarray, quality: int = WEBP_QUALITY) -> np.ndarray:
    """What the remote side sees of ``image_rgb`` after the uplink."""
    return decode_uplink(encode_uplink(image_rgb, quality))
