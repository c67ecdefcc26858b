"""Run the real `ros2` CLI (`ros2 launch`, `ros2 lifecycle`, `ros2 param`, ...) from tests.

PyPI has no `launch`, `launch_ros` or `ros2cli`; `make test` installs their upstream release
sources from ../shared/ros-src into the test venv when that folder exists
(tools/install_upstream_launch.py). Elsewhere a test calls ``require_ros2_cli()`` first and is
skipped with the reason. With a normal ROS 2 install all of it is already there.

    from ros2_cli import Ros2Launch, require_ros2_cli, ros2

    require_ros2_cli()
    with Ros2Launch("dedelayed_bringup", "robot.launch.py", ["namespace:=robot1"],
                    env={"ROS_DOMAIN_ID": str(ros_domain_id)}) as launch:
        launch.wait_for(r"robot ready", timeout_s=60)
        assert "/robot1/robot" in ros2("lifecycle", "nodes", env=launch.env).stdout
        launch.sigint()
        assert launch.wait_exit(30) == 0

``Ros2Launch`` is a one-process dedelayed_bringup.stack.Stack: ``ros2 launch`` runs in its own
session (process group), its output is collected line by line, and leaving the ``with`` block
stops it with SIGINT, then SIGTERM, then SIGKILL to the whole group, so nothing it started
outlives the test.
"""

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from typing import Mapping, Optional, Sequence

import pytest

# What `ros2 launch` needs, by import name -> where it comes from.
_REQUIRED_MODULES = {
    "launch": "launch",
    "launch_ros": "launch_ros",
    "ros2cli": "ros2cli",
    "ros2launch": "launch_ros (ros2launch)",
    "composition_interfaces": "composition_interfaces (rcl_interfaces)",
}

# Verbs that use (and, unless told --no-daemon, spawn) the ros2 daemon, a background process
# per ROS_DOMAIN_ID that would outlive the test: ros2() passes --no-daemon to these.
_DAEMON_VERBS = {
    "component": {"list", "load", "standalone", "unload"},
    "lifecycle": {"get", "list", "nodes", "set"},
    "node": {"info", "list"},
    "param": {"delete", "describe", "dump", "get", "list", "load", "set"},
    "service": {"info", "list"},
    "topic": {"echo", "find", "info", "list", "type"},
}

# Output settings for every CLI process: line-buffered, no colour codes.
_OUTPUT_ENV = {"PYTHONUNBUFFERED": "1", "RCUTILS_COLORIZED_OUTPUT": "0"}

# Where SIGINT is ignored in this process (a test run started with `&` by a non-interactive
# shell), a child inherits that and `ros2 launch` would ignore SIGINT too: this resets it first.
_SIGINT_DEFAULT_PREFIX = [
    sys.executable, "-c",
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execvp(sys.argv[1], sys.argv[1:])",
]


def ros2_cli_missing() -> Optional[str]:
    """Why `ros2 launch` cannot run here (None when it can)."""
    missing = [origin for name, origin in _REQUIRED_MODULES.items()
               if importlib.util.find_spec(name) is None]
    if shutil.which("ros2") is None:
        missing.append("the `ros2` command (ros2cli)")
    if not missing:
        return None
    return ("not installed: " + ", ".join(missing) + ". `make test` installs launch, launch_ros, "
            "ros2cli and composition_interfaces from ../shared/ros-src when that folder exists "
            "(tools/install_upstream_launch.py); with a normal ROS 2 install, source its "
            "setup.bash")


def require_ros2_cli() -> str:
    """Skip the calling test, saying what is missing, unless `ros2 launch` can run here;
    returns the path of the `ros2` command."""
    reason = ros2_cli_missing()
    if reason is not None:
        pytest.skip(f"needs the real `ros2 launch`: {reason}")
    return shutil.which("ros2")


def _cli_env(env: Optional[Mapping[str, object]]) -> dict:
    merged = dict(os.environ)
    merged.update(_OUTPUT_ENV)
    merged.update({k: str(v) for k, v in (env or {}).items()})
    return merged


def _with_no_daemon(args: Sequence[str]) -> list:
    args = [str(a) for a in args]
    if (len(args) >= 2 and args[1] in _DAEMON_VERBS.get(args[0], ())
            and "--no-daemon" not in args):
        return args[:2] + ["--no-daemon"] + args[2:]
    return args


def ros2(*args, env: Optional[Mapping[str, object]] = None, timeout_s: float = 60.0,
         daemon: bool = False) -> subprocess.CompletedProcess:
    """Run ``ros2 <args>`` once; stdout and stderr together in ``.stdout`` (text).

    ``env`` is added to this process's environment (e.g. ROS_DOMAIN_ID). Graph verbs
    (``lifecycle nodes``, ``param get``, ``topic list``, ...) get ``--no-daemon`` unless
    ``daemon=True``: they then ask the graph directly and leave no daemon behind.
    Raises AssertionError if it runs longer than ``timeout_s``.
    """
    command = ["ros2", *(_with_no_daemon(args) if not daemon else map(str, args))]
    try:
        return subprocess.run(command, env=_cli_env(env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired as error:
        output = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) \
            else (error.stdout or "")
        raise AssertionError(f"`{' '.join(command)}` did not finish within {timeout_s:g} s; "
                             f"its output:\n{_tail(output)}") from None


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


class Ros2Launch:
    """``ros2 launch <package> <launch_file> <arguments...>`` as a context manager.

    ``package=None`` launches ``launch_file`` as a path. ``env`` is added to this process's
    environment (ROS_DOMAIN_ID, FASTDDS_DEFAULT_PROFILES_FILE, ...) and kept as ``self.env``
    for ``ros2(..., env=launch.env)``. ``stop_timeout_s`` is the grace after SIGINT when the
    block is left (then SIGTERM, then SIGKILL, each to the whole process group).
    """

    NAME = "ros2_launch"

    def __init__(self, package: Optional[str], launch_file: str, arguments: Sequence[str] = (),
                 *, env: Optional[Mapping[str, object]] = None, stop_timeout_s: float = 10.0,
                 output=sys.stdout):
        from dedelayed_bringup.stack import NodeProcess, Stack

        self.env = {k: str(v) for k, v in (env or {}).items()}
        ros2_path = shutil.which("ros2")
        if ros2_path is None:
            raise FileNotFoundError(f"no `ros2` command on PATH ({ros2_cli_missing()})")
        self.argv = ["launch", *([package] if package else []), str(launch_file),
                     *map(str, arguments)]
        prefix = (_SIGINT_DEFAULT_PREFIX
                  if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else [])
        self._stack = Stack(
            [NodeProcess(self.NAME, executable=os.path.abspath(ros2_path), arguments=self.argv,
                         env={**_OUTPUT_ENV, **self.env}, required=False, prefix=prefix)],
            stop_timeout_s=stop_timeout_s, output=output)

    # -- life cycle --------------------------------------------------------------------------
    def __enter__(self) -> "Ros2Launch":
        self._stack.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def process(self) -> subprocess.Popen:
        return self._stack.children[self.NAME].process

    def stop(self) -> Optional[int]:
        """SIGINT, SIGTERM, SIGKILL to the process group until it is gone; the exit code."""
        self._stack.stop()
        self._kill_leftovers()
        return self.process.returncode

    def sigint(self) -> None:
        """Ctrl-C: SIGINT to ``ros2 launch``'s whole process group."""
        try:
            os.killpg(self.process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    def wait_exit(self, timeout_s: float = 30.0) -> int:
        """Wait until ``ros2 launch`` exits; its exit code. AssertionError if it does not."""
        try:
            code = self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`ros2 {' '.join(self.argv)}` still runs after {timeout_s:g} s; "
                                 f"its output:\n{_tail(self.output())}") from None
        reader = self._stack.children[self.NAME].reader
        if reader is not None:
            reader.join(5.0)  # so output() holds its last lines
        return code

    # -- output ------------------------------------------------------------------------------
    def output(self) -> str:
        """Everything it printed so far (the last 2000 lines)."""
        return self._stack.output_of(self.NAME)

    def wait_for(self, pattern: str, timeout_s: float = 30.0) -> str:
        """The first line matching regex ``pattern``; AssertionError with the output's tail if
        none comes within ``timeout_s`` or the launch exits first."""
        from dedelayed_bringup.stack import StackError

        re.compile(pattern)  # a bad pattern is the caller's error, not a timeout
        try:
            return self._stack.wait_for_output(self.NAME, pattern, timeout_s)
        except StackError:
            code = self.process.poll()
            state = "running" if code is None else f"exited with code {code}"
            raise AssertionError(
                f"`ros2 {' '.join(self.argv)}` ({state}) printed no line matching {pattern!r} "
                f"within {timeout_s:g} s; its output:\n{_tail(self.output())}") from None

    # -- clean-up ----------------------------------------------------------------------------
    def _kill_leftovers(self) -> None:
        """Anything still in the group after ``ros2 launch`` exited (a node it failed to stop):
        SIGTERM, then SIGKILL."""
        group = self.process.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not _live_members(group):
                return
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 3.0
            while _live_members(group) and time.monotonic() < deadline:
                time.sleep(0.05)


def _live_members(group: int) -> bool:
    """Whether a process that is not a zombie is in process group ``group`` (a zombie may wait
    long for its reaper in a container: it counts as gone)."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(group, 0)
            return True
        except ProcessLookupError:
            return False
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it exited while we looked
        if int(fields[2]) == group and fields[0] != "Z":  # state, ppid, pgrp, ...
            return True
    return False
