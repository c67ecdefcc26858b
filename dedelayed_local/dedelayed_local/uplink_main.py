"""`uplink_node`: the uplink alone, for robots whose camera host differs from the segmenter's."""

import sys

import rclpy
from rclpy.signals import SignalHandlerOptions
from rclpy.executors import ExternalShutdownException

from dedelayed_models.process_signals import sigint_raises_keyboard_interrupt

from dedelayed_local.uplink_node import UplinkNode


def main(args=None):
    sigint_raises_keyboard_interrupt()
    # No rclpy signal handler: Ctrl-C / SIGINT raises KeyboardInterrupt here, so the executor
    # and nodes stop before the context does and no callback publishes into a dead context.
    rclpy.init(args=args if args is not None else sys.argv,
               signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        node = UplinkNode()
        # spin_once with a timeout: the node has no timer, and a wait without one would never
        # return to Python to raise the KeyboardInterrupt of a SIGINT.
        while rclpy.ok():
            rclpy.spin_once(node, timeout_sec=0.2)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
