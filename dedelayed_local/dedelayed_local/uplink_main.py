"""`uplink_node`: the uplink alone, for robots whose camera host differs from the segmenter's."""

import sys

import rclpy
from rclpy.executors import ExternalShutdownException

from dedelayed_local.uplink_node import UplinkNode


def main(args=None):
    rclpy.init(args=args if args is not None else sys.argv)
    node = None
    try:
        node = UplinkNode()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
