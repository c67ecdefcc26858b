"""The cross-host transports work between two network namespaces, and the default does not.

Robot and cloud "hosts" are network namespaces on two subnets behind a router namespace (no
multicast between them), every process limited to UDP (no shared memory, which would cross
namespaces through /dev/shm): so DDS discovery succeeds only through the configured unicast
peers or discovery server.
Skipped with the reason where namespaces cannot be created (not root, no `ip`).
"""

import os
import shutil
import sys

import pytest

from dedelayed_bringup.stack import NodeProcess, Stack, StackError
from dedelayed_bringup.transport import discovery as transport

pytestmark = pytest.mark.ros

PEER = os.path.join(os.path.dirname(__file__), "netns_peer.py")


def _peers(robot, cloud, domain_id, robot_env, cloud_env):
    base = {"ROS_DOMAIN_ID": domain_id}
    return [
        NodeProcess("talker", executable=sys.executable, arguments=[PEER, "talker"],
                    prefix=cloud.exec_prefix(), env={**base, **cloud_env}),
        NodeProcess("listener", executable=sys.executable, arguments=[PEER, "listener"],
                    prefix=robot.exec_prefix(), env={**base, **robot_env}, required=False),
    ]


def _transport(mode, robot, cloud, tmp_path):
    """(robot env, cloud env, extra processes) for one way of finding each other."""
    if mode == "unicast_profile":
        return (transport.unicast_profile_env(str(tmp_path / "robot.xml"), [cloud.address],
                                              shared_memory=False),
                transport.unicast_profile_env(str(tmp_path / "cloud.xml"), [robot.address],
                                              shared_memory=False), [])
    if mode == "static_peers":
        return (transport.static_peers_env([cloud.address], shared_memory=False),
                transport.static_peers_env([robot.address], shared_memory=False), [])
    server = shutil.which("fast-discovery-server")
    if server is None:
        pytest.skip("fast-discovery-server is not installed with this Fast DDS")
    argv = transport.discovery_server_command(cloud.address)
    env = transport.discovery_server_env(cloud.address, shared_memory=False)
    return env, env, [NodeProcess("discovery_server", executable=server, arguments=argv[1:],
                                  prefix=cloud.exec_prefix())]


@pytest.mark.parametrize("mode", ["unicast_profile", "static_peers", "discovery_server"])
def test_robot_hears_cloud_across_namespaces(hosts, ros_domain_id, tmp_path, mode):
    robot, cloud = hosts
    robot_env, cloud_env, extra = _transport(mode, robot, cloud, tmp_path)
    stack = Stack(extra + _peers(robot, cloud, ros_domain_id, robot_env, cloud_env),
                  output=None, stop_timeout_s=3.0)
    with stack:
        line = stack.wait_for_output("listener", "listener heard", timeout_s=30)
    assert "from the cloud namespace" in line


def test_default_discovery_does_not_cross_without_multicast(hosts, ros_domain_id):
    """The control: with ROS defaults (multicast discovery) the two hosts never meet."""
    robot, cloud = hosts
    default = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET", "FASTDDS_BUILTIN_TRANSPORTS": "UDPv4"}
    with Stack(_peers(robot, cloud, ros_domain_id, default, default), output=None,
               stop_timeout_s=3.0) as stack:
        with pytest.raises(StackError, match="printed no line"):
            stack.wait_for_output("listener", "listener heard", timeout_s=6)


def test_profile_text_matches_the_shipped_example():
    """config/fastdds_unicast_peers.xml is exactly what the helper writes for its addresses."""
    example = os.path.join(os.path.dirname(__file__), "..", "config", "fastdds_unicast_peers.xml")
    with open(example) as f:
        assert f.read() == transport.unicast_profile_xml(["192.0.2.20"])


def test_ports_follow_the_rtps_formula():
    assert transport.discovery_ports(0, 0) == {
        "discovery_unicast": 7410, "user_unicast": 7411,
        "discovery_multicast": 7400, "user_multicast": 7401}
    assert transport.discovery_ports(5, 2)["discovery_unicast"] == 7400 + 1250 + 10 + 4


def test_same_host_profile_text_matches_the_shipped_example(tmp_path):
    example = os.path.join(os.path.dirname(__file__), "..", "config",
                           "fastdds_same_host_large_data.xml")
    with open(example) as f:
        assert f.read() == transport.same_host_profile_xml()
    env = transport.same_host_profile_env(str(tmp_path / "p.xml"))
    assert env["FASTRTPS_DEFAULT_PROFILES_FILE"] == str(tmp_path / "p.xml")
    assert "<segment_size>16777216</segment_size>" in (tmp_path / "p.xml").read_text()
