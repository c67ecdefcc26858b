"""One logging rule for every Dedelayed process: trouble is logged once per episode, with counts.

An *episode* is a run of events of one kind for one subject (a robot, a topic): its first event
logs a warning naming the kind, the subject and the detail; later events of the episode are only
counted; when none came for ``quiet_s`` seconds (checked by ``flush``, which the nodes call from
their diagnostics timer) or the caller ends it (the good case returned), one info line gives the
episode's count and length. Totals per (subject, kind) never reset and go to /diagnostics.

ROS-free: the caller passes logger-like callables (``node.get_logger().warning`` and ``.info``).

    log = EpisodeLog(warn=logger.warning, info=logger.info)
    log.event("not_webp", "payload starts with b'\\x89PNG'", subject="robot /robot1")
    log.flush()                   # every diagnostics period
    log.totals_for("robot /robot1")  # {"not_webp": 1}
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

DEFAULT_QUIET_S = 2.0  # an episode ends after this long without an event of its kind [s]

Key = Tuple[str, str]  # (subject, kind)


@dataclass
class _Episode:
    started_s: float
    last_s: float
    count: int
    detail: str


def _who(subject: str, kind: str) -> str:
    return f"{subject}: {kind}" if subject else kind


class EpisodeLog:
    """Thread-safe once-per-episode warnings, end-of-episode summaries and running totals."""

    def __init__(self, warn: Callable[[str], object], info: Callable[[str], object], *,
                 quiet_s: float = DEFAULT_QUIET_S, clock: Callable[[], float] = time.monotonic):
        if not quiet_s > 0:
            raise ValueError(f"quiet_s must be > 0 s, got {quiet_s}")
        self._warn, self._info, self._clock = warn, info, clock
        self.quiet_s = float(quiet_s)
        self._open: Dict[Key, _Episode] = {}
        self._totals: Dict[Key, int] = {}
        self._episodes: Dict[Key, int] = {}
        self._lock = threading.Lock()

    def event(self, kind: str, detail: str, subject: str = "") -> int:
        """Count one event; warn if it starts an episode. Returns the (subject, kind) total."""
        now = self._clock()
        key = (subject, kind)
        with self._lock:
            self._totals[key] = total = self._totals.get(key, 0) + 1
            episode = self._open.get(key)
            if episode is not None:
                episode.count += 1
                episode.last_s = now
                return total
            self._open[key] = _Episode(now, now, 1, detail)
            self._episodes[key] = self._episodes.get(key, 0) + 1
        self._warn(f"{_who(subject, kind)}: {detail} (further ones are counted, not logged, "
                   f"until none comes for {self.quiet_s:g} s; {total} so far)")
        return total

    def end(self, kind: str, subject: str = "", why: str = "") -> bool:
        """End the open episode of (subject, kind) now, with its summary; False if none."""
        with self._lock:
            episode = self._open.pop((subject, kind), None)
        if episode is not None:
            self._summarise(subject, kind, episode, why or "ended")
        return episode is not None

    def flush(self) -> List[Key]:
        """End every episode quiet for ``quiet_s``; returns the (subject, kind) keys ended."""
        now = self._clock()
        with self._lock:
            done = [(k, e) for k, e in self._open.items() if now - e.last_s >= self.quiet_s]
            for key, _ in done:
                del self._open[key]
        for (subject, kind), episode in done:
            self._summarise(subject, kind, episode, f"none for {self.quiet_s:g} s")
        return [key for key, _ in done]

    def _summarise(self, subject: str, kind: str, episode: _Episode, why: str) -> None:
        span_s = episode.last_s - episode.started_s
        with self._lock:
            total = self._totals.get((subject, kind), 0)
        self._info(f"{_who(subject, kind)}: episode over ({why}): {episode.count} in "
                   f"{span_s:.1f} s, {total} in total")

    def is_open(self, kind: str, subject: str = "") -> bool:
        with self._lock:
            return (subject, kind) in self._open

    def totals(self) -> Dict[Key, int]:
        """{(subject, kind): events since start}."""
        with self._lock:
            return dict(self._totals)

    def totals_for(self, subject: str = "") -> Dict[str, int]:
        """{kind: events since start} of one subject."""
        with self._lock:
            return {k: n for (s, k), n in self._totals.items() if s == subject}

    def episodes(self, subject: Optional[str] = None) -> int:
        """Episodes started (of one subject, or all)."""
        with self._lock:
            return sum(n for (s, _), n in self._episodes.items() if subject in (None, s))
