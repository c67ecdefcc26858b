"""The link emulator over a real rclpy graph: robot domain -> emulator process -> cloud domain.

Publisher and subscriber are contexts of this test process on two DDS domains; the emulator is
a child process started by the Stack launcher. Times are wall clock of one host (time.time()).
"""

import statistics
import threading
import time

import numpy as np
import pytest
from domain_probe import DomainProbe, wait_until

from dedelayed_bringup.stack import NodeProcess, Stack

pytestmark = pytest.mark.ros

NAMESPACE = "/robot7"
UPLINK = "dedelayed/uplink/compressed"
DOWNLINK = "dedelayed/remote_features"


def _emulator(robot_domain, cloud_domain, **parameters):
    return NodeProcess(
        "link_emulator", module="dedelayed_bringup.link_emulation.emulator_node", namespace=NAMESPACE,
        parameters={"robot_domain_id": robot_domain, "cloud_domain_id": cloud_domain,
                    **parameters})


def _wall_stamp(header):
    now = time.time()
    header.stamp.sec, header.stamp.nanosec = int(now), int((now % 1) * 1e9)


def _stamp_s(stamp):
    return stamp.sec + stamp.nanosec * 1e-9


def test_uplink_delay_outage_and_recovery(ros_domain_id):
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CompressedImage

    robot_domain, cloud_domain = ros_domain_id, ros_domain_id + 1
    arrivals = []  # (one-way delay [s], publish wall time [s])
    diagnostics = []
    spec = _emulator(robot_domain, cloud_domain, uplink_delay_ms=50.0, uplink_jitter_ms=2.0,
                     diagnostics_period_s=0.2)
    with Stack([spec], output=None) as stack, \
            DomainProbe(robot_domain, "camera", NAMESPACE) as robot, \
            DomainProbe(cloud_domain, "cloud", NAMESPACE) as cloud:
        stack.wait_for_output("link_emulator", "relaying robot domain", timeout_s=30)
        publisher = robot.node.create_publisher(CompressedImage, UPLINK, qos_profile_sensor_data)
        robot.node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)

        def on_image(msg):
            sent_s = _stamp_s(msg.header.stamp)
            arrivals.append((time.time() - sent_s, sent_s))

        cloud.node.create_subscription(CompressedImage, UPLINK, on_image, qos_profile_sensor_data)
        image = CompressedImage(format="webp", data=bytes(range(256)) * 40)  # 10 kB

        def publish_for(duration_s, period_s=0.01):
            end = time.monotonic() + duration_s
            while time.monotonic() < end:
                _wall_stamp(image.header)
                publisher.publish(image)
                time.sleep(period_s)

        # 1. Delay: discovery first (the first messages may go nowhere), then 1.5 s of samples.
        assert wait_until(lambda: publish_for(0.1) or len(arrivals) > 0, 20.0), (
            "nothing crossed the emulator; its output:\n" + stack.output_of("link_emulator"))
        arrivals.clear()
        publish_for(1.5)
        time.sleep(0.2)
        delays_ms = sorted(d * 1e3 for d, _ in arrivals)
        median_ms = statistics.median(delays_ms)
        print(f"one-way delay through the emulator (50 +- 2 ms configured): median "
              f"{median_ms:.2f} ms, min {delays_ms[0]:.2f}, max {delays_ms[-1]:.2f}, "
              f"n={len(delays_ms)}")
        assert len(delays_ms) > 100
        assert median_ms == pytest.approx(50.0, abs=10.0)
        assert delays_ms[0] > 40.0  # never much earlier than the configured delay

        # 2. Outage: switched off at run time, nothing published afterwards arrives.
        robot.set_parameters(f"{NAMESPACE}/link_emulator", link_up=False)
        switched_off_s = time.time()
        publish_for(0.6)
        time.sleep(0.2)
        assert not [sent for _, sent in arrivals if sent > switched_off_s]
        assert wait_until(lambda: any(
            s.level == s.WARN and "dropped_outage" in {v.key for v in s.values}
            and int({v.key: v.value for v in s.values}["dropped_outage"]) > 0
            for array in diagnostics[-3:] for s in array.status), 2.0)

        # 3. Recovery.
        robot.set_parameters(f"{NAMESPACE}/link_emulator", link_up=True)
        switched_on_s = time.time()
        publish_for(0.5)
        time.sleep(0.2)
        assert len([sent for _, sent in arrivals if sent > switched_on_s]) > 20
    assert stack.returncodes() == {"link_emulator": 0}, stack.output_of("link_emulator")


def _feature_map(msg_type):
    from dedelayed_models.transport import encode_features
    from dedelayed_models.transport.feature_msg import fill_feature_map

    z = np.random.default_rng(3).standard_normal((96, 60, 108)).astype(np.float32)
    msg = fill_feature_map(msg_type(), encode_features(z, "float16"))
    msg.model_identity = "dedelayed-remote-test-v1-0000"
    msg.delay_ms = 100.0
    return msg


def test_feature_map_crosses_byte_identical_and_relay_overhead(ros_domain_id):
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

    from dedelayed_msgs.msg import FeatureMap

    reliable = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    robot_domain, cloud_domain = ros_domain_id, ros_domain_id + 1
    relayed, direct = [], []
    spec = _emulator(robot_domain, cloud_domain, downlink_delay_ms=0.0, downlink_jitter_ms=0.0)
    with Stack([spec], output=None) as stack, \
            DomainProbe(robot_domain, "fusion", NAMESPACE) as robot, \
            DomainProbe(cloud_domain, "remote", NAMESPACE) as cloud:
        stack.wait_for_output("link_emulator", "relaying robot domain", timeout_s=30)
        # A best-effort producer never matches the relay's reliable reader: said, with the fix.
        best_effort = cloud.node.create_publisher(FeatureMap, DOWNLINK, qos_profile_sensor_data)
        stack.wait_for_output("link_emulator", "incompatible.*needs qos 'sensor'", timeout_s=20)
        cloud.node.destroy_publisher(best_effort)

        publisher = cloud.node.create_publisher(FeatureMap, DOWNLINK, reliable)
        robot.node.create_subscription(
            FeatureMap, DOWNLINK, lambda m: relayed.append((time.time(), m)), reliable)
        cloud.node.create_subscription(  # same domain, no relay: the baseline latency
            FeatureMap, DOWNLINK, lambda m: direct.append((time.time(), m)), reliable)
        sent = _feature_map(FeatureMap)
        assert len(sent.data) == 96 * 60 * 108 * 2  # 1.24 MB of float16

        lock = threading.Lock()

        def publish(n, period_s=0.1):
            for _ in range(n):
                with lock:
                    _wall_stamp(sent.header)
                    publisher.publish(sent)
                time.sleep(period_s)

        assert wait_until(lambda: publish(1) or len(relayed) > 0, 20.0), (
            "no FeatureMap crossed; emulator output:\n" + stack.output_of("link_emulator"))
        relayed.clear(), direct.clear()
        publish(20)
        time.sleep(0.3)

    got = relayed[-1][1]
    for field in FeatureMap.get_fields_and_field_types():
        if field not in ("header", "data"):
            assert getattr(got, field) == getattr(sent, field), field
    assert bytes(got.data) == bytes(sent.data)  # byte for byte
    latency = lambda pairs: statistics.median(  # noqa: E731
        (t - _stamp_s(m.header.stamp)) * 1e3 for t, m in pairs)
    relay_ms, direct_ms = latency(relayed), latency(direct)
    print(f"1.24 MB FeatureMap: direct {direct_ms:.2f} ms, through the 0-delay relay "
          f"{relay_ms:.2f} ms, relay overhead {relay_ms - direct_ms:.2f} ms "
          f"({len(relayed)}/20 relayed, {len(direct)}/20 direct)")
    assert len(relayed) == len(direct) == 20  # reliable local hops: none lost at 0 loss
    assert relay_ms - direct_ms < 50.0  # a few ms expected; generous for 2 shared cores


@pytest.mark.parametrize("parameters, message", [
    ({"uplink_topics": ["a|nope_msgs/msg/Thing|sensor"]}, "package 'nope_msgs' is not importable"),
    ({"downlink_topics": ["a|sensor_msgs/msg/Image|fast"]}, "QoS 'fast' is unknown"),
    ({"robot_domain_id": 5, "cloud_domain_id": 5}, "both 5"),
    ({"uplink_loss": 1.5}, "uplink_.*loss=1.5 is not a probability"),
])
def test_bad_parameters_exit_with_a_message_naming_them(ros_domain_id, parameters, message):
    spec = NodeProcess("link_emulator", module="dedelayed_bringup.link_emulation.emulator_node",
                       parameters=parameters, env={"ROS_DOMAIN_ID": ros_domain_id})
    with Stack([spec], output=None) as stack:
        stack.wait_for_output("link_emulator", message, timeout_s=30)
        assert wait_until(lambda: stack.returncodes()["link_emulator"] is not None, 10.0)
    assert stack.returncodes()["link_emulator"] == 2
