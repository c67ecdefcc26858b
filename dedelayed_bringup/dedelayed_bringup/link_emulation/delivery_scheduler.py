"""Run actions at planned times on one thread: a heap plus a condition variable (no ROS).

The link emulator plans each message's delivery time with a LinkModel and hands the publish
call here. A dedicated thread sleeps exactly until the earliest planned time (woken early only
when an earlier item arrives), instead of polling with a timer, so the added timing error is
the OS wake-up latency (tens of microseconds), not a timer period.
"""

import heapq
import itertools
import statistics
import threading
import time
from collections import Counter, deque
from typing import Callable, Dict, Hashable, Optional


class DeliveryScheduler:
    """Calls ``action()`` at ``due_s`` on ``clock`` (seconds, default time.monotonic).

    ``tag`` groups pending items for :meth:`pending` (the emulator uses the topic).
    Actions run on the scheduler's thread, one at a time, in due order (ties: submit order).
    An exception in an action is passed to ``on_error`` and the thread carries on.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 on_error: Optional[Callable[[BaseException], None]] = None,
                 error_window: int = 1000):
        self._clock = clock
        self._on_error = on_error
        self._heap = []
        self._order = itertools.count()  # tie-break, so equal times keep submit order
        self._pending = Counter()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="delivery_scheduler", daemon=True)
        # Last ``error_window`` lateness samples (called - due) [s], for diagnostics.
        self._lateness_s = deque(maxlen=error_window)

    def start(self) -> "DeliveryScheduler":
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> int:
        """Stop the thread; pending actions are discarded. Returns how many were discarded."""
        with self._wake:
            self._stopping = True
            discarded = len(self._heap)
            self._heap.clear()
            self._pending.clear()
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        return discarded

    def submit(self, due_s: float, action: Callable[[], None], tag: Hashable = None) -> None:
        with self._wake:
            if self._stopping:
                return
            seq = next(self._order)
            heapq.heappush(self._heap, (due_s, seq, tag, action))
            self._pending[tag] += 1
            # Only an item that became the earliest changes how long the thread must sleep.
            if self._heap[0][1] == seq:
                self._wake.notify()

    def pending(self, tag: Hashable = None) -> int:
        """Items not yet delivered: all of them, or those submitted with ``tag``."""
        with self._wake:
            return len(self._heap) if tag is None else self._pending[tag]

    def lateness_stats_ms(self) -> Dict[str, float]:
        """Delivery timing error (called - due) over the recent window [ms]."""
        with self._wake:
            samples = [s * 1e3 for s in self._lateness_s]
        if not samples:
            return {"count": 0, "min_ms": 0.0, "median_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        samples.sort()
        return {"count": len(samples), "min_ms": samples[0], "median_ms": statistics.median(samples),
                "p99_ms": samples[min(len(samples) - 1, int(0.99 * len(samples)))],
                "max_ms": samples[-1]}

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping:
                    if self._heap:
                        wait_s = self._heap[0][0] - self._clock()
                        if wait_s <= 0:
                            break
                        self._wake.wait(wait_s)
                    else:
                        self._wake.wait()
                if self._stopping:
                    return
                due_s, _, tag, action = heapq.heappop(self._heap)
                self._pending[tag] -= 1
            # Run outside the lock: a slow publish must not block submitters.
            self._lateness_s.append(self._clock() - due_s)
            try:
                action()
            except Exception as error:  # noqa: BLE001 - one bad delivery must not stop the rest
                if self._on_error is not None:
                    self._on_error(error)
