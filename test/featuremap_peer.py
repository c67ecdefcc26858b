"""The cloud end of the FeatureMap graph test, run as its own process.

``build_feature_map`` makes a fully populated FeatureMap from a seed, so the receiving test
can rebuild the exact expected message; ``main`` publishes it until killed.
"""

import argparse
import time

import numpy as np

from dedelayed_models.transport import encode_features
from dedelayed_models.transport.feature_msg import fill_feature_map

TOPIC = "remote_features"
SHAPE = (96, 60, 108)  # paper: C = 96 at local 480x864 -> stage-1 grid 60x108


def build_feature_map(msg_type, encoding="float16", seed=7):
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(SHAPE) * rng.uniform(0.5, 4.0, (SHAPE[0], 1, 1))).astype(np.float32)
    msg = fill_feature_map(msg_type(), encode_features(z, encoding))
    msg.header.stamp.sec, msg.header.stamp.nanosec = 1_700_000_123, 456_789_012
    msg.header.frame_id = "camera_front_optical"
    msg.delay_ms = 99.5
    msg.model_identity = "dedelayed-remote-paper-v1-0123abcd"
    msg.context_frames = 4
    msg.remote_receive_time.sec, msg.remote_receive_time.nanosec = 42, 1_000
    msg.remote_publish_time.sec, msg.remote_publish_time.nanosec = 42, 31_000_000
    msg.remote_compute_ms = 30.75  # float32-exact, so sent == received
    return msg


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoding", default="float16")
    parser.add_argument("--period-s", type=float, default=0.1)
    args = parser.parse_args()

    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from dedelayed_msgs.msg import FeatureMap

    rclpy.init()
    node = rclpy.create_node("featuremap_peer_cloud")
    publisher = node.create_publisher(
        FeatureMap, TOPIC, QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    msg = build_feature_map(FeatureMap, args.encoding)
    try:
        while rclpy.ok():
            publisher.publish(msg)
            time.sleep(args.period_s)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
