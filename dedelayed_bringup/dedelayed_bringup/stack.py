"""Start a set of ROS nodes as child processes where `ros2 launch` does not exist.

On a pip-only machine `launch`, `launch_ros` and `ros2cli` are not installable, so the demo and
the system tests start the cloud stack, the link emulator and the robot stack with this: each
node is a child process with its own environment (ROS_DOMAIN_ID, DDS profile), its output
forwarded line by line with a ``[name]`` prefix, and all of them stopped cleanly together -
on exit, on Ctrl-C, or as soon as a required one dies.

    from dedelayed_bringup.stack import NodeProcess, Stack
    with Stack([NodeProcess("emulator", module="dedelayed_bringup.link_emulation.emulator_node",
                            namespace="/robot1", parameters={"uplink_delay_ms": 50.0},
                            env={"ROS_DOMAIN_ID": "0"})]) as stack:
        stack.wait_for_output("emulator", "relaying robot domain", timeout_s=20)
        stack.wait()  # until a required node exits (or Ctrl-C)

Stopping a node: SIGINT (what `ros2 launch` sends; rclpy shuts down cleanly), then SIGTERM after
``stop_timeout_s``, then SIGKILL. Each child runs in its own process group (the signal reaches
anything it spawned) and gets SIGTERM from the kernel if this process dies first (Linux), so a
crashed test leaves no DDS participants behind.
"""

import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, TextIO

from dedelayed_bringup.stack_command import NodeProcess, node_command, node_env

__all__ = ["NodeProcess", "Stack", "StackError", "node_command"]


class StackError(RuntimeError):
    """A node did not start, said something it must not, or died while the stack ran."""


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM this child when the process that started it dies (Linux only)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class _Child:
    spec: NodeProcess
    process: subprocess.Popen
    lines: deque = field(default_factory=lambda: deque(maxlen=2000))
    reader: Optional[threading.Thread] = None


class Stack:
    """Child processes for ``specs``; a context manager that always stops them on exit."""

    def __init__(self, specs: Sequence[NodeProcess], *, stop_timeout_s: float = 5.0,
                 output: Optional[TextIO] = sys.stdout, python: str = sys.executable):
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"node process names must be unique, got {names}")
        self.specs = list(specs)
        self.stop_timeout_s = stop_timeout_s
        self.output = output
        self.python = python
        self.children: Dict[str, _Child] = {}
        self.failure: Optional[str] = None  # why the stack stopped early, if it did
        self._changed = threading.Condition()
        self._stopping = False
        self._monitor: Optional[threading.Thread] = None

    # -- life cycle --------------------------------------------------------------------------
    def start(self) -> "Stack":
        for spec in self.specs:
            env = node_env(spec, PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
            command = node_command(spec, self.python)
            process = subprocess.Popen(
                command, env=env, cwd=spec.cwd, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent)
            child = _Child(spec, process)
            child.reader = threading.Thread(target=self._forward, args=(child,), daemon=True,
                                            name=f"stack-output-{spec.name}")
            child.reader.start()
            self.children[spec.name] = child
            self._say(spec.name, f"started (pid {process.pid}): {' '.join(command)}")
        self._monitor = threading.Thread(target=self._watch, daemon=True, name="stack-monitor")
        self._monitor.start()
        return self

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait(self, timeout_s: Optional[float] = None) -> Optional[str]:
        """Block until a required node exits, the stack is stopped, or ``timeout_s`` passes.

        Returns the failure message (which node died, with its last output) or None.
        Ctrl-C here stops the stack and returns.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        try:
            with self._changed:
                while not self._stopping and self.failure is None:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        break
                    self._changed.wait(0.5 if left is None else min(left, 0.5))
        except KeyboardInterrupt:
            self._say("stack", "Ctrl-C: stopping every node")
            self.stop()
        return self.failure

    def stop(self) -> Dict[str, Optional[int]]:
        """SIGINT every node, then SIGTERM / SIGKILL what is still running; their exit codes."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        running = [c for c in self.children.values() if c.process.poll() is None]
        for sig, grace_s in ((signal.SIGINT, self.stop_timeout_s),
                             (signal.SIGTERM, self.stop_timeout_s / 2), (signal.SIGKILL, 5.0)):
            for child in running:
                self._signal(child, sig)
            deadline = time.monotonic() + grace_s
            for child in running:
                try:
                    child.process.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
            running = [c for c in running if c.process.poll() is None]
            if not running:
                break
            self._say("stack", f"{[c.spec.name for c in running]} ignored "
                               f"{signal.Signals(sig).name}; escalating")
        for child in self.children.values():
            if child.reader is not None:
                child.reader.join(2.0)
        return self.returncodes()

    def returncodes(self) -> Dict[str, Optional[int]]:
        return {name: c.process.poll() for name, c in self.children.items()}

    # -- output ------------------------------------------------------------------------------
    def output_of(self, name: str) -> str:
        """Everything (up to the last 2000 lines) node ``name`` printed so far."""
        return "\n".join(self.children[name].lines)

    def wait_for_output(self, name: str, pattern: str, timeout_s: float = 30.0) -> str:
        """Wait until node ``name`` prints a line matching regex ``pattern``; return the line.

        Raises StackError naming the node and quoting its output if it exits or times out.
        """
        regex = re.compile(pattern)
        child = self.children[name]
        deadline = time.monotonic() + timeout_s
        seen = 0
        with self._changed:
            while True:
                lines = list(child.lines)
                for line in lines[seen:]:
                    if regex.search(line):
                        return line
                seen = len(lines)
                if child.process.poll() is not None and not child.reader.is_alive():
                    reason = f"exited with code {child.process.returncode}"
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    reason = f"printed no line matching {pattern!r} within {timeout_s:g} s"
                    break
                self._changed.wait(min(left, 0.2))
        raise StackError(f"node process '{name}' {reason}; its output:\n{self.output_of(name)}")

    def _forward(self, child: _Child) -> None:
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            with self._changed:
                child.lines.append(line)
                self._changed.notify_all()
            self._say(child.spec.name, line)
        child.process.stdout.close()

    def _say(self, name: str, line: str) -> None:
        if self.output is not None:
            self.output.write(f"[{name}] {line}\n")
            self.output.flush()

    # -- supervision -------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._stopping:
            for child in self.children.values():
                code = child.process.poll()
                if code is None or self._stopping:
                    continue
                if child.spec.required and self.failure is None:
                    child.reader.join(2.0)  # its last words explain why
                    tail = "\n".join(list(child.lines)[-20:])
                    self.failure = (f"node process '{child.spec.name}' exited with code {code} "
                                    f"while the stack was running; last output:\n{tail}")
                    self._say("stack", f"'{child.spec.name}' exited ({code}): stopping all")
                    with self._changed:
                        self._changed.notify_all()
                    threading.Thread(target=self.stop, daemon=True).start()
                    return
            time.sleep(0.1)

    @staticmethod
    def _signal(child: _Child, sig: int) -> None:
        try:
            os.killpg(child.process.pid, sig)  # the child's own group (start_new_session)
        except ProcessLookupError:
            pass
