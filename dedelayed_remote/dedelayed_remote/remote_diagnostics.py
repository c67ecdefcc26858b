"""What the remote node reports on /diagnostics, computed without ROS.

One status per robot (rates of frames in and features out over the last period, frames dropped
as superseded / stale / refused (per kind), the delay used and reports clamped or refused, the
last batch) and one for the server
(model identity and source, device, batches per second, forward time). The node turns the
``Status`` tuples into diagnostic_msgs; levels follow diagnostic_msgs (0 OK, 1 WARN, 2 ERROR).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from dedelayed_models.modeling import is_random_source

OK, WARN, ERROR = 0, 1, 2


@dataclass(frozen=True)
class Status:
    name: str
    level: int
    message: str
    values: List[Tuple[str, str]] = field(default_factory=list)


def robot_label(namespace: str) -> str:
    return namespace or "(node namespace)"


class RemoteDiagnostics:
    """Accumulates what the worker did; ``statuses`` turns it into per-period figures."""

    def __init__(self, *, node_name: str, identity: str, source: str, device: str,
                 signed: bool = False):
        self.node_name, self.identity, self.source, self.device = node_name, identity, source, device
        self.signature_note = ("signed (Ed25519, feature_signing_key)" if signed else
                               "UNSIGNED: no feature_signing_key set; robots that verify refuse them")
        self._lock = threading.Lock()
        self._published: Dict[str, int] = {}
        self._last_compute_ms: Dict[str, float] = {}
        self._last_error: Dict[str, str] = {}
        self._batches = 0
        self._forward_ms_sum = 0.0
        self._last_batch_size = 0
        self._last_forward_ms = 0.0
        self._previous: Optional[Tuple[float, Dict[str, Dict[str, float]], Dict[str, int], int, float]] = None

    def record_batch(self, batch_size: int, forward_ms: float) -> None:
        with self._lock:
            self._batches += 1
            self._forward_ms_sum += forward_ms
            self._last_batch_size, self._last_forward_ms = batch_size, forward_ms

    def record_answer(self, robot: str, compute_ms: float, error: str = "") -> None:
        with self._lock:
            if error:
                self._last_error[robot] = error
            else:
                self._published[robot] = self._published.get(robot, 0) + 1
                self._last_compute_ms[robot] = compute_ms

    def statuses(self, counters: Dict[str, Dict[str, float]], now_s: float,
                 identity_mismatch: Dict[str, str]) -> List[Status]:
        """counters: RobotContextSet.counters(); identity_mismatch: robot -> identity it expects
        (only robots whose expected identity differs from ours)."""
        with self._lock:
            published = dict(self._published)
            batches, forward_sum = self._batches, self._forward_ms_sum
            last_batch, last_forward = self._last_batch_size, self._last_forward_ms
            compute, errors = dict(self._last_compute_ms), dict(self._last_error)
            previous, self._previous = self._previous, (now_s, counters, published, batches, forward_sum)
        if previous is None:
            prev_s, prev_counters, prev_published, prev_batches, prev_forward = now_s, {}, {}, 0, 0.0
        else:
            prev_s, prev_counters, prev_published, prev_batches, prev_forward = previous
        period_s = max(now_s - prev_s, 1e-9)
        out = []
        for robot, c in counters.items():
            before = prev_counters.get(robot, {})

            def delta(key):
                return c.get(key, 0) - before.get(key, 0)

            frames_in_hz = delta("frames_received") / period_s if previous else 0.0
            out_hz = (published.get(robot, 0) - prev_published.get(robot, 0)) / period_s if previous else 0.0
            level, message = OK, "serving" if published.get(robot) else "waiting for uplink frames"
            if robot in identity_mismatch:
                level, message = WARN, (f"robot expects remote model {identity_mismatch[robot]}, this "
                                        f"node serves {self.identity}: the robot will not fuse")
            elif delta("frames_refused") > 0:
                kinds = [k[len("refused_"):] for k in c if k.startswith("refused_") and delta(k) > 0]
                level, message = WARN, f"uplink frames refused ({', '.join(kinds)})"
            elif delta("delays_clamped") > 0 or delta("delays_refused") > 0:
                level, message = WARN, "delay reports outside the model's range"
            elif delta("frames_received") > 0 and out_hz == 0 and previous:
                level, message = WARN, "frames arrive but no features were sent this period"
            values = [("frames_in_hz", f"{frames_in_hz:.2f}"), ("features_out_hz", f"{out_hz:.2f}"),
                      ("frames_received", str(int(c["frames_received"]))),
                      ("frames_superseded", str(int(c["frames_superseded"]))),
                      ("frames_rate_capped", str(int(c["frames_rate_capped"]))),
                      ("frames_stale", str(int(c["frames_stale"]))),
                      ("frames_refused", str(int(c["frames_refused"]))),
                      *((k, str(int(n))) for k, n in c.items() if k.startswith("refused_")),
                      ("decode_superseded", str(int(c.get("decode_superseded", 0)))),
                      ("frames_out_of_order", str(int(c["frames_out_of_order"]))),
                      ("history_restarts", str(int(c["history_restarts"]))),
                      ("delay_ms", f"{c['delay_ms']:.1f}"),
                      ("delays_clamped", str(int(c["delays_clamped"]))),
                      ("delays_refused", str(int(c["delays_refused"]))),
                      ("identity_changes", str(int(c["identity_changes"]))),
                      ("last_compute_ms", f"{compute.get(robot, float('nan')):.1f}")]
            if robot in errors:
                values.append(("last_encode_error", errors[robot]))
            out.append(Status(f"{self.node_name}: robot {robot_label(robot)}", level, message, values))
        batches_in_period = batches - prev_batches
        mean_forward = (forward_sum - prev_forward) / batches_in_period if batches_in_period else 0.0
        random_weights = is_random_source(self.source)
        out.append(Status(f"{self.node_name}: server", WARN if random_weights else OK,
                          "RANDOM weights (no checkpoint): features are meaningless" if random_weights
                          else "ok",
                          [("model_identity", self.identity), ("model_source", self.source),
                           ("device", self.device), ("feature_signatures", self.signature_note),
                           ("batches_hz", f"{batches_in_period / period_s if previous else 0.0:.2f}"),
                           ("last_batch_size", str(last_batch)),
                           ("last_forward_ms", f"{last_forward:.1f}"),
                           ("mean_forward_ms", f"{mean_forward:.1f}")]))
        return out
