"""The link contract has one home (dedelayed_link.contract): every YAML file and README that
names a link topic or a robot output spells it as the contract does, and every node default
and emulator relay spec is derived from it."""

import glob
import os
import re

import pytest
import yaml

from dedelayed_link import contract

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KNOWN_TOPICS = {t.name for t in contract.ALL_LINK_TOPICS} | {
    contract.SEGMENTATION_TOPIC, contract.OVERLAY_TOPIC, contract.LOCAL_ONLY_TOPIC,
    contract.CLASS_NAMES_TOPIC}
# "dedelayed/<words>" in prose or YAML; "dedelayed/tools/..." is a checkout path, not a topic.
TOPIC_LIKE = re.compile(r"(?<![\w.-])/?(?:[\w]+/)*?(dedelayed/(?!tools/)[a-z_]+(?:/[a-z_]+)*)")


def _documents():
    patterns = ["README.md", "*/README.md", "*/*/*/README.md", "docs/*.md", "*/config/*.yaml"]
    return sorted(p for pat in patterns for p in glob.glob(os.path.join(REPO, pat)))


def test_every_topic_named_in_yaml_and_readmes_is_spelled_as_the_contract():
    wrong = []
    for path in _documents():
        for line_no, line in enumerate(open(path, encoding="utf-8"), 1):
            for match in TOPIC_LIKE.finditer(line):
                if match.group(1) not in KNOWN_TOPICS:
                    wrong.append(f"{os.path.relpath(path, REPO)}:{line_no}: {match.group(1)}")
    assert not wrong, ("topic names that the link contract (dedelayed_link/contract.py) does not "
                       "define; fix the spelling or add the topic there:\n" + "\n".join(wrong))


def test_emulator_yaml_relays_exactly_the_contract():
    cfg = yaml.safe_load(open(os.path.join(REPO, "dedelayed_bringup", "config", "link_emulator.yaml")))
    params = next(iter(cfg.values()))["ros__parameters"]
    assert params["uplink_topics"] == [t.relay_spec for t in contract.LINK_TOPICS if t.direction == contract.UP]
    assert params["downlink_topics"] == [t.relay_spec for t in contract.LINK_TOPICS
                                         if t.direction == contract.DOWN]


def test_robot_topics_are_fixed_names_renamed_by_remapping_only():
    """No node parameter names a topic: topics are the contract's fixed names, and the camera
    input 'image' is remapped (graph.robot_processes, the launch files' image:=)."""
    from dedelayed_bringup.graph import robot_processes

    for path in ("dedelayed_local/config/robot.yaml", "dedelayed_remote/config/remote.yaml",
                 "dedelayed_bringup/config/synthetic_camera.yaml"):
        cfg = yaml.safe_load(open(os.path.join(REPO, path)))
        names = [k for node in cfg.values() for k in node["ros__parameters"]]
        assert not [k for k in names if k.endswith("_topic")], path
    (robot,) = robot_processes(namespace="/robot1")
    assert robot.remappings == {contract.IMAGE_INPUT: contract.CAMERA_TOPIC}
    assert not contract.IMAGE_INPUT.startswith("/") and not contract.CAMERA_OUTPUT.startswith("/")


def test_contract_topics_are_relative_and_typed():
    for topic in contract.ALL_LINK_TOPICS:
        assert not topic.name.startswith("/"), f"{topic.name}: link topics resolve under the robot namespace"
        package, kind, name = topic.msg_type.split("/")
        assert kind == "msg" and package and name
        assert topic.direction in (contract.UP, contract.DOWN)
    assert contract.robot_topic("/robot1/", contract.FEATURES.name) == "/robot1/dedelayed/remote_features"


def test_models_package_imports_no_ros():
    offenders = []
    for path in glob.glob(os.path.join(REPO, "models", "dedelayed_models", "**", "*.py"), recursive=True):
        text = open(path, encoding="utf-8").read()
        if re.search(r"^\s*(from|import)\s+(rclpy|dedelayed_link|dedelayed_msgs|sensor_msgs)\b", text, re.M):
            offenders.append(os.path.relpath(path, REPO))
    assert not offenders, f"dedelayed_models must stay ROS-free: {offenders}"


@pytest.mark.ros
def test_a_ros_stamp_is_integer_nanoseconds_both_ways():
    from builtin_interfaces.msg import Time

    from dedelayed_link.stamps import ns_to_stamp, stamp_to_ns

    stamp = Time(sec=1_796_695_097, nanosec=999_999_999)   # a float of seconds would round it
    ns = stamp_to_ns(stamp)
    assert ns == 1_796_695_097_999_999_999 and isinstance(ns, int)
    assert ns_to_stamp(ns) == stamp and ns_to_stamp(0) == Time()


def test_zero_delay_bound_means_the_trained_maximum():
    from dedelayed_models.data.context_timing import delay_bound_ms

    assert delay_bound_ms(0.0, (0.0, 600.0)) == 600.0
    assert delay_bound_ms(450, (0.0, 600.0)) == 450.0
