"""Rates and latency means for /diagnostics (plain Python)."""

import time
from collections import defaultdict, deque
from typing import Dict


class RateMeter:
    """Events per second over the last ``window_s`` seconds (monotonic clock)."""

    def __init__(self, window_s: float = 5.0):
        self.window_s = window_s
        self._times = deque()

    def tick(self, now: float = None) -> None:
        self._times.append(time.monotonic() if now is None else now)

    def rate_hz(self, now: float = None) -> float:
        now = time.monotonic() if now is None else now
        while self._times and self._times[0] < now - self.window_s:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-9)


class StageTimes:
    """Mean per-stage latency over the last ``window`` frames [ms]."""

    def __init__(self, window: int = 100):
        self._stages = defaultdict(lambda: deque(maxlen=window))

    def add(self, stage_ms: Dict[str, float]) -> None:
        for name, value in stage_ms.items():
            self._stages[name].append(value)

    def means(self) -> Dict[str, float]:
        return {name: sum(v) / len(v) for name, v in self._stages.items() if v}
