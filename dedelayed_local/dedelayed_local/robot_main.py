"""`robot`: the robot side of Dedelayed in ONE process -- segmenter, fusion and uplink nodes.

Why one process: the fusion node decodes each FeatureMap into a tensor that the segmenter adds
to its stage-1 features for the next frame. Sharing the FeatureStore in memory means no feature
tensor is ever serialised again on the robot (rclpy has no zero-copy intra-process transport).
The nodes stay separate ROS nodes (own names, parameters, remappings), like composable nodes
in a C++ component container. Run with `--ros-args --params-file robot.yaml -r __ns:=/robot1`.
"""

import argparse
import sys

from rclpy.utilities import remove_ros_args

from dedelayed_link.ros_main import run_nodes

from dedelayed_local.fusion_node import FusionNode
from dedelayed_local.segmenter_node import LocalSegmenterNode
from dedelayed_local.uplink_node import UplinkNode


def build_nodes(with_uplink: bool) -> list:
    segmenter = LocalSegmenterNode()
    fusion = FusionNode(segmenter.robot_model, watch_uplink=not with_uplink)
    segmenter.use_fusion(fusion)
    # the uplink sends frames at the checkpoint's remote input where its size parameters are 0
    remote_hw = tuple(segmenter.robot_model.config.remote_hw)
    nodes = [segmenter, fusion]
    if with_uplink:
        uplink = UplinkNode(remote_hw=remote_hw)
        uplink.on_uplinked = fusion.record_uplinked  # the stamps the cloud may echo
        nodes.append(uplink)
    return nodes


def main(args=None) -> int:
    argv = args if args is not None else sys.argv
    parser = argparse.ArgumentParser(description="Dedelayed robot: segmenter + fusion (+ uplink)")
    parser.add_argument("--without-uplink", action="store_true",
                        help="do not run the uplink node in this process (default: run it)")
    options = parser.parse_args(remove_ros_args(argv)[1:])
    return run_nodes(lambda: build_nodes(not options.without_uplink), name="robot", args=argv,
                     num_threads=3)


if __name__ == "__main__":
    sys.exit(main())
