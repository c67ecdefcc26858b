"""How every Dedelayed executable stops on SIGINT (importable without ROS)."""

import signal


def sigint_raises_keyboard_interrupt() -> None:
    """Make SIGINT raise KeyboardInterrupt in this process, whatever the parent left.

    The executables stop on KeyboardInterrupt: their executor and nodes stop before the rclpy
    context does, so no callback publishes into a dead context. Python installs that handler only
    when SIGINT is not ignored at start-up, and a process started as a background job of a
    non-interactive shell (``link_emulator &`` in a script, a CI job) inherits SIGINT *ignored*;
    it would then ignore the SIGINT that ``ros2 launch`` and Ctrl-C send and be killed after the
    launcher's timeout instead. Call this first in ``main``.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
