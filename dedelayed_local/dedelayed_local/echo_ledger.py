"""Which camera stamps this robot uplinked recently: the only stamps a cloud may echo.

A FeatureMap's header.stamp decides which frames it is fused into (the newest echoed stamp
<= the frame wins), so a forged or replayed stamp must not count. The uplink records every
stamp it sends; the feature store refuses a FeatureMap whose stamp is not among those sent in
the last ``window_s`` of camera time, counted back from the newest stamp uplinked. Camera time,
not the time a callback ran: a robot whose executor falls seconds behind under load still
accepts the answers to its own recent frames. Plain Python, thread-safe, bounded memory.
"""

import threading
from collections import OrderedDict

NS_PER_S = 1_000_000_000
MAX_ENTRIES = 4096  # 13 min of frames at 5 Hz, 68 s at 60 Hz; a window longer than that is cut


class UplinkLedger:
    """Stamps uplinked within ``window_s`` of the newest uplinked stamp."""

    def __init__(self, window_s: float = 5.0):
        if not window_s > 0:
            raise ValueError(f"echo window {window_s} s must be > 0 (e.g. 5.0)")
        self.window_ns = int(window_s * NS_PER_S)
        self._sent = OrderedDict()  # stamp_ns -> None, in the order uplinked
        self._newest_ns = None
        self._lock = threading.Lock()

    def record(self, stamp_ns: int) -> None:
        """The uplink sent the frame stamped ``stamp_ns`` (robot camera clock)."""
        stamp_ns = int(stamp_ns)
        with self._lock:
            if self._newest_ns is not None and stamp_ns < self._newest_ns - self.window_ns:
                self._sent.clear()  # the camera clock went back (restart, sim time reset)
                self._newest_ns = None
            self._newest_ns = stamp_ns if self._newest_ns is None else max(self._newest_ns, stamp_ns)
            self._sent[stamp_ns] = None
            self._sent.move_to_end(stamp_ns)
            oldest_kept = self._newest_ns - self.window_ns
            while self._sent and (len(self._sent) > MAX_ENTRIES or next(iter(self._sent)) < oldest_kept):
                self._sent.popitem(last=False)

    def sent_recently(self, stamp_ns: int) -> bool:
        """True if ``stamp_ns`` was uplinked and is within the window of the newest one."""
        with self._lock:
            return (int(stamp_ns) in self._sent
                    and self._newest_ns - int(stamp_ns) <= self.window_ns)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sent)
