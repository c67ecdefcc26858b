"""Camera frames lost before the segmenter saw them, counted from the camera's header stamps.

A best-effort camera subscription drops frames silently when its queue overflows (the robot
was busy) or the transport lost them; the segmenter's callback never runs for those. The
camera stamps each frame at capture, so a gap between consecutive stamps of k expected frame
periods means k - 1 frames never arrived. The expected period is the camera's declared rate
(``camera_fps``), or else the median of recent gaps; then a long gap is confirmed as loss only
when the next gap is normal again (two long gaps in a row are the camera slowing down, and the
estimate restarts). A gap longer than ``pause_s`` is a camera pause or restart, not loss, and
so is a stamp that goes back.

Plain Python: the segmenter node calls ``observe`` with each frame's stamp.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from typing import Deque, Optional, Tuple

NS_PER_S = 1_000_000_000
LOST_GAP_FACTOR = 1.5  # a gap above 1.5 expected periods has lost round(gap / period) - 1 frames


class FrameLossCounter:
    """Frames lost between consecutive camera stamps; totals and a recent rate."""

    def __init__(self, *, camera_fps: float = 0.0, period_window: int = 31, pause_s: float = 5.0,
                 rate_window_s: float = 5.0, clock=time.monotonic):
        if camera_fps < 0:
            raise ValueError(f"camera_fps {camera_fps} must be >= 0 (0 = estimate the rate)")
        self._fixed_period_ns = int(NS_PER_S / camera_fps) if camera_fps > 0 else None
        self._pending: Optional[Tuple[int, int]] = None  # (gap ns, frames lost) unconfirmed
        self._gaps_ns: Deque[int] = deque(maxlen=period_window)
        self._last_stamp_ns: Optional[int] = None
        self.pause_ns = int(pause_s * NS_PER_S)
        self.rate_window_s = float(rate_window_s)
        self._recent: Deque[Tuple[float, int]] = deque()  # (monotonic s, frames lost then)
        self._clock = clock
        self.frames_seen = 0
        self.frames_lost = 0
        self.pauses = 0

    def expected_period_ns(self) -> Optional[int]:
        """The declared period, or the median recent stamp gap [ns] (None before 3 gaps)."""
        if self._fixed_period_ns is not None:
            return self._fixed_period_ns
        return int(statistics.median(self._gaps_ns)) if len(self._gaps_ns) >= 3 else None

    def observe(self, stamp_ns: int) -> int:
        """Count one received frame; returns how many frames were lost just before it."""
        self.frames_seen += 1
        last, self._last_stamp_ns = self._last_stamp_ns, int(stamp_ns)
        if last is None:
            return 0
        gap_ns = int(stamp_ns) - last
        if gap_ns <= 0 or gap_ns > self.pause_ns:
            self.pauses += 1
            self._pending = None
            return 0
        period_ns = self.expected_period_ns()
        long_gap = bool(period_ns) and gap_ns > LOST_GAP_FACTOR * period_ns
        lost = 0
        if self._fixed_period_ns is not None:
            lost = round(gap_ns / period_ns) - 1 if long_gap else 0
        elif long_gap and self._pending is None:
            self._pending = (gap_ns, round(gap_ns / period_ns) - 1)   # confirmed by the next gap
            return 0
        elif long_gap:   # a second long gap in a row: the camera slowed down, not loss
            first_gap_ns, _ = self._pending
            self._pending = None
            self._gaps_ns.clear()
            self._gaps_ns.extend((first_gap_ns, gap_ns))
            return 0
        else:
            if self._pending is not None:
                lost, self._pending = self._pending[1], None
            self._gaps_ns.append(gap_ns)   # gaps with losses would skew the period
        if lost > 0:
            self.frames_lost += lost
            self._recent.append((self._clock(), lost))
        return max(lost, 0)

    def lost_rate_hz(self) -> float:
        """Frames lost per second over the last ``rate_window_s`` seconds."""
        now = self._clock()
        while self._recent and self._recent[0][0] < now - self.rate_window_s:
            self._recent.popleft()
        return sum(n for _, n in self._recent) / self.rate_window_s
