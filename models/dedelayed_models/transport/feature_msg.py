"""Copy encoded features into and out of a ``dedelayed_msgs/FeatureMap`` message.

Duck-typed on the message's field names so that this stays importable without ROS; the
nodes pass real rclpy message objects. Field meanings and units: FeatureMap.msg.
"""

import array

import numpy as np

from dedelayed_models.transport.feature_codec import INT8, EncodedFeatures


def fill_feature_map(msg, encoded: EncodedFeatures):
    """Write shape, encoding, per-channel parameters and payload into ``msg``; returns msg.

    Timing fields (header, delay_ms, remote times) and model_identity are the caller's.
    """
    msg.channels, msg.height, msg.width = encoded.shape
    msg.encoding = encoded.encoding
    # array('B', bytes) is one memcpy; assigning bytes to a uint8[] field is checked per element.
    msg.data = array.array("B", encoded.data)
    if encoded.encoding == INT8:
        msg.scale = array.array("f", np.asarray(encoded.scale, dtype=np.float32).tobytes())
        msg.offset = array.array("f", np.asarray(encoded.offset, dtype=np.float32).tobytes())
    else:
        msg.scale = array.array("f")
        msg.offset = array.array("f")
    return msg


def encoded_from_feature_map(msg) -> EncodedFeatures:
    """Read the payload fields of a received FeatureMap (no copy of the payload bytes)."""
    scale = np.asarray(msg.scale, dtype=np.float32) if len(msg.scale) else None
    offset = np.asarray(msg.offset, dtype=np.float32) if len(msg.offset) else None
    return EncodedFeatures(
        encoding=str(msg.encoding),
        shape=(int(msg.channels), int(msg.height), int(msg.width)),
        data=memoryview(msg.data).cast("B"),
        scale=scale,
        offset=offset,
    )
