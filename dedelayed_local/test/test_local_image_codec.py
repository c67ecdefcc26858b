"""Camera Image <-> numpy conversion, on real sensor_msgs/Image messages."""

import numpy as np
import pytest

from dedelayed_local.image_codec import ImageDecodeError, fill_image_msg, image_msg_to_rgb

pytestmark = pytest.mark.ros  # needs the sensor_msgs Python package


def _msg(pixels, encoding, pad=0):
    from sensor_msgs.msg import Image

    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    rows = np.zeros((h, w * channels + pad), np.uint8)
    rows[:, :w * channels] = pixels.reshape(h, -1)
    return Image(height=h, width=w, encoding=encoding, step=w * channels + pad,
                 data=rows.tobytes())


def test_encodings_become_rgb():
    rgb = np.random.default_rng(0).integers(0, 255, (6, 7, 3), dtype=np.uint8)
    assert np.array_equal(image_msg_to_rgb(_msg(rgb, "rgb8")), rgb)
    assert np.array_equal(image_msg_to_rgb(_msg(rgb[:, :, ::-1], "bgr8", pad=3)), rgb)
    mono = rgb[:, :, 0]
    assert np.array_equal(image_msg_to_rgb(_msg(mono, "mono8"))[:, :, 2], mono)


def test_truncated_and_unsupported_frames_are_named():
    rgb = np.zeros((4, 4, 3), np.uint8)
    msg = _msg(rgb, "rgb8")
    msg.data = msg.data[:-1]
    with pytest.raises(ImageDecodeError, match="needs 48 bytes, got 47"):
        image_msg_to_rgb(msg)
    with pytest.raises(ImageDecodeError, match="'bayer_rggb8' is not supported"):
        image_msg_to_rgb(_msg(rgb[:, :, 0], "bayer_rggb8"))


def test_fill_round_trips_mono8_and_rgb8():
    from sensor_msgs.msg import Image

    ids = np.arange(12, dtype=np.uint8).reshape(3, 4)
    msg = fill_image_msg(Image(), ids, "mono8")
    assert (msg.height, msg.width, msg.step, msg.encoding) == (3, 4, 4, "mono8")
    assert bytes(msg.data) == ids.tobytes()
    rgb = np.random.default_rng(1).integers(0, 255, (3, 4, 3), dtype=np.uint8)
    assert np.array_equal(image_msg_to_rgb(fill_image_msg(Image(), rgb, "rgb8")), rgb)
