"""config/robot.yaml lists every parameter the robot nodes declare, with the same default."""

import os
import re

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
        declared = {p.name: p.default for p in module.PARAMETERS}
        assert in_yaml == declared, node
        assert all(p.description for p in module.PARAMETERS)


def test_uplink_size_defaults_to_the_checkpoints_remote_input(ros_context):
    """robot.yaml's remote_height/width 0: the robot sends frames at the size its checkpoint's
    remote model takes (192x384 for the shipped one), so the cloud never resizes them."""
    from dedelayed_link.managed import SUCCESS
    from dedelayed_local.robot_model import RobotModel
    from dedelayed_local.uplink_node import UplinkNode

    shipped = os.path.join(os.path.dirname(__file__), "..", "..", "models", "dedelayed_models",
                           "checkpoints", "dedelayed.pt")
    if not os.path.isfile(shipped):
        pytest.skip("needs the shipped checkpoint models/dedelayed_models/checkpoints/dedelayed.pt")
    from dedelayed_local.robot_link import LinkSlot, RobotLink

    model = RobotModel.from_checkpoint(shipped)
    remote_hw = tuple(model.config.remote_hw)
    assert remote_hw == (192, 384)
    slot = LinkSlot()
    slot.install(RobotLink.for_model(model))
    node = UplinkNode(slot, context=ros_context)
    try:
        assert node.trigger_configure() == SUCCESS
        assert node.remote_hw == remote_hw
    finally:
        node.destroy_node()
    alone = UplinkNode(context=ros_context)   # no robot process: no checkpoint to ask
    try:
        assert alone.trigger_configure() != SUCCESS
        assert re.search("remote_height 0 x remote_width 0.*give both", alone.last_failure)
    finally:
        alone.destroy_node()
