"""`uplink_node`: the uplink alone, for robots whose camera host differs from the segmenter's."""

import sys

from dedelayed_link.ros_main import run_nodes
from dedelayed_local.uplink_node import UplinkNode


def main(args=None) -> int:
    return run_nodes(lambda: [UplinkNode()], name="dedelayed_uplink", args=args)


if __name__ == "__main__":
    sys.exit(main())
