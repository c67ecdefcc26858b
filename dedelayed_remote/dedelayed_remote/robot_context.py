"""Per-robot temporal context on the cloud: the last K uplinked frames and one pending slot.

Rules (docs/ARCHITECTURE.md, "Timing rules": drop stale frames rather than queue, work on the newest):

* History advances per RECEIVED frame: every received frame enters the history even if it is
  never computed on, so when the cloud falls behind the context still holds the K newest camera
  frames (only the prediction rate drops). The model is conditioned on each context frame's age
  (``ContextSnapshot.frame_ages_ms``), so any spacing the camera and the link make is described.
* Newest only: one pending slot per robot. A frame arriving while the pending one has not been
  taken yet REPLACES it (``frames_superseded`` counts these); nothing queues.
* Padding: before K frames have arrived, the oldest received frame is repeated in front, so a
  robot gets features from its very first frame (a static scene is the least surprising guess).
* ``max_frame_age_ms`` (<= 0 disables both uses):
  - a pending frame whose ARRIVAL on the cloud (steady clock, taken in the subscription
    callback) is more than max_frame_age_ms before the moment the worker takes it for a forward
    pass is dropped (``frames_stale``): its answer would reach the robot too late to be fused.
    Robot stamps cannot be used for this: the hosts' clocks are not synchronised.
  - a received frame whose robot stamp is more than max_frame_age_ms after the newest history
    frame's stamp (same clock, the robot's) restarts the history: after such a pause the old
    frames are no longer the consecutive frames the model expects, so padding is closer.
* Fair share: a robot gets at most ``max_answer_rate_hz`` answers per second. A pending frame
  that comes sooner waits and is replaced by any newer one (``frames_rate_capped`` counts those
  replaced while the cap held the robot back), so a robot that uplinks far above its camera
  rate cannot take the cloud from the others.
* A robot stamp not after the newest history frame's is a repeat or arrived out of order:
  dropped (``frames_out_of_order``) when it is at most max_frame_age_ms older, otherwise the
  robot restarted or its sim time was reset, and the history restarts from this frame.

* Delay: a DelayReport sets the delay to condition on within [0, max_delay_ms] (the range the
  model covers): a larger finite one is clamped to max_delay_ms, a negative or non-finite one
  refused (the previous delay stays).

Plain Python (numpy, no rclpy), so every rule is tested without a ROS graph.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Tuple

import numpy as np

from dedelayed_models.data.webp_header import REFUSAL_KINDS

Stamp = int  # a robot camera stamp [ns] (dedelayed_link.stamps at the node's edge), echoed exactly


@dataclass(frozen=True)
class UplinkFrame:
    """One decoded uplink frame as the remote model will see it."""

    pixels: np.ndarray               # (Hr, Wr, 3) uint8 RGB at the model's remote resolution
    stamp: Stamp                     # robot camera stamp, echoed untouched in FeatureMap.header
    frame_id: str                    # robot camera frame_id, echoed
    receive_time_ns: int             # cloud ROS clock at arrival [ns] -> remote_receive_time
    arrival_monotonic_ns: int        # cloud steady clock at arrival [ns] -> age rule
    decode_ms: float = 0.0           # WebP decode + resize time [ms]


# What became of a DelayReport (RobotContext.report_delay).
DELAY_ADOPTED, DELAY_CLAMPED, DELAY_REFUSED, DELAY_NO_SAMPLES = ("adopted", "clamped",
                                                                 "refused", "no_samples")


@dataclass(frozen=True)
class ContextSnapshot:
    """What one robot contributes to a batch: K frames oldest first, ending at its newest frame."""

    robot: str
    frames: Tuple[np.ndarray, ...]   # K x (Hr, Wr, 3) uint8, oldest first (padded in front)
    stamps: Tuple[Stamp, ...]        # K robot camera stamps of those frames (padding repeats)
    newest: UplinkFrame
    delay_ms: float                  # delay to predict: the newest frame's age at the target [ms]
    real_frames: int                 # received frames in the context (K - real = padding)

    def frame_ages_ms(self) -> Tuple[float, ...]:
        """Each context frame's age at the target instant [ms], oldest first (K,): the delay to
        predict plus how much older than the newest frame it is (robot clock, no sync needed)."""
        newest_ns = self.stamps[-1]
        return tuple(self.delay_ms + (newest_ns - s) / 1e6 for s in self.stamps)


class RobotContext:
    """One robot's K-frame history, pending slot, delay and counters (not thread-safe alone)."""

    def __init__(self, robot: str, *, num_frames: int, default_delay_ms: float,
                 max_frame_age_ms: float, max_delay_ms: float = float("inf"),
                 max_answer_rate_hz: float = 0.0):
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        if not max_answer_rate_hz >= 0:
            raise ValueError(f"max_answer_rate_hz must be >= 0 (0 = no cap), got {max_answer_rate_hz}")
        # The fair share: at most this many answers per second for this robot [ns between takes].
        self.min_answer_interval_ns = int(1e9 / max_answer_rate_hz) if max_answer_rate_hz else 0
        self._last_taken_ns: Optional[int] = None
        self.frames_rate_capped = 0      # replaced while the cap held the robot back
        self.robot = robot
        self.num_frames = int(num_frames)
        self.max_frame_age_ms = float(max_frame_age_ms)
        self.delay_ms = float(default_delay_ms)
        self.max_delay_ms = float(max_delay_ms)
        self.delays_clamped = 0         # DelayReports above max_delay_ms, used as max_delay_ms
        self.delays_refused = 0         # negative or non-finite DelayReports, ignored
        self.identity_changes = 0       # the identity the robot accepts changed (first one too)
        self.expected_identity = ""
        self.history: Deque[UplinkFrame] = deque(maxlen=self.num_frames)
        self.pending: Optional[UplinkFrame] = None
        self.frames_received = 0
        self.frames_superseded = 0      # replaced in the pending slot before any forward pass
        self.frames_stale = 0           # dropped by the max_frame_age_ms arrival rule
        self.frames_out_of_order = 0    # stamp not after the newest one (repeat or reordered)
        self.frames_refused = {kind: 0 for kind in REFUSAL_KINDS}  # by the caller's decoder
        self.frames_taken = 0           # handed to a forward pass
        self.history_restarts = 0

    def push(self, frame: UplinkFrame) -> bool:
        """Add a received frame to the history and make it the pending one; False if dropped."""
        self.frames_received += 1
        if self.history:
            gap_ms = (frame.stamp - self.history[-1].stamp) / 1e6
            age_rule = self.max_frame_age_ms > 0
            # Without the age rule an older stamp cannot be told from a restart: restart then.
            reordered = gap_ms < 0 and age_rule and -gap_ms <= self.max_frame_age_ms
            if gap_ms == 0 or reordered:
                self.frames_out_of_order += 1
                return False
            if gap_ms < 0 or (age_rule and gap_ms > self.max_frame_age_ms):
                self.history.clear()
                self.history_restarts += 1
        if self.pending is not None:
            self.frames_superseded += 1
            # the cap, not a busy model, kept the replaced frame from an answer
            self.frames_rate_capped += self.wait_ns(frame.arrival_monotonic_ns) > 0
        self.history.append(frame)
        self.pending = frame
        return True

    @property
    def has_pending(self) -> bool:
        return self.pending is not None

    def wait_ns(self, now_monotonic_ns: int) -> int:
        """How long the rate cap still holds this robot's next answer back [ns]; <= 0 = due."""
        if not self.min_answer_interval_ns or self._last_taken_ns is None:
            return 0
        return self._last_taken_ns + self.min_answer_interval_ns - now_monotonic_ns

    def take(self, now_monotonic_ns: int) -> Optional[ContextSnapshot]:
        """The context for a forward pass on the pending frame, or None (none pending, stale, or
        held back by the rate cap: then it stays pending, and a newer frame replaces it)."""
        if self.pending is not None and self.wait_ns(now_monotonic_ns) > 0:
            return None
        frame, self.pending = self.pending, None
        if frame is None:
            return None
        age_ms = (now_monotonic_ns - frame.arrival_monotonic_ns) / 1e6
        if self.max_frame_age_ms > 0 and age_ms > self.max_frame_age_ms:
            self.frames_stale += 1
            return None
        history = list(self.history)
        padded = [history[0]] * (self.num_frames - len(history)) + history
        self.frames_taken += 1
        self._last_taken_ns = now_monotonic_ns
        return ContextSnapshot(robot=self.robot, frames=tuple(f.pixels for f in padded),
                               stamps=tuple(f.stamp for f in padded), newest=frame,
                               delay_ms=self.delay_ms, real_frames=len(history))

    def report_delay(self, observed_delay_ms: float, window_size: int, output_lag_ms: float = 0.0) -> str:
        """Take a DelayReport's delay: the cloud predicts for the observed delay plus the robot's
        output lag (the instant its output is used). DELAY_ADOPTED, DELAY_CLAMPED (above
        max_delay_ms: that is used), DELAY_REFUSED (negative / non-finite: unchanged) or
        DELAY_NO_SAMPLES."""
        value = float(observed_delay_ms) + float(output_lag_ms)
        if window_size <= 0:
            return DELAY_NO_SAMPLES
        if not (math.isfinite(value) and observed_delay_ms >= 0 and output_lag_ms >= 0):
            self.delays_refused += 1
            return DELAY_REFUSED
        outcome = DELAY_ADOPTED
        if value > self.max_delay_ms:
            value, outcome = self.max_delay_ms, DELAY_CLAMPED
            self.delays_clamped += 1
        self.delay_ms = value
        return outcome

    def set_expected_identity(self, identity: str) -> bool:
        """Remember the identity the robot accepts; True when it changed."""
        changed = identity != self.expected_identity
        self.identity_changes += changed
        self.expected_identity = identity
        return changed

    def counters(self) -> Dict[str, float]:
        return {"frames_received": self.frames_received, "frames_superseded": self.frames_superseded,
                "frames_stale": self.frames_stale, "frames_out_of_order": self.frames_out_of_order,
                "frames_refused": sum(self.frames_refused.values()),
                **{f"refused_{kind}": n for kind, n in self.frames_refused.items()},
                "frames_taken": self.frames_taken, "history_restarts": self.history_restarts,
                "frames_rate_capped": self.frames_rate_capped,
                "delay_ms": self.delay_ms, "delays_clamped": self.delays_clamped,
                "delays_refused": self.delays_refused, "identity_changes": self.identity_changes}


class RobotContextSet:
    """Thread-safe set of RobotContexts: subscription callbacks push, one worker takes batches."""

    def __init__(self, robots: List[str], *, num_frames: int, default_delay_ms: float,
                 max_frame_age_ms: float, max_delay_ms: float = float("inf"),
                 max_answer_rate_hz: float = 0.0):
        if not robots:
            raise ValueError("no robots to serve: give at least one namespace ('' = the node's own)")
        if len(set(robots)) != len(robots):
            raise ValueError(f"robot namespaces are repeated: {robots}")
        self.contexts: Dict[str, RobotContext] = {
            r: RobotContext(r, num_frames=num_frames, default_delay_ms=default_delay_ms,
                            max_frame_age_ms=max_frame_age_ms, max_delay_ms=max_delay_ms,
                            max_answer_rate_hz=max_answer_rate_hz)
            for r in robots}
        self._ready = threading.Condition()
        self._stopped = False

    def push_frame(self, robot: str, frame: UplinkFrame) -> bool:
        with self._ready:
            accepted = self.contexts[robot].push(frame)
            if accepted:
                self._ready.notify()
            return accepted

    def count_refused(self, robot: str, kind: str) -> int:
        """Count a received frame refused by the decoder; returns that robot's refusals of kind."""
        with self._ready:
            ctx = self.contexts[robot]
            ctx.frames_received += 1
            ctx.frames_refused[kind] += 1
            return ctx.frames_refused[kind]

    def report_delay(self, robot: str, observed_delay_ms: float, window_size: int,
                     expected_identity: str, output_lag_ms: float = 0.0) -> Tuple[str, bool]:
        """(RobotContext.report_delay outcome, expected identity changed)."""
        with self._ready:
            ctx = self.contexts[robot]
            return (ctx.report_delay(observed_delay_ms, window_size, output_lag_ms),
                    ctx.set_expected_identity(expected_identity))

    def wait_for_ready(self, timeout_s: float) -> bool:
        """Block until some robot has a pending frame its rate cap lets through (True) or
        timeout / stop (False)."""
        deadline = time.monotonic() + timeout_s
        with self._ready:
            while not self._stopped:
                now_ns = time.monotonic_ns()
                waits = [c.wait_ns(now_ns) for c in self.contexts.values() if c.has_pending]
                if waits and min(waits) <= 0:
                    return True
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    return False
                self._ready.wait(min([left_s] + [w / 1e9 for w in waits]))
            return False

    def take_ready(self, now_monotonic_ns: int) -> List[ContextSnapshot]:
        """Every robot's pending context, in robot order (one batch)."""
        with self._ready:
            taken = (c.take(now_monotonic_ns) for c in self.contexts.values())
            return [s for s in taken if s is not None]

    def counters(self) -> Dict[str, Dict[str, float]]:
        with self._ready:
            return {r: c.counters() for r, c in self.contexts.items()}

    def stop(self) -> None:
        with self._ready:
            self._stopped = True
            self._ready.notify_all()
