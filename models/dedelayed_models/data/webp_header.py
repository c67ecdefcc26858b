"""The image size a WebP file declares, read from its RIFF container before anything is decoded.

A payload of a few kilobytes can claim 16383 x 16383 pixels (a decompression bomb: gigabytes
and seconds to decode). The uplink therefore reads the size from the container header first
and refuses, before a pixel is allocated, anything that is not a still WebP within the
configured size. Layout (Google's "WebP Container Specification"):

    'RIFF' <uint32 LE riff size> 'WEBP'  then chunks  <fourcc> <uint32 LE size> <data, padded>
    'VP8 '  lossy:    3-byte frame tag, start code 9d 01 2a, uint16 LE width & 0x3fff, height
    'VP8L'  lossless: 0x2f, then 14 bits width - 1 and 14 bits height - 1 (little-endian bits)
    'VP8X'  extended: flags byte (0x02 = animation), 3 reserved, uint24 LE canvas width - 1,
            canvas height - 1; then the image's own 'VP8 ' / 'VP8L' chunk among others

Only the header is parsed; OpenCV (libwebp) decodes.
"""

from __future__ import annotations

import struct
from typing import Tuple

# Refusal kinds (the cloud counts and logs each per robot).
EMPTY = "empty"
NOT_WEBP = "not_webp"
TRUNCATED = "truncated"
ANIMATED = "animated"
OVERSIZE = "oversize"
UNDECODABLE = "undecodable"
REFUSAL_KINDS = (EMPTY, NOT_WEBP, TRUNCATED, ANIMATED, OVERSIZE, UNDECODABLE)

_VP8X_ANIMATION = 0x02
MAX_CHUNKS_BEFORE_IMAGE = 16  # VP8X, ICCP, ANIM, ALPH, ... come first; bounds the header walk


class UplinkRefused(ValueError):
    """An uplink payload that is not decoded; ``kind`` is one of REFUSAL_KINDS."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _u32(data: bytes, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


def _image_chunk_hw(fourcc: bytes, body: bytes) -> Tuple[int, int]:
    """(height, width) from the payload of a 'VP8 ' or 'VP8L' chunk."""
    if fourcc == b"VP8 ":
        if len(body) < 10:
            raise UplinkRefused(TRUNCATED, f"WebP 'VP8 ' chunk of {len(body)} bytes is shorter "
                                           "than its 10-byte frame header")
        if body[0] & 0x01:
            raise UplinkRefused(NOT_WEBP, "WebP 'VP8 ' chunk is not a key frame")
        if body[3:6] != b"\x9d\x01\x2a":
            raise UplinkRefused(NOT_WEBP, f"WebP 'VP8 ' chunk lacks the start code 9d 01 2a "
                                          f"(has {body[3:6].hex(' ')})")
        width, height = struct.unpack_from("<HH", body, 6)
        return height & 0x3FFF, width & 0x3FFF
    if len(body) < 5:
        raise UplinkRefused(TRUNCATED, f"WebP 'VP8L' chunk of {len(body)} bytes is shorter "
                                       "than its 5-byte header")
    if body[0] != 0x2F:
        raise UplinkRefused(NOT_WEBP, f"WebP 'VP8L' chunk starts with 0x{body[0]:02x}, not 0x2f")
    bits = _u32(body, 1)
    return ((bits >> 14) & 0x3FFF) + 1, (bits & 0x3FFF) + 1


def webp_size(data: bytes) -> Tuple[int, int]:
    """(height, width) [px] a still WebP declares; raises UplinkRefused for anything else.

    Every size the file declares is checked (the VP8X canvas and the image chunk), so a small
    canvas cannot hide a large frame. Cheap and bounded (at most MAX_CHUNKS_BEFORE_IMAGE chunk
    headers are read), so it may run in a subscription callback.
    """
    data = bytes(data)
    if not data:
        raise UplinkRefused(EMPTY, "uplink payload is empty: nothing to decode")
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UplinkRefused(NOT_WEBP, f"uplink payload of {len(data)} bytes is not WebP (starts "
                                      f"with {data[:12]!r}; expected 'RIFF....WEBP'); the "
                                      "uplink sends WebP only")
    riff_end = _u32(data, 4) + 8
    if riff_end > len(data):
        raise UplinkRefused(TRUNCATED, f"WebP RIFF header declares {riff_end} bytes but the "
                                       f"payload has {len(data)}")
    offset, sizes, animated = 12, [], False
    for _ in range(MAX_CHUNKS_BEFORE_IMAGE):
        if offset + 8 > riff_end:
            break
        fourcc, size = data[offset:offset + 4], _u32(data, offset + 4)
        body_start = offset + 8
        if body_start + size > riff_end:
            raise UplinkRefused(TRUNCATED, f"WebP chunk {fourcc!r} of {size} bytes runs past the "
                                           f"RIFF end at byte {riff_end}")
        body = data[body_start:body_start + size]
        if fourcc == b"VP8X":
            if size < 10:
                raise UplinkRefused(TRUNCATED, f"WebP 'VP8X' chunk of {size} bytes is shorter "
                                               "than 10")
            animated = bool(body[0] & _VP8X_ANIMATION)
            width = int.from_bytes(body[4:7], "little") + 1
            height = int.from_bytes(body[7:10], "little") + 1
            sizes.append((height, width))
        elif fourcc in (b"VP8 ", b"VP8L"):
            sizes.append(_image_chunk_hw(fourcc, body))
            break  # the image itself; chunks after it are metadata
        elif offset == 12:
            raise UplinkRefused(NOT_WEBP, f"WebP's first chunk is {fourcc!r}; expected 'VP8 ', "
                                          "'VP8L' or 'VP8X'")
        offset = body_start + size + (size & 1)
    if animated:
        raise UplinkRefused(ANIMATED, "uplink payload is an animated WebP; the uplink sends "
                                      "one still frame per message")
    if not sizes or len(sizes) == 1 and data[12:16] == b"VP8X":
        raise UplinkRefused(TRUNCATED, f"WebP payload holds no 'VP8 ' / 'VP8L' image chunk in "
                                       f"its first {MAX_CHUNKS_BEFORE_IMAGE} chunks")
    if len(set(sizes)) != 1:
        raise UplinkRefused(NOT_WEBP, f"WebP declares sizes {sizes} (canvas and image differ)")
    height, width = sizes[0]
    if height < 1 or width < 1:
        raise UplinkRefused(NOT_WEBP, f"WebP declares {width}x{height} px")
    return height, width


def check_webp_size(data: bytes, max_pixels: int) -> Tuple[int, int]:
    """``webp_size`` plus the size limit: refuses more than ``max_pixels`` (0 = no limit)."""
    height, width = webp_size(data)
    if max_pixels > 0 and height * width > max_pixels:
        raise UplinkRefused(OVERSIZE, f"WebP of {len(data)} bytes declares {width}x{height} = "
                                      f"{height * width} px, more than max_uplink_pixels "
                                      f"{max_pixels}; refused before decoding (raise "
                                      "max_uplink_pixels on the cloud if the robot really "
                                      "uplinks frames this large)")
    return height, width
