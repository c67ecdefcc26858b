"""What the soak test's attackers send: uplink bombs and other bad uplink payloads, impostor
FeatureMaps and abusive DelayReports (built from real encoders and real messages)."""

import array
import struct
import zlib

import cv2
import numpy as np

from dedelayed_models.data.uplink import encode_uplink


def uplink_bombs(camera_hw):
    """[(name, payload bytes)]: small payloads that claim huge images, other formats, damage."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (*camera_hw, 3), dtype=np.uint8)
    webp = encode_uplink(rgb)
    bomb = bytearray(webp)
    struct.pack_into("<HH", bomb, 26, 16383, 16383)          # VP8 frame header: 16383 x 16383
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    png_bomb = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
                + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + zlib.compress(bytes(1 << 16)))
    flipped = bytearray(webp)
    flipped[14] ^= 0x40                                      # damaged chunk name
    jpeg = cv2.imencode(".jpg", rgb)[1].tobytes()
    return [("webp bomb 16383x16383", bytes(bomb)), ("png bomb 20000x20000", png_bomb),
            ("bit-flipped webp", bytes(flipped)), ("jpeg", jpeg),
            ("truncated webp", webp[: len(webp) // 2]), ("empty", b"")]


def impostor_feature_maps(identity, shape, stamp_ns, robot="/"):
    """FeatureMaps the robot must refuse: another model, NaN values, wrong shape (addressed to
    ``robot``, the robot's namespace, so that is not what they are refused for)."""
    from dedelayed_models.transport import encode_features
    from dedelayed_models.transport.feature_msg import fill_feature_map
    from dedelayed_msgs.msg import FeatureMap

    def make(z, ident=identity, encoding="float16"):
        msg = fill_feature_map(FeatureMap(), encode_features(z, encoding))
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        msg.model_identity, msg.robot = ident, robot
        return msg

    good = np.ones(shape, np.float32)
    nan = make(good, encoding="float32")
    nan.data[0:4] = array.array("B", np.array([np.nan], "<f4").tobytes())
    return [make(good, ident=identity + "-impostor"), nan,
            make(np.ones((shape[0], shape[1] + 1, shape[2]), np.float32))]


def abusive_delay_reports(identity):
    """DelayReports the cloud must clamp or refuse, with an identity that flips each time."""
    from dedelayed_msgs.msg import DelayReport

    reports = []
    for i, delay_ms in enumerate((1e9, float("nan"), -5.0, float("inf"), 1e9)):
        msg = DelayReport(observed_delay_ms=delay_ms, delay_jitter_ms=1.0, window_size=10)
        msg.expected_model_identity = identity if i % 2 else identity + "-other"
        reports.append(msg)
    return reports
