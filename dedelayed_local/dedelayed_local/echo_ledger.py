"""Which camera stamps this robot uplinked recently: the only stamps a cloud may echo.

A FeatureMap's header.stamp decides which frames it is fused into (the newest echoed stamp
<= the frame wins), so a forged or replayed stamp must not count. The uplink records every
stamp it sends; the feature store refuses a FeatureMap whose stamp is not among those sent
within ``window_s`` of its arrival. Plain Python, thread-safe, bounded memory.
"""

import threading
from collections import OrderedDict

NS_PER_S = 1_000_000_000
MAX_ENTRIES = 4096  # 13 min of frames at 5 Hz, 68 s at 60 Hz; a window longer than that is cut


class UplinkLedger:
    """Stamps uplinked in the last ``window_s`` seconds of the robot clock."""

    def __init__(self, window_s: float = 5.0):
        if not window_s > 0:
            raise ValueError(f"echo window {window_s} s must be > 0 (e.g. 5.0)")
        self.window_ns = int(window_s * NS_PER_S)
        self._sent = OrderedDict()  # stamp_ns -> robot clock when uplinked [ns], oldest first
        self._lock = threading.Lock()

    def record(self, stamp_ns: int, uplinked_ns: int) -> None:
        """The uplink sent the frame stamped ``stamp_ns`` at robot time ``uplinked_ns``."""
        with self._lock:
            self._sent[int(stamp_ns)] = int(uplinked_ns)
            self._sent.move_to_end(int(stamp_ns))
            while self._sent and (len(self._sent) > MAX_ENTRIES or
                                  next(iter(self._sent.values())) < uplinked_ns - self.window_ns):
                self._sent.popitem(last=False)

    def sent_recently(self, stamp_ns: int, now_ns: int) -> bool:
        """True if ``stamp_ns`` was uplinked within the window before ``now_ns``."""
        with self._lock:
            uplinked_ns = self._sent.get(int(stamp_ns))
        return uplinked_ns is not None and now_ns - uplinked_ns <= self.window_ns

    def __len__(self) -> int:
        with self._lock:
            return len(self._sent)
