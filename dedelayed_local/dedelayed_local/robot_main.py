"""`robot`: the robot side of Dedelayed in ONE process -- segmenter, fusion and uplink nodes.

Why one process: the fusion node decodes each FeatureMap into a tensor that the segmenter adds
to its stage-1 features for the next frame. Sharing the FeatureStore in memory means no feature
tensor is ever serialised again on the robot (rclpy has no zero-copy intra-process transport).
The nodes stay separate ROS nodes (own names, parameters, remappings), like composable nodes
in a C++ component container. Run with `--ros-args --params-file robot.yaml -r __ns:=/robot1`.

What the nodes share is one RobotLink (robot_link.py: the feature store with its uplink ledger,
the delay tau and the camera period), kept in a LinkSlot handed to each node. The segmenter
builds the link when it is configured, from the local model it loads and the link's rules (the
fusion node's parameters); the fusion and uplink nodes use it once active. All three are managed
(lifecycle) nodes: with ``autostart`` true (the default) they are configured and activated at
start-up in this order; otherwise ``ros2 lifecycle set`` drives them, the segmenter first.
"""

import argparse
import sys

from rclpy.utilities import remove_ros_args

from dedelayed_link.ros_main import run_nodes
from dedelayed_local.fusion_node import FusionNode
from dedelayed_local.robot_link import LinkSlot
from dedelayed_local.segmenter_node import LocalSegmenterNode
from dedelayed_local.uplink_node import UplinkNode

# One executor thread. With rclpy's MultiThreadedExecutor (3 threads) the executor's own Python
# (rebuilding the wait set for every callback, where py-spy found its main thread most of the
# time) competed for the GIL, and on a 2-core machine the segmenter stalled for up to a second,
# then drained its queue: in the demo, output latency p95 238-343 ms, 6-12 mode changes, and
# maps refused because the uplink watcher lagged. One thread: p95 25 ms, median 13 ms, 2 mode
# changes (the outage's). Segmentation and the uplink encoder release the GIL (onnxruntime,
# OpenCV); a FeatureMap waits at most one segmentation (~15 ms).
DEFAULT_EXECUTOR_THREADS = 1


def build_nodes(with_uplink: bool) -> list:
    slot = LinkSlot()
    fusion = FusionNode(slot, watch_uplink=not with_uplink)     # its parameters: the link's rules
    segmenter = LocalSegmenterNode(slot, link_settings=fusion.link_settings)
    nodes = [segmenter, fusion]
    if with_uplink:
        # frames at the checkpoint's remote input where its size parameters are 0; every stamp
        # sent goes into the link's ledger (the only stamps the cloud may echo)
        nodes.append(UplinkNode(slot))
    return nodes


def main(args=None) -> int:
    argv = args if args is not None else sys.argv
    parser = argparse.ArgumentParser(description="Dedelayed robot: segmenter + fusion (+ uplink)")
    parser.add_argument("--without-uplink", action="store_true",
                        help="do not run the uplink node in this process (default: run it)")
    parser.add_argument("--executor-threads", type=int, default=DEFAULT_EXECUTOR_THREADS,
                        help="rclpy executor threads (default 1: single-threaded; see robot_main.py)")
    options = parser.parse_args(remove_ros_args(argv)[1:])
    if options.executor_threads < 1:
        parser.error(f"--executor-threads {options.executor_threads}: give 1 or more")
    return run_nodes(lambda: build_nodes(not options.without_uplink), name="robot", args=argv,
                     num_threads=options.executor_threads)


if __name__ == "__main__":
    sys.exit(main())
