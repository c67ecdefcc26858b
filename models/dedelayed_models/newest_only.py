"""A worker thread with a newest-only slot: the caller never waits, nothing queues.

``submit`` puts an item in the slot and returns at once; an item still waiting there is
replaced (``superseded`` counts those), so the work in flight is at most one item being handled
plus one waiting. The thread can run at a lower CPU priority (``nice``, Linux: a thread's own
nice value), so work that may be late (the robot's uplink encoding, the cloud's decoding) never
starves work that must not be (the robot's segmentation).

ROS-free; used by the robot's uplink and the cloud's uplink decoder.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, Generic, Optional, TypeVar

T = TypeVar("T")


class NewestOnlyWorker(Generic[T]):
    """``handle(item)`` on its own thread for the newest submitted item."""

    def __init__(self, handle: Callable[[T], None], *, name: str,
                 on_error: Callable[[Exception], None], nice: int = 0,
                 warm_up: Optional[Callable[[], None]] = None):
        """``warm_up`` runs on the thread before it lowers its priority: threads a library
        creates on first use (OpenCV's pool) inherit the creating thread's nice value, so
        they must be created at the normal one."""
        if nice < 0:
            raise ValueError(f"nice {nice} must be >= 0 (a worker may only lower its priority)")
        self._handle, self._on_error, self.nice = handle, on_error, int(nice)
        self._warm_up = warm_up
        self._pending: Optional[T] = None
        self._has_pending = False
        self._changed = threading.Condition()
        self._stopped = False
        self.superseded = 0   # items replaced in the slot before they were handled
        self.handled = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> bool:
        """Put ``item`` in the slot; False if it replaced one still waiting."""
        with self._changed:
            replaced = self._has_pending
            self.superseded += replaced
            self._pending, self._has_pending = item, True
            self._changed.notify_all()
            return not replaced

    def _lower_priority(self) -> None:
        if self.nice <= 0:
            return
        try:   # Linux: PRIO_PROCESS with a thread id sets that thread's nice value only
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + self.nice)
        except (OSError, AttributeError) as exc:
            self._on_error(exc)

    def _run(self) -> None:
        if self._warm_up is not None:
            try:
                self._warm_up()
            except Exception as exc:  # noqa: BLE001 -- reported; the worker still runs
                self._on_error(exc)
        self._lower_priority()
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._stopped or self._has_pending)
                if self._stopped:
                    return
                item, self._pending, self._has_pending = self._pending, None, False
            try:
                self._handle(item)
            except Exception as exc:  # noqa: BLE001 -- one bad item must not end the worker
                self._on_error(exc)
            with self._changed:
                self.handled += 1

    def stop(self, timeout_s: float = 5.0) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        self._thread.join(timeout_s)
