"""`robot`: the robot side of Dedelayed in ONE process -- segmenter, fusion and uplink nodes.

Why one process: the fusion node decodes each FeatureMap into a tensor that the segmenter adds
to its stage-1 features for the next frame. Sharing the FeatureStore in memory means no feature
tensor is ever serialised again on the robot (rclpy has no zero-copy intra-process transport).
The nodes stay separate ROS nodes (own names, parameters, remappings), like composable nodes
in a C++ component container. Run with `--ros-args --params-file robot.yaml -r __ns:=/robot1`.
"""

import argparse
import sys

import rclpy
from rclpy.signals import SignalHandlerOptions
from rclpy.utilities import remove_ros_args
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

from dedelayed_models.process_signals import sigint_raises_keyboard_interrupt

from dedelayed_local.fusion_node import FusionNode
from dedelayed_local.segmenter_node import LocalSegmenterNode
from dedelayed_local.uplink_node import UplinkNode


def main(args=None):
    argv = args if args is not None else sys.argv
    parser = argparse.ArgumentParser(description="Dedelayed robot: segmenter + fusion (+ uplink)")
    parser.add_argument("--without-uplink", action="store_true",
                        help="do not run the uplink node in this process (default: run it)")
    options = parser.parse_args(remove_ros_args(argv)[1:])
    sigint_raises_keyboard_interrupt()
    # No rclpy signal handler: Ctrl-C / SIGINT raises KeyboardInterrupt here, so the executor
    # and nodes stop before the context does and no callback publishes into a dead context.
    rclpy.init(args=argv,
               signal_handler_options=SignalHandlerOptions.NO)
    nodes, executor = [], None
    try:
        segmenter = LocalSegmenterNode()
        fusion = FusionNode(segmenter.robot_model)
        segmenter.use_fusion(fusion)
        nodes = [segmenter, fusion] + ([] if options.without_uplink else [UplinkNode()])
        executor = MultiThreadedExecutor(num_threads=3)
        for node in nodes:
            executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if executor is not None:
            executor.shutdown()
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
