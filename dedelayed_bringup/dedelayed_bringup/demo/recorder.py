"""The demo's recorder: every output with its frame stamp and the time it was received.

Runs inside the demo runner, in the ROBOT's DDS domain (where a planner would listen), on its
own rclpy Context and executor thread. Receive times are taken on the same clock the camera
stamps frames with (the robot's system clock), so "finished by then" in the streaming score is
exact up to this process's own callback latency, which all three outputs share.

Everything it hears is also written, as received, to a rosbag2-compatible MCAP file
(``topic_recorder.TopicRecorder``, the ``recorder`` executable's path): the camera, the truth,
the three outputs, the overlay, FeatureMaps (without payload), DelayReports and /diagnostics.
The scores are computed from the very messages the bag holds, with the bag's receive times.

It also cuts and restores the link: ``set_link_up`` calls the link emulator's parameter service
(``link_up``), and the times of those calls are what the report shades as the outage.
"""

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import SetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image

from dedelayed_bringup.recording.mcap_bag import BagWriter
from dedelayed_bringup.recording.topic_recorder import (
    COLOUR_TOPICS,
    GROUND_TRUTH_TOPIC,
    RECORDED_TOPICS,
    TopicRecorder,
    resolve_topic,
)
from dedelayed_link import (
    DELAY_REPORT,
    DIAGNOSTICS_TOPIC,
    FEATURES,
    LOCAL_ONLY_TOPIC,
    REMOTE_SEGMENTATION,
    SEGMENTATION_TOPIC,
)
from dedelayed_msgs.msg import DelayReport, FeatureMap

STREAMS = ("dedelayed", "local_only", "remote_only")
# Recorded topic (relative ones under the robot namespace) -> the output stream it carries.
STREAM_TOPICS = {"dedelayed": SEGMENTATION_TOPIC, "local_only": LOCAL_ONLY_TOPIC,
                 "remote_only": REMOTE_SEGMENTATION.name}


@dataclass
class Recording:
    """What the recorder saw. Times in seconds on the robot's clock."""

    truth: List[tuple] = field(default_factory=list)          # (stamp_s, label (H, W) uint8)
    outputs: Dict[str, List[tuple]] = field(default_factory=lambda: defaultdict(list))
    # ^ stream -> [(stamp_s, received_s, class ids (H, W) uint8)]
    diagnostics: List[dict] = field(default_factory=list)     # robot segmenter statuses
    delay_reports: List[tuple] = field(default_factory=list)  # (received_s, observed_delay_ms, jitter_ms, n)
    # (stamp_s, received_s, remote_compute_ms, delay_ms); remote_compute_ms = the cloud's whole
    # hold of the frame, remote_publish_time - remote_receive_time (decode, the newest-only wait
    # behind the previous batch, forward, encode) -- what the robot's tau really contains.
    features: List[tuple] = field(default_factory=list)
    link_events: List[tuple] = field(default_factory=list)    # (time_s, link_up)
    # the MCAP file of the drive: {"path", "size_bytes", "messages": {topic: count}}
    bag: Dict[str, object] = field(default_factory=dict)


def _time_s(time_msg) -> float:
    return time_msg.sec + time_msg.nanosec * 1e-9


def _stamp_s(header) -> float:
    return _time_s(header.stamp)


def _pixels(msg: Image) -> np.ndarray:
    return np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)[:, :msg.width].copy()


class DemoRecorder:
    def __init__(self, domain_id: int, namespace: str, emulator_node: str, bag_path: str,
                 record_feature_payload: bool = False):
        self.recording = Recording()
        self._lock = threading.Lock()
        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=int(domain_id))
        self.node = Node("demo_recorder", context=self.context)
        ns = namespace.rstrip("/")
        handlers = {resolve_topic(topic, ns): (lambda m, t, s=stream: self._on_output(s, m, t))
                    for stream, topic in STREAM_TOPICS.items()}
        handlers.update({
            GROUND_TRUTH_TOPIC: self._on_truth, DIAGNOSTICS_TOPIC: self._on_diagnostics,
            resolve_topic(DELAY_REPORT.name, ns): self._on_delay_report,
            resolve_topic(FEATURES.name, ns): self._on_features})
        self.bag = BagWriter(bag_path)
        self.topic_recorder = TopicRecorder(self.node, RECORDED_TOPICS, self.bag, namespace=ns,
                                            handlers=handlers, colour_topics=COLOUR_TOPICS,
                                            record_feature_payload=record_feature_payload)
        self._set_parameters = self.node.create_client(
            SetParameters, f"{emulator_node}/set_parameters")
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._spinner = threading.Thread(target=self.executor.spin, daemon=True,
                                         name="demo_recorder")
        self._spinner.start()

    # -- callbacks (received_s: the receive time the bag holds as log time) --------------------
    def _on_output(self, stream: str, msg: Image, received_s: float) -> None:
        with self._lock:
            self.recording.outputs[stream].append((_stamp_s(msg.header), received_s, _pixels(msg)))

    def _on_truth(self, msg: Image, received_s: float) -> None:
        with self._lock:
            self.recording.truth.append((_stamp_s(msg.header), _pixels(msg)))

    def _on_diagnostics(self, msg: DiagnosticArray, received_s: float) -> None:
        for status in msg.status:
            if not status.name.endswith(": segmentation"):
                continue  # the emulator's and the cloud's statuses live here too
            values = {kv.key: kv.value for kv in status.values}
            tau = values.get("tau_ms", "")
            with self._lock:
                self.recording.diagnostics.append({
                    "time_s": received_s, "mode": values.get("mode", ""),
                    "reason": values.get("reason", ""), "tau_ms": float(tau) if tau else None,
                    "fused_frames": int(values.get("fused_frames", 0)),
                    "local_only_frames": int(values.get("local_only_frames", 0))})

    def _on_delay_report(self, msg: DelayReport, received_s: float) -> None:
        with self._lock:
            self.recording.delay_reports.append((received_s, float(msg.observed_delay_ms),
                                                 float(msg.delay_jitter_ms), int(msg.window_size)))

    def _on_features(self, msg: FeatureMap, received_s: float) -> None:
        with self._lock:
            held_ms = (_time_s(msg.remote_publish_time) - _time_s(msg.remote_receive_time)) * 1e3
            self.recording.features.append((_stamp_s(msg.header), received_s, held_ms,
                                            float(msg.delay_ms)))

    # -- control -----------------------------------------------------------------------------
    def set_link_up(self, up: bool, timeout_s: float = 5.0) -> float:
        """Cut (False) or restore (True) the emulated link; returns when it took effect [s]."""
        if not self._set_parameters.wait_for_service(timeout_sec=timeout_s):
            raise RuntimeError(f"link emulator parameter service {self._set_parameters.srv_name} "
                               f"did not appear within {timeout_s} s; is the emulator running?")
        request = SetParameters.Request(parameters=[Parameter(
            name="link_up", value=ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=up))])
        future = self._set_parameters.call_async(request)
        deadline = time.monotonic() + timeout_s
        while not future.done() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not future.done() or not future.result().results[0].successful:
            raise RuntimeError(f"setting link_up={up} on the link emulator failed")
        now = time.time()
        with self._lock:
            self.recording.link_events.append((now, up))
        return now

    def snapshot_counts(self) -> Dict[str, int]:
        """How many messages of each kind arrived so far (for progress lines)."""
        with self._lock:
            counts = {s: len(self.recording.outputs[s]) for s in STREAMS}
            counts["truth"] = len(self.recording.truth)
            return counts

    def latest_diagnostics(self) -> Optional[dict]:
        with self._lock:
            return self.recording.diagnostics[-1] if self.recording.diagnostics else None

    def close(self) -> Recording:
        """Stop listening, close the bag (summary, rosbag2 metadata, footer); the recording."""
        self.executor.shutdown(timeout_sec=2.0)
        self.node.destroy_node()
        self.context.try_shutdown()
        self._spinner.join(timeout=2.0)
        self.bag.close()
        self.recording.bag = {"path": self.bag.path, "size_bytes": self.bag.size_bytes,
                              "messages": self.bag.message_counts()}
        return self.recording
