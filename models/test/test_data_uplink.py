"""The WebP uplink: colours survive in RGB order, bytes shrink, bad payloads are named."""

import numpy as np
import pytest

from dedelayed_models.data import WEBP_QUALITY, decode_uplink, encode_uplink
from dedelayed_models.data.world import WorldSequence


def test_roundtrip_keeps_rgb_order_and_quality():
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 220
    back = decode_uplink(encode_uplink(red))
    assert back[..., 0].mean() > 200 and back[..., 2].mean() < 20
    image = WorldSequence(1_000_000, num_frames=2).frame(0)
    data = encode_uplink(image, WEBP_QUALITY)
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert len(data) < image.nbytes / 5
    mse = np.mean((decode_uplink(data).astype(float) - image) ** 2)
    assert 10 * np.log10(255 ** 2 / mse) > 28


def test_lower_quality_means_fewer_bytes():
    image = WorldSequence(1_000_000, num_frames=2).frame(0)
    assert len(encode_uplink(image, 40)) < len(encode_uplink(image, 85)) < len(encode_uplink(image, 98))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="is not WebP"):
        decode_uplink(b"definitely not webp")
    with pytest.raises(ValueError, match="empty"):
        decode_uplink(b"")
    with pytest.raises(ValueError, match="uint8 RGB"):
        encode_uplink(np.zeros((4, 4), np.float32))
