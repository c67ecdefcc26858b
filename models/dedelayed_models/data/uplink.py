"""The uplink codec: WebP at quality 85 (paper section 5), shared by training and the robot.

Training passes remote frames through ``encode_uplink``/``decode_uplink`` so the remote model
sees exactly the artefacts the robot's uplink node will send. Images are RGB in this project;
OpenCV codes BGR, so the conversion happens here and nowhere else. ``decode_uplink`` reads the
declared size from the WebP header first (``webp_header.py``) and decodes nothing else.
"""

import cv2
import numpy as np

from .webp_header import UNDECODABLE, UplinkRefused, check_webp_size

WEBP_QUALITY = 85


def encode_uplink(image_rgb: np.ndarray, quality: int = WEBP_QUALITY) -> bytes:
    """(H, W, 3) uint8 RGB -> WebP bytes."""
    if not (isinstance(image_rgb, np.ndarray) and image_rgb.dtype == np.uint8 and image_rgb.ndim == 3
            and image_rgb.shape[2] == 3):
        raise ValueError(f"uplink frames must be (H, W, 3) uint8 RGB, got "
                         f"{getattr(image_rgb, 'shape', None)} {getattr(image_rgb, 'dtype', type(image_rgb))}")
    if not 1 <= quality <= 100:
        raise ValueError(f"WebP quality must be 1-100 (101 = lossless in OpenCV is not used), got {quality}")
    ok, buf = cv2.imencode(".webp", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR),
                           [cv2.IMWRITE_WEBP_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode WebP; is this OpenCV built with WebP support?")
    return buf.tobytes()


def decode_uplink(data: bytes, max_pixels: int = 0) -> np.ndarray:
    """Still-WebP bytes -> (H, W, 3) uint8 RGB.

    The header is checked before decoding: anything but a still WebP, or one declaring more
    than ``max_pixels`` pixels (0 = no limit), raises ``UplinkRefused`` (a ValueError) with its
    ``kind``; so does a payload libwebp cannot decode or that decodes to another size.
    """
    height, width = check_webp_size(data, max_pixels)
    try:
        bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:   # OpenCV's own exception for malformed data; one error kind out
        raise UplinkRefused(UNDECODABLE, f"WebP payload of {len(data)} bytes could not be "
                                         f"decoded: {exc}") from exc
    if bgr is None or bgr.shape[:2] != (height, width):
        got = "nothing" if bgr is None else f"{bgr.shape[1]}x{bgr.shape[0]}"
        raise UplinkRefused(UNDECODABLE, f"WebP payload of {len(data)} bytes declaring "
                                         f"{width}x{height} px decoded to {got}: corrupt")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def uplink_roundtrip(image_rgb: np.ndarray, quality: int = WEBP_QUALITY) -> np.ndarray:
    """What the remote side sees of ``image_rgb`` after the uplink."""
    return decode_uplink(encode_uplink(image_rgb, quality))
