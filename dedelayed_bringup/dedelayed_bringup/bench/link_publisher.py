"""Publishes FeatureMaps of one size for the link benchmark, as its own process.

``python -m dedelayed_bringup.bench.link_publisher --shape 64 12 24 --count 60 --rate-hz 10``:
each message's ``remote_publish_time`` is the wall clock just before publish, so a receiver on
the same host measures publish-to-receive latency. ``--rate-hz 0`` = back to back.
"""

import argparse
import time

import numpy as np

from dedelayed_link import FEATURES, robot_topic


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--topic", default=robot_topic("/robot1", FEATURES.name))
    parser.add_argument("--shape", type=int, nargs=3, required=True, help="C H W of z")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate-hz", type=float, default=10.0)
    parser.add_argument("--wait-subscribers", type=int, default=1)
    args = parser.parse_args(argv)

    import rclpy
    from builtin_interfaces.msg import Time

    from dedelayed_link import qos as link_qos
    from dedelayed_models.transport import encode_features
    from dedelayed_models.transport.feature_msg import fill_feature_map
    from dedelayed_msgs.msg import FeatureMap

    rclpy.init()
    node = rclpy.create_node("link_bench_publisher")
    publisher = node.create_publisher(FeatureMap, args.topic, link_qos.newest_reliable())
    z = np.random.default_rng(0).standard_normal(tuple(args.shape)).astype(np.float32)
    msg = fill_feature_map(FeatureMap(), encode_features(z, "float16"))
    msg.model_identity = "dedelayed-remote-bench"
    deadline = time.monotonic() + 30
    while publisher.get_subscription_count() < args.wait_subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let reliable matching settle
    period = 1.0 / args.rate_hz if args.rate_hz > 0 else 0.0
    start = time.monotonic()
    for index in range(args.count):
        msg.context_frames = index
        sec, nanosec = divmod(time.time_ns(), 1_000_000_000)
        msg.remote_publish_time = Time(sec=sec, nanosec=nanosec)
        publisher.publish(msg)
        if period:
            time.sleep(max(0.0, start + (index + 1) * period - time.monotonic()))
    time.sleep(1.0)  # reliable repairs of the last message
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
