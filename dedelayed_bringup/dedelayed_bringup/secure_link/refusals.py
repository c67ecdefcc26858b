"""What the cloud's link_bridge says about robots it refuses (no ROS).

Zenoh refuses a bad certificate inside its TLS handshake and tells the application nothing: no
session, transport or link event is raised, and the dialling robot simply retries (every
``reconnect_period_s``). The one trace of it is a line of Zenoh's own log (Rust ``tracing``,
written to this process's stdout once ``zenoh.init_log_from_env_or`` enabled it)::

    WARN acc-0 ThreadId(05) zenoh_link_tls::unicast: invalid peer certificate: BadSignature. Hint: ...

The line names the reason but not the peer (Zenoh does not log the address of a peer whose
handshake failed). So the cloud bridge reads its own stdout through a pipe (``StdoutTap``),
turns these lines into refusals (``tls_refusal``), and ``RefusalLog`` logs each distinct reason
once per episode (again only after ``quiet_s`` without it) and counts every one for
/diagnostics. A certificate that passes TLS but whose common name is no served robot is seen
through Zenoh's link events (``Link.auth_identifier``) and goes through the same log.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Callable, Dict, NamedTuple, Optional

from dedelayed_models.peer_text import peer_text

# Zenoh's log: its own warnings and the TLS accept errors; not the access-control INFO lines
# (a refused common name is reported from link events, with the name).
ZENOH_LOG_FILTER = "warn"
REFUSAL_QUIET_S = 60.0  # a reason is logged again once it stayed away this long [s]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_TLS_REFUSAL = re.compile(r"zenoh_link_tls::unicast:\s+(invalid peer certificate: .*?)"
                          r"(?:\.\s+Hint:.*)?\s*$")
_DIGITS = re.compile(r"\d+")


class Refusal(NamedTuple):
    kind: str    # stable key for counting and deduplication (no times, no numbers)
    detail: str  # what Zenoh or the bridge said, for the log line


def tls_refusal(log_line: str) -> Optional[Refusal]:
    """The refusal in one line of Zenoh's log, or None if the line is about something else."""
    match = _TLS_REFUSAL.search(_ANSI.sub("", log_line))
    if match is None:
        return None
    detail = match.group(1)
    if "BadSignature" in detail or "UnknownIssuer" in detail:
        return Refusal("tls_not_signed_by_project_ca",
                       f"TLS handshake refused: the robot's certificate is not signed by the "
                       f"project CA (self-signed or another CA) ({detail})")
    if "certificate expired" in detail:
        return Refusal("tls_certificate_expired",
                       f"TLS handshake refused: the robot's certificate has expired ({detail}); "
                       "issue a new one with link_certificates")
    if "not valid yet" in detail.lower() or "NotValidYet" in detail:
        return Refusal("tls_certificate_not_yet_valid",
                       f"TLS handshake refused: the robot's certificate is not valid yet "
                       f"({detail}); check the robot's clock")
    kind = "tls_" + re.sub(r"[^a-z]+", "_", _DIGITS.sub("", detail.split(":", 1)[-1]).lower()
                           ).strip("_")[:60]
    return Refusal(kind, f"TLS handshake refused: {detail}")


def unknown_robot_refusal(common_name: str, served: list) -> Refusal:
    """A certificate of the project CA whose common name is no served robot (access control)."""
    return Refusal("acl_unknown_robot_" + re.sub(r"[^A-Za-z0-9_]", "_", common_name)[:40],
                   f"access control drops everything from certificate CN {peer_text(common_name)}: it is "
                   f"not one of the served robots {served}; add its namespace to "
                   "robot_namespaces or give the robot its own certificate")


class RefusalLog:
    """Counts refusals by kind; says which ones to log: the first of an episode per kind."""

    def __init__(self, quiet_s: float = REFUSAL_QUIET_S,
                 clock: Callable[[], float] = time.monotonic):
        self.quiet_s = quiet_s
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: Dict[str, int] = {}
        self._last_seen_s: Dict[str, float] = {}
        self.last_detail = ""

    def record(self, refusal: Refusal) -> bool:
        """Count ``refusal``; True if it opens an episode of its kind (log it), else False."""
        now = self._clock()
        with self._lock:
            previous = self._last_seen_s.get(refusal.kind)
            self._last_seen_s[refusal.kind] = now
            self._counts[refusal.kind] = self._counts.get(refusal.kind, 0) + 1
            self.last_detail = refusal.detail
            return previous is None or now - previous >= self.quiet_s

    def counts(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def count_of(self, kind: str) -> int:
        with self._lock:
            return self._counts.get(kind, 0)


class StdoutTap:
    """Reads this process's stdout (file descriptor 1) through a pipe, line by line.

    Each line goes to ``on_line(line)``; lines it returns False for are written on to the real
    stdout unchanged, lines it returns True for are kept back (their content is reported in
    another form). Python's ``sys.stdout`` and native code (Zenoh's Rust log) write to fd 1
    alike, so both pass through. ``close()`` puts fd 1 back.
    """

    def __init__(self, on_line: Callable[[str], bool]):
        self._on_line = on_line
        self._stdout_fd = os.dup(1)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.close(write_fd)
        self._read_fd = read_fd
        self._thread = threading.Thread(target=self._run, name="stdout_tap", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self._read_fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                self._pass(raw + b"\n")
        if pending:
            self._pass(pending)
        os.close(self._read_fd)

    def _pass(self, raw: bytes) -> None:
        try:
            kept = self._on_line(raw.decode(errors="replace").rstrip("\n"))
        except Exception:  # noqa: BLE001 -- a broken handler must never swallow the output
            kept = False
        if kept:
            return
        try:
            while raw:
                raw = raw[os.write(self._stdout_fd, raw):]
        except OSError:
            pass  # nobody reads our stdout any more: drop the line, keep draining the pipe

    def close(self) -> None:
        """Restore fd 1; what was written before is still forwarded."""
        import sys

        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass
        os.dup2(self._stdout_fd, 1)  # closes the pipe's last write end: the reader sees EOF
        self._thread.join(timeout=2.0)
        os.close(self._stdout_fd)
