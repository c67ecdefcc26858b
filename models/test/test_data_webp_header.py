"""The WebP header is read before decoding: bombs, other formats, truncation and animation are
refused with their kind before a pixel is allocated; real WebP of any flavour passes."""

import struct
import time
import tracemalloc

import cv2
import numpy as np
import pytest

from dedelayed_models.data import decode_uplink, encode_uplink
from dedelayed_models.data.webp_header import (
    ANIMATED,
    NOT_WEBP,
    OVERSIZE,
    TRUNCATED,
    UNDECODABLE,
    UplinkRefused,
    check_webp_size,
    webp_size,
)
from dedelayed_models.data.world import WorldSequence

MAX_PIXELS = 2048 * 2048


def _frame(h=48, w=80):
    return WorldSequence(1_000_000, num_frames=1, camera_hw=(h, w)).frame(0)


def _chunks(data):
    """[(fourcc, body)] of a RIFF/WEBP file."""
    out, offset = [], 12
    while offset + 8 <= len(data):
        fourcc, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        out.append((fourcc, data[offset + 8:offset + 8 + size]))
        offset += 8 + size + (size & 1)
    return out


def _riff(*chunks):
    body = b"WEBP" + b"".join(f + struct.pack("<I", len(d)) + d + b"\0" * (len(d) & 1)
                              for f, d in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _vp8x(h, w, flags=0):
    return b"VP8X", bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")


def _lossy_bomb(h=16383, w=16383):
    """A real 48x80 lossy WebP whose VP8 frame header claims h x w (what an attacker sends)."""
    data = bytearray(encode_uplink(_frame()))
    assert data[12:16] == b"VP8 "
    struct.pack_into("<HH", data, 20 + 6, w, h)
    return bytes(data)


def test_real_webp_sizes_lossy_lossless_and_extended():
    rgb = _frame()
    lossy = encode_uplink(rgb)
    assert webp_size(lossy) == (48, 80)
    ok, lossless = cv2.imencode(".webp", rgb, [cv2.IMWRITE_WEBP_QUALITY, 101])
    lossless = lossless.tobytes()
    assert lossless[12:16] == b"VP8L" and webp_size(lossless) == (48, 80)
    assert decode_uplink(lossless, MAX_PIXELS).shape == (48, 80, 3)
    extended = _riff(_vp8x(48, 80), *_chunks(lossy))
    assert webp_size(extended) == (48, 80)
    assert decode_uplink(extended, MAX_PIXELS).shape == (48, 80, 3)


def test_bomb_is_refused_before_any_pixel_is_allocated():
    bomb = _lossy_bomb()
    assert len(bomb) < 10_000 and webp_size(bomb) == (16383, 16383)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(UplinkRefused, match="16383x16383.*max_uplink_pixels") as refused:
        decode_uplink(bomb, MAX_PIXELS)
    elapsed_s = time.perf_counter() - start
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert refused.value.kind == OVERSIZE
    assert elapsed_s < 0.05 and peak_bytes < 1_000_000, (elapsed_s, peak_bytes)
    # A small canvas cannot hide a large frame, nor a large canvas pass as a small one.
    hidden = _riff(_vp8x(48, 80), *_chunks(bomb))
    with pytest.raises(UplinkRefused) as refused:
        check_webp_size(hidden, MAX_PIXELS)
    assert refused.value.kind == NOT_WEBP
    with pytest.raises(UplinkRefused) as refused:
        check_webp_size(_riff(_vp8x(20000, 20000), *_chunks(encode_uplink(_frame()))), MAX_PIXELS)
    assert refused.value.kind == NOT_WEBP
    with pytest.raises(UplinkRefused) as refused:
        check_webp_size(_riff(_vp8x(16000, 16000), *_chunks(_lossy_bomb(16000, 16000))), MAX_PIXELS)
    assert refused.value.kind == OVERSIZE


@pytest.mark.parametrize("extension", [".png", ".jpg", ".bmp", ".tiff"])
def test_other_formats_are_refused_unread(extension):
    ok, data = cv2.imencode(extension, _frame())
    with pytest.raises(UplinkRefused, match="is not WebP") as refused:
        decode_uplink(data.tobytes(), MAX_PIXELS)
    assert refused.value.kind == NOT_WEBP


def test_truncated_animated_and_flipped_payloads_are_refused_with_their_kind():
    good = encode_uplink(_frame())
    for cut in (20, 29, len(good) // 2, len(good) - 1):
        with pytest.raises(UplinkRefused) as refused:
            decode_uplink(good[:cut], MAX_PIXELS)
        assert refused.value.kind == TRUNCATED, cut
    animated = _riff(_vp8x(48, 80, flags=0x02), *_chunks(good))
    with pytest.raises(UplinkRefused) as refused:
        decode_uplink(animated, MAX_PIXELS)
    assert refused.value.kind == ANIMATED
    # Bit flips anywhere: either refused with a kind, or decoded at the declared size (lossy
    # VP8 data has no checksum, so a flip inside it can decode to other pixels).
    rng = np.random.default_rng(0)
    kinds, decoded = set(), 0
    for position in list(range(0, 40)) + list(rng.integers(40, len(good), 60)):
        flipped = bytearray(good)
        flipped[position] ^= 1 << int(rng.integers(0, 8))
        try:
            assert decode_uplink(bytes(flipped), MAX_PIXELS).shape[2] == 3
            decoded += 1
        except UplinkRefused as refusal:
            kinds.add(refusal.kind)
    assert {NOT_WEBP, TRUNCATED} <= kinds and kinds <= {NOT_WEBP, TRUNCATED, OVERSIZE,
                                                          UNDECODABLE}, kinds
