"""The Zenoh link's plain parts: keys, session configs (TLS, access control), the newest-only
relay, the malformed-bytes check, and config/link_bridge.yaml = the node's parameter table."""

import os
import threading

import pytest
import yaml

from dedelayed_bringup.secure_link.zenoh_link import (
    BridgeCounters,
    MalformedMessage,
    NewestOnlyRelay,
    access_control,
    check_serialized,
    cloud_session_config,
    robot_session_config,
    topic_key,
)

CONFIG = os.path.join(os.path.dirname(__file__), "..", "config", "link_bridge.yaml")


def test_keys_carry_the_robot_namespace():
    assert topic_key("/robot1", "dedelayed/remote_features") == "robot1/dedelayed/remote_features"
    with pytest.raises(ValueError, match="not a ROS namespace"):
        topic_key("/robot one", "x")


def test_the_cloud_listens_with_mutual_tls_and_denies_by_default():
    tls = dict(ca_certificate="ca.pem", certificate="cloud.pem", private_key="cloud.key")
    cloud = cloud_session_config("tls/0.0.0.0:7447", robot_namespaces=["/robot1", "/robot2"],
                                 **tls)
    assert cloud["mode"] == "router" and cloud["listen"]["endpoints"] == ["tls/0.0.0.0:7447"]
    assert cloud["transport"]["link"]["tls"]["enable_mtls"] is True
    assert cloud["scouting"]["multicast"]["enabled"] is False
    assert cloud["transport"]["shared_memory"]["enabled"] is False  # nothing bypasses TLS
    acl = cloud["access_control"]
    assert acl["default_permission"] == "deny"
    assert [r["key_exprs"] for r in acl["rules"]] == [["robot1/**"], ["robot2/**"]]
    assert [s["cert_common_names"] for s in acl["subjects"]] == [["robot1"], ["robot2"]]
    robot = robot_session_config("tls/cloud.example.org:7447", **tls)
    assert robot["mode"] == "client" and "listen" not in robot
    assert robot["transport"]["link"]["tls"]["connect_certificate"] == "cloud.pem"
    with pytest.raises(ValueError, match="tls/<host>:<port>"):
        robot_session_config("tcp/cloud:7447", **tls)
    with pytest.raises(ValueError, match="robot_namespaces is empty"):
        cloud_session_config("tls/0.0.0.0:7447", robot_namespaces=[], **tls)
    assert access_control([])["rules"] == []


def test_the_relay_hands_over_the_newest_payload_and_counts_the_superseded():
    delivered, release = [], threading.Event()

    def deliver(key, payload):
        release.wait(5)
        delivered.append((key, payload))

    counters = {"a": BridgeCounters()}
    relay = NewestOnlyRelay(deliver, counters)
    relay.offer("a", b"1")          # taken at once, held in deliver
    threading.Event().wait(0.2)
    for payload in (b"2", b"3", b"4"):
        relay.offer("a", payload)   # 2 and 3 are replaced before the relay is free
    release.set()
    deadline = threading.Event()
    while len(delivered) < 2 and not deadline.wait(0.05):
        pass
    relay.stop()
    assert delivered == [("a", b"1"), ("a", b"4")]
    assert counters["a"].snapshot()["received"] == 4
    assert counters["a"].snapshot()["dropped_superseded"] == 2


@pytest.mark.ros
def test_malformed_bytes_are_named_and_good_bytes_pass():
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import CompressedImage

    check_serialized(serialize_message(CompressedImage(format="x", data=b"123")), CompressedImage)
    with pytest.raises(MalformedMessage, match="not a serialised CompressedImage"):
        check_serialized(b"\x00\x01\x00\x00\xff\xff\xff\x7f", CompressedImage)


@pytest.mark.ros
def test_config_yaml_lists_every_parameter_with_its_default():
    from dedelayed_bringup.secure_link.bridge_node import PARAMETERS

    with open(CONFIG) as handle:
        values = yaml.safe_load(handle)["/**/link_bridge"]["ros__parameters"]
    from dedelayed_link.params import defaults

    assert values == defaults(PARAMETERS)
