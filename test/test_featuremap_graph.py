"""A FeatureMap crosses a real rclpy graph over Fast DDS, between two processes, intact."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from dedelayed_models.transport import decode_features
from dedelayed_models.transport.feature_msg import encoded_from_feature_map

pytestmark = pytest.mark.ros

PEER = os.path.join(os.path.dirname(__file__), "featuremap_peer.py")


def _receive_one(context, msg_type, topic, timeout_s=30.0):
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    node = rclpy.create_node("featuremap_test_robot", context=context)
    received = []
    node.create_subscription(msg_type, topic, received.append,
                             QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    deadline = time.monotonic() + timeout_s
    while not received and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.1)
    executor.shutdown()
    node.destroy_node()
    return received[0] if received else None


@pytest.mark.parametrize("encoding", ["float16", "int8"])
def test_feature_map_arrives_intact(ros_context, encoding):
    import featuremap_peer

    from dedelayed_msgs.msg import FeatureMap

    peer = subprocess.Popen([sys.executable, PEER, "--encoding", encoding],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        got = _receive_one(ros_context, FeatureMap, featuremap_peer.TOPIC)
    finally:
        peer.terminate()
        peer_output = peer.communicate(timeout=10)[0].decode(errors="replace")
    assert got is not None, f"no FeatureMap within 30 s; publisher said:\n{peer_output}"

    sent = featuremap_peer.build_feature_map(FeatureMap, encoding)
    for field in FeatureMap.get_fields_and_field_types():
        if field != "data":
            assert getattr(got, field) == getattr(sent, field), field
    assert bytes(got.data) == bytes(sent.data)  # payload byte for byte
    assert (got.channels, got.height, got.width) == (96, 60, 108)

    z_sent = decode_features(encoded_from_feature_map(sent))
    z_got = decode_features(encoded_from_feature_map(got))
    assert np.array_equal(z_got, z_sent)
