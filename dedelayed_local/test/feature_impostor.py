"""An impostor on the robot's DDS graph, run as its own process by the authenticity test.

It learns what it can from the public topics (the newest uplinked stamp; identity, shape and
signature of the genuine FeatureMaps) and publishes plausible FeatureMaps at ``--rate-hz``,
cycling through: zeros, noise, 1e30 (float32), float16 max, a copied genuine map with its
stamp moved 45 ms ahead of the newest frame, and a genuine map replayed seconds later. It
prints how many of each it sent when stopped (SIGINT).
"""

import argparse
import array
import copy
import json
import signal
import time

import numpy as np

AHEAD_NS = 45_000_000
KINDS = ("zeros", "noise", "huge", "float16_max", "moved_stamp", "replay")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate-hz", type=float, required=True)
    parser.add_argument("--replay-after-s", type=float, default=2.0)
    args = parser.parse_args()

    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import CompressedImage

    from dedelayed_models.transport import encode_features
    from dedelayed_models.transport.feature_msg import fill_feature_map
    from dedelayed_msgs.msg import FeatureMap

    rclpy.init()
    node = rclpy.create_node("impostor")
    reliable = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    seen = {"stamp_ns": None, "genuine": None, "first_genuine": None, "first_at": None}

    def on_uplink(msg):
        seen["stamp_ns"] = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec

    def on_features(msg):
        if len(msg.signature) and msg.model_identity and node.get_name() not in msg.header.frame_id:
            seen["genuine"] = msg
            if seen["first_genuine"] is None:
                seen["first_genuine"], seen["first_at"] = msg, time.monotonic()

    node.create_subscription(CompressedImage, "dedelayed/uplink/compressed", on_uplink,
                             qos_profile_sensor_data)
    node.create_subscription(FeatureMap, "dedelayed/remote_features", on_features, reliable)
    publisher = node.create_publisher(FeatureMap, "dedelayed/remote_features", reliable)
    sent = {kind: 0 for kind in KINDS}
    rng = np.random.default_rng(0)

    def forge(kind, template):
        shape = (template.channels, template.height, template.width)
        if kind == "moved_stamp":
            msg = copy.deepcopy(template)
        elif kind == "replay":
            if time.monotonic() - seen["first_at"] < args.replay_after_s:
                return None
            return seen["first_genuine"]
        else:
            z = {"zeros": lambda: np.zeros(shape, np.float32),
                 "noise": lambda: rng.standard_normal(shape).astype(np.float32) * 10,
                 "huge": lambda: np.full(shape, 1e30, np.float32),
                 "float16_max": lambda: np.full(shape, np.finfo(np.float16).max, np.float32),
                 }[kind]()
            msg = fill_feature_map(FeatureMap(), encode_features(
                z, "float32" if kind == "huge" else "float16"))
            msg.model_identity, msg.delay_ms = template.model_identity, template.delay_ms
            # half of them carry a random "signature", half none
            if sent[kind] % 2:
                msg.signature = array.array("B", rng.integers(0, 256, 64, np.uint8).tobytes())
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(seen["stamp_ns"] + AHEAD_NS,
                                                                1_000_000_000)
        msg.header.frame_id = f"{node.get_name()} {kind}"
        return msg

    turn = [0]

    def publish():
        if seen["genuine"] is None or seen["stamp_ns"] is None:
            return
        kind = KINDS[turn[0] % len(KINDS)]
        turn[0] += 1
        msg = forge(kind, seen["genuine"])
        if msg is not None:
            publisher.publish(msg)
            sent[kind] += 1

    node.create_timer(1.0 / args.rate_hz, publish)
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        rclpy.spin_once(node, timeout_sec=0.01)
    print("SENT " + json.dumps(sent), flush=True)
    node.destroy_node()
    rclpy.try_shutdown()


if __name__ == "__main__":
    main()
