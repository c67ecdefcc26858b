"""config/robot.yaml lists every parameter the robot nodes declare, with the same default."""

import os

import pytest
import yaml

pytestmark = pytest.mark.ros  # the node modules import rclpy

CONFIG = os.path.join(os.path.dirname(__file__), "..", "config", "robot.yaml")


def test_robot_yaml_matches_declared_parameters():
    from dedelayed_local import fusion_node, segmenter_node, uplink_node

    config = yaml.safe_load(open(CONFIG))
    for node, module in (("dedelayed_segmenter", segmenter_node), ("dedelayed_fusion", fusion_node),
                         ("dedelayed_uplink", uplink_node)):
        in_yaml = config[f"/**/{node}"]["ros__parameters"]
        declared = {name: default for name, default, _ in module.PARAMETERS}
        assert in_yaml == declared, node
        assert all(description for _, _, description in module.PARAMETERS)
