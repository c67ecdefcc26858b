"""One direction of an emulated network link, in plain Python (no ROS).

The kernel's netem is not available on every machine (it needs root and the sch_netem module), so the
link emulator holds each message in user space for the time this model decides. For a message
that enters the link at ``arrival_s`` with ``size_bytes`` the model answers: dropped (and why),
or delivered at ``deliver_at_s``. All times are seconds on one monotonic clock chosen by the
caller; the model never reads a clock itself, so it is exact and repeatable in tests.

What a message goes through, in order (one shared link per direction, like one network path):

1. **Outage**: while the link is down (switched off with ``link_up = False``, or inside one of
   ``outage_windows_s`` counted from ``start_s``) every message is dropped. A message is also
   lost when a scheduled outage begins while it is still on its way (queued or in flight).
2. **Queue + serialisation**: with ``bandwidth_mbps > 0`` a message occupies the link for
   ``size_bytes * 8 / (bandwidth_mbps * 1e6)`` seconds and waits behind the messages before it
   (all topics of the direction share the link). A message that would wait longer than
   ``max_queue_ms`` is tail-dropped, as a router's finite buffer would.
3. **Random loss**: each transmitted message is lost with probability ``loss`` (after it used
   the link, as a corrupted packet would).
4. **Propagation**: one-way ``delay_ms`` plus Gaussian jitter of standard deviation
   ``jitter_ms``; the sum is clipped at >= 0.
5. **Order**: with ``preserve_order`` (default) a message is never delivered before an earlier
   message of the same stream (topic), as on a single path; jitter then delays rather than
   reorders. Different streams may overtake each other by at most the jitter.

``size_bytes`` is the serialized (CDR) payload size; RTPS/UDP/IP headers (well under 1 % for
the large messages that matter here) are not counted.
"""

import random
from typing import Dict, Iterable, NamedTuple, Optional, Sequence, Tuple

# Why a message did not arrive; one counter each in the emulator's diagnostics.
DROP_OUTAGE = "outage"
DROP_QUEUE_FULL = "queue_full"
DROP_LOSS = "loss"
DROP_REASONS = (DROP_OUTAGE, DROP_QUEUE_FULL, DROP_LOSS)


class LinkDecision(NamedTuple):
    """Fate of one message: ``deliver_at_s`` [s] when delivered, else ``dropped`` names why."""

    deliver_at_s: Optional[float]
    dropped: Optional[str] = None  # one of DROP_REASONS, None when delivered
    queue_delay_s: float = 0.0  # time spent waiting for the link before serialisation [s]


def outage_windows_from_flat(flat: Sequence[float]) -> Tuple[Tuple[float, float], ...]:
    """[start_s, duration_s, start_s, duration_s, ...] -> ((start_s, duration_s), ...).

    The flat form is what a ROS double-array parameter can hold.
    """
    values = [float(v) for v in flat]
    if len(values) % 2:
        raise ValueError(
            f"outage_windows_s={values} has an odd number of values; give pairs "
            "[start_s, duration_s, ...], e.g. [10.0, 3.0] for a 3 s outage 10 s after start")
    return tuple((values[i], values[i + 1]) for i in range(0, len(values), 2))


class LinkModel:
    """One direction (uplink robot->cloud or downlink cloud->robot) of an emulated link.

    Args:
        delay_ms: one-way propagation delay [ms] (>= 0).
        jitter_ms: standard deviation of the Gaussian added to the delay [ms] (>= 0).
        loss: probability in [0, 1] that a transmitted message is lost.
        bandwidth_mbps: link rate [Mbit/s]; 0 = unlimited (no serialisation time).
        seed: seeds loss and jitter draws; same seed + same inputs = same decisions.
        outage_windows_s: ((start_s, duration_s), ...) relative to ``start_s``.
        start_s: the caller's clock reading that outage windows count from [s].
        max_queue_ms: longest wait for the link before a message is tail-dropped [ms];
            0 = unbounded. Only matters with a bandwidth limit.
        preserve_order: keep FIFO order per stream (see the module docstring).
    """

    def __init__(self, delay_ms: float = 50.0, jitter_ms: float = 0.0, loss: float = 0.0,
                 bandwidth_mbps: float = 0.0, seed: int = 0,
                 outage_windows_s: Iterable[Tuple[float, float]] = (), start_s: float = 0.0,
                 max_queue_ms: float = 0.0, preserve_order: bool = True):
        for name, value in (("delay_ms", delay_ms), ("jitter_ms", jitter_ms),
                            ("bandwidth_mbps", bandwidth_mbps), ("max_queue_ms", max_queue_ms)):
            if value < 0:
                raise ValueError(f"{name}={value} is negative; use a value >= 0")
        if not 0.0 <= loss <= 1.0:
            raise ValueError(f"loss={loss} is not a probability; use a value in [0, 1]")
        self.delay_ms = float(delay_ms)
        self.jitter_ms = float(jitter_ms)
        self.loss = float(loss)
        self.bandwidth_mbps = float(bandwidth_mbps)
        self.max_queue_ms = float(max_queue_ms)
        self.preserve_order = preserve_order
        self.start_s = float(start_s)
        windows = tuple((float(s), float(d)) for s, d in outage_windows_s)
        for start, duration in windows:
            if duration < 0:
                raise ValueError(f"outage window ({start}, {duration}) has a negative duration")
        # A zero-length window is "no outage" (the ROS parameter's default is [0.0, 0.0],
        # because ROS parameter files cannot hold a typed empty list).
        self.outage_windows_s = tuple(w for w in windows if w[1] > 0)
        self.link_up = True  # the run-time switch; scheduled windows apply on top of it
        self._rng = random.Random(seed)
        self._link_free_at_s = float("-inf")  # when the shared link finishes its last message
        self._last_delivery_s: Dict[str, float] = {}

    def serialisation_s(self, size_bytes: int) -> float:
        """Time the message occupies the link [s]; 0 with unlimited bandwidth."""
        if self.bandwidth_mbps <= 0:
            return 0.0
        return size_bytes * 8.0 / (self.bandwidth_mbps * 1e6)

    def in_outage_window(self, t_s: float) -> bool:
        """Whether a scheduled outage covers time ``t_s`` (caller's clock) [s]."""
        since_start_s = t_s - self.start_s
        return any(start <= since_start_s < start + duration
                   for start, duration in self.outage_windows_s)

    def is_down(self, t_s: float) -> bool:
        """Whether the link is down at ``t_s``: switched off now, or in a scheduled outage."""
        return not self.link_up or self.in_outage_window(t_s)

    def _outage_begins_between(self, t0_s: float, t1_s: float) -> bool:
        return any(t0_s < self.start_s + start <= t1_s for start, _ in self.outage_windows_s)

    def schedule(self, arrival_s: float, size_bytes: int, stream: str = "") -> LinkDecision:
        """Decide the fate of a message entering the link at ``arrival_s`` [s].

        Calls must come in non-decreasing ``arrival_s`` (the order messages enter the link).
        """
        # Draw both random numbers for every message, so one message's fate never shifts the
        # random stream of the next (the same seed gives the same jitter with or without loss).
        lost = self._rng.random() < self.loss
        jitter_s = self._rng.gauss(0.0, self.jitter_ms) / 1e3 if self.jitter_ms > 0 else 0.0

        if self.is_down(arrival_s):
            return LinkDecision(None, DROP_OUTAGE)

        tx_start_s = max(arrival_s, self._link_free_at_s)
        queue_delay_s = tx_start_s - arrival_s
        if self.max_queue_ms > 0 and queue_delay_s > self.max_queue_ms / 1e3:
            return LinkDecision(None, DROP_QUEUE_FULL, queue_delay_s)
        tx_end_s = tx_start_s + self.serialisation_s(size_bytes)
        self._link_free_at_s = tx_end_s
        if lost:
            return LinkDecision(None, DROP_LOSS, queue_delay_s)

        deliver_at_s = tx_end_s + max(0.0, self.delay_ms / 1e3 + jitter_s)
        if self.preserve_order:
            deliver_at_s = max(deliver_at_s, self._last_delivery_s.get(stream, float("-inf")))
        if self._outage_begins_between(arrival_s, deliver_at_s):
            return LinkDecision(None, DROP_OUTAGE, queue_delay_s)
        if self.preserve_order:
            self._last_delivery_s[stream] = deliver_at_s
        return LinkDecision(deliver_at_s, None, queue_delay_s)

    def queue_delay_s(self, now_s: float) -> float:
        """How long a message entering now would wait for the link [s]."""
        return max(0.0, self._link_free_at_s - now_s)
