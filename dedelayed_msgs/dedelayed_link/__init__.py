"""The robot <-> cloud link contract and the ROS plumbing every Dedelayed executable shares.

Installed by the ``dedelayed_msgs`` package (ament_cmake_python), which every ROS package of
the project already depends on, so each fact here has exactly one home:

- ``contract``: every link topic's relative name, message type, QoS and direction, and the
  names of the robot's outputs;
- ``qos``: the QoS profiles those names stand for;
- ``ros_main``: one ``main`` helper (init, SIGINT rule, autostart, spin, clean shutdown);
- ``managed``: the lifecycle base class of the robot's nodes and the cloud node.

``dedelayed_models`` (plain Python, no ROS) never imports this package.
"""

from .contract import (
    ALL_LINK_TOPICS,
    CAMERA_OUTPUT,
    CAMERA_TOPIC,
    CLASS_NAMES_TOPIC,
    DELAY_REPORT,
    DIAGNOSTICS_TOPIC,
    FEATURES,
    GROUND_TRUTH_OUTPUT,
    IMAGE_INPUT,
    LINK_TOPICS,
    LOCAL_ONLY_TOPIC,
    OVERLAY_TOPIC,
    REMOTE_SEGMENTATION,
    SEGMENTATION_TOPIC,
    UPLINK,
    LinkTopic,
    robot_topic,
)

__all__ = ["ALL_LINK_TOPICS", "CAMERA_OUTPUT", "CAMERA_TOPIC", "GROUND_TRUTH_OUTPUT", "IMAGE_INPUT",
           "CLASS_NAMES_TOPIC", "DELAY_REPORT", "DIAGNOSTICS_TOPIC", "FEATURES",
           "LINK_TOPICS", "LOCAL_ONLY_TOPIC", "OVERLAY_TOPIC", "REMOTE_SEGMENTATION",
           "SEGMENTATION_TOPIC", "UPLINK", "LinkTopic", "robot_topic"]
