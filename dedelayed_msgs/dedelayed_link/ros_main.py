"""One ``main`` for every Dedelayed executable: init, the SIGINT rule, spin, clean shutdown.

    def main(args=None) -> int:
        return run_nodes(lambda: [MyNode()], name="my_node", args=args)

Rules it applies so that no executable has to remember them:

- SIGINT raises KeyboardInterrupt (``sigint_raises_keyboard_interrupt``) and rclpy installs no
  signal handler of its own, so the executor and the nodes stop *before* the context does and
  no callback publishes into a dead context.
- The executor spins with a timeout, so a node without timers still returns to Python, where
  the KeyboardInterrupt of a SIGINT is raised.
- A node that cannot start (a wrong parameter, a missing checkpoint) gives one line that names
  the problem, exit code 1, and no traceback.
- Managed nodes (``managed.ManagedNode``) whose ``autostart`` parameter is true are configured,
  then activated, in the order built (the robot's segmenter first: it loads the model the
  others use); one that fails to is a node that cannot start. The others wait for
  ``ros2 lifecycle set``.
- Teardown ignores further SIGINTs: ``ros2 launch`` forwards its own SIGINT to a process that
  Ctrl-C already reached through the terminal's process group, and a second KeyboardInterrupt
  inside ``destroy_node`` would print a traceback and exit -2 instead of 0. A teardown that
  hangs is still ended by the SIGTERM / SIGKILL that launch escalates to.
"""

import signal
from typing import Callable, List, Sequence, Union

SPIN_TIMEOUT_S = 0.2   # how long one executor wait may block before Python runs again [s]


def sigint_raises_keyboard_interrupt() -> None:
    """Make SIGINT raise KeyboardInterrupt in this process, whatever the parent left.

    Python installs that handler only when SIGINT is not ignored at start-up, and a process
    started as a background job of a non-interactive shell (``link_emulator &`` in a script, a
    CI job) inherits SIGINT *ignored*; it would then ignore the SIGINT that ``ros2 launch`` and
    Ctrl-C send and be killed after the launcher's timeout instead. Called first by
    ``run_nodes``; executables with their own loop call it first in ``main``.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def startup_errors() -> tuple:
    """Exceptions that mean "cannot start as configured" (said in one line, not a traceback)."""
    from rclpy.exceptions import ParameterException
    return (ValueError, RuntimeError, KeyError, IndexError, FileNotFoundError, ParameterException)


def _autostart(nodes: Sequence) -> None:
    """configure, then activate, every managed node whose ``autostart`` is true."""
    for node in nodes:
        if getattr(node, "autostart", False):
            node.start_managed()


def run_nodes(make_nodes: Callable[[], Sequence], *, name: str, args=None,
              num_threads: Union[int, Callable[[List], int]] = 1) -> int:
    """Init rclpy, build the nodes, spin them until SIGINT or shutdown; returns the exit code.

    make_nodes: builds the nodes (after rclpy.init), in the order they are added.
    num_threads: executor threads, or a function of the built nodes; 1 = single-threaded.
    """
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions

    sigint_raises_keyboard_interrupt()
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    nodes: List = []
    executor = None
    try:
        try:
            nodes = list(make_nodes())
            _autostart(nodes)
        except startup_errors() as exc:
            rclpy.logging.get_logger(name).fatal(f"cannot start: {exc}")
            return 1
        threads = num_threads(nodes) if callable(num_threads) else int(num_threads)
        executor = MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
        for node in nodes:
            executor.add_node(node)
        while rclpy.ok():
            executor.spin_once(timeout_sec=SPIN_TIMEOUT_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if executor is not None:
            executor.shutdown()
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
