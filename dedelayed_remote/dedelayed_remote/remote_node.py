"""Cloud node: serves delay-conditioned remote features z to one or many robots.

Per robot namespace <ns> ('' = the node's own, relative names), the link contract
(dedelayed_link.contract: names, types, QoS):
    in   <ns>/UPLINK                 sensor_msgs/CompressedImage (WebP)
    in   <ns>/DELAY_REPORT           dedelayed_msgs/DelayReport
    out  <ns>/FEATURES               dedelayed_msgs/FeatureMap
    out  <ns>/REMOTE_SEGMENTATION    sensor_msgs/Image mono8 (publish_remote_segmentation only)
    out  /diagnostics                diagnostic_msgs/DiagnosticArray every diagnostics_period_s

ROS plumbing only: callbacks hand uplink payloads to per-robot decoder threads
(uplink_decoder.py: WebP header checked before decoding, newest only), which push frames into
the per-robot contexts (robot_context.py); one worker thread, not the executor, runs the batched
forward (remote_server.py), so callbacks keep replacing pending frames while the model computes.
Trouble is logged once per episode (dedelayed_models.episode_log). Parameters: remote_params.py,
README.md.

A managed (lifecycle) node (dedelayed_link.managed): configure loads, checks and warms up the
model; activate subscribes to every robot and starts the inference thread; deactivate stops
both, so a deactivated cloud answers no robot (their diagnostics show the features going stale);
cleanup frees the model.
"""

from __future__ import annotations

import array
import os
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from sensor_msgs.msg import CompressedImage, Image

from dedelayed_link import DELAY_REPORT, DIAGNOSTICS_TOPIC, FEATURES, REMOTE_SEGMENTATION, UPLINK, robot_topic
from dedelayed_link.managed import ManagedNode
from dedelayed_link.params import declare_parameters
from dedelayed_link.ros_main import run_nodes
from dedelayed_link.stamps import ns_to_stamp, stamp_to_ns
from dedelayed_models.data.webp_header import UplinkRefused, check_webp_size
from dedelayed_models.episode_log import EpisodeLog
from dedelayed_models.peer_text import peer_text
from dedelayed_models.shipped import resolve_checkpoint
from dedelayed_models.transport.feature_msg import fill_feature_map
from dedelayed_models.transport.feature_signing import optional_signer
from dedelayed_msgs.msg import DelayReport, FeatureMap

from .remote_diagnostics import RemoteDiagnostics, robot_label
from .remote_params import NODE_NAME, PARAMETERS, RemoteNodeSettings
from .remote_server import RemoteServer, ServedFeatures
from .robot_context import DELAY_CLAMPED, DELAY_REFUSED, RobotContextSet, UplinkFrame
from .served_model import load_served_model
from .uplink_decoder import UplinkDecoder, UplinkPayload


class RemoteNode(ManagedNode):
    """The cloud node; a managed node (see the module docstring)."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.settings = RemoteNodeSettings.from_values(self._declare_parameters())
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)
        self.served = self.server = None
        self._worker = None
        self._stop = threading.Event()

    def configure(self) -> None:
        """Load, check and warm up the model; per-robot state and publishers."""
        s = self.settings
        self.served = load_served_model(checkpoint=resolve_checkpoint(s.checkpoint),
                                        preset=s.preset, seed=s.seed, device=s.device,
                                        num_frames=s.num_frames, logger=self.get_logger())
        self.server = RemoteServer(self.served, local_hw=s.local_hw(self.served.config.local_hw),
                                   feature_encoding=s.feature_encoding)
        self.signer = optional_signer(s.feature_signing_key)
        if self.signer is None:
            self.get_logger().warning("feature_signing_key is empty: FeatureMaps go out UNSIGNED; "
                                      "robots that verify signatures will refuse them")
        self._warm_up_ms = self.server.warm_up(s.default_delay_ms)
        self.max_delay_ms = s.delay_bound_ms(self.served.trained_delay_ms)
        self.contexts = RobotContextSet(s.robot_namespaces, num_frames=self.served.num_frames,
                                        default_delay_ms=s.default_delay_ms,
                                        max_frame_age_ms=s.max_frame_age_ms,
                                        max_delay_ms=self.max_delay_ms,
                                        max_answer_rate_hz=s.max_answer_rate_hz)
        self.diagnostics = RemoteDiagnostics(node_name=self.get_name(), identity=self.served.identity,
                                             source=self.served.source, device=str(self.served.device),
                                             signed=self.signer is not None)
        # Every key exists from the start: callbacks of several threads only update values,
        # so the diagnostics timer can iterate safely.
        self._expected_identity = {r: None for r in s.robot_namespaces}
        self._warned_size = set()
        # Each robot's fully qualified namespace, written into (and signed with) its maps;
        # '' (the node's own namespace) is this node's.
        self._robot_names = {r: r or self.get_namespace() for r in s.robot_namespaces}
        self.decoder = UplinkDecoder(s.robot_namespaces, self.served.remote_hw,
                                     s.max_uplink_pixels, on_decoded=self._on_decoded,
                                     on_refused=self._on_refused, on_error=self._on_decode_error)
        self._feature_publishers = {}
        self._segmentation_publishers = {}
        for robot in s.robot_namespaces:
            self._feature_publishers[robot] = self.output(
                FeatureMap, robot_topic(robot, FEATURES.name), FEATURES.qos_profile())
            if s.publish_remote_segmentation:
                self._segmentation_publishers[robot] = self.output(
                    Image, robot_topic(robot, REMOTE_SEGMENTATION.name), REMOTE_SEGMENTATION.qos_profile())
        self._diagnostics_publisher = self.output(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self.get_logger().info(f"loaded {self.served.identity} ({self.served.source}) on "
                               f"{self.served.device}; first forward pass {self._warm_up_ms:.0f} ms")

    def activate(self) -> None:
        """Subscribe to every robot's uplink and delay reports; start the inference thread."""
        s = self.settings
        uplinks = []
        for robot in s.robot_namespaces:
            # One group per robot: each robot's frames reach its decoder in arrival order.
            group = MutuallyExclusiveCallbackGroup()
            uplinks.append(self.while_active(self.create_subscription(
                CompressedImage, robot_topic(robot, UPLINK.name),
                lambda msg, info, r=robot: self._on_uplink(r, msg, info),
                UPLINK.qos_profile(), callback_group=group)).topic_name)
            self.while_active(self.create_subscription(
                DelayReport, robot_topic(robot, DELAY_REPORT.name),
                lambda msg, r=robot: self._on_delay_report(r, msg),
                DELAY_REPORT.qos_profile(), callback_group=group))
        self.while_active(self.create_timer(s.diagnostics_period_s, self._publish_diagnostics,
                                            callback_group=MutuallyExclusiveCallbackGroup()))
        self._stop.clear()
        self._worker = threading.Thread(target=self._serve_forever, name="remote_inference",
                                        daemon=True)
        self._worker.start()
        c, h, w = self.server.feature_shape
        self.get_logger().info(
            f"serving {self.served.identity} ({self.served.source}) on {self.served.device} to "
            f"{[robot_label(r) for r in s.robot_namespaces]} (uplinks {uplinks}): "
            f"K={self.served.num_frames} frames at "
            f"{self.served.remote_hw[0]}x{self.served.remote_hw[1]}, z {c}x{h}x{w} "
            f"{s.feature_encoding} for local input {self.server.local_hw[0]}x{self.server.local_hw[1]} "
            f"(first forward pass {self._warm_up_ms:.0f} ms)")

    def deactivate(self) -> None:
        """Stop the inference thread: no robot is answered until activated again."""
        self._stop.set()
        if self._worker is not None and self._worker.is_alive():
            self._worker.join(timeout=30.0)
        self._worker = None

    def cleanup(self) -> None:
        """Stop the decoders and free the model."""
        self.decoder.stop()
        self.contexts.stop()
        self.served = self.server = None
        _free_accelerator_memory()

    def _declare_parameters(self) -> dict:
        return declare_parameters(self, PARAMETERS)

    # --- callbacks (executor thread) -------------------------------------------------------

    def _on_uplink(self, robot: str, msg: CompressedImage, info=None) -> None:
        arrival_monotonic_ns = time.monotonic_ns()
        receive_time_ns = self.get_clock().now().nanoseconds
        # The middleware's reception time, not this callback's: while the inference thread holds
        # the interpreter a callback can start tens of ms late, and that wait is the cloud's.
        received_ns = int((info or {}).get("received_timestamp", 0))
        if 0 < received_ns <= receive_time_ns:
            arrival_monotonic_ns -= receive_time_ns - received_ns
            receive_time_ns = received_ns
        data = bytes(msg.data)
        try:
            # The header alone (bounded, no pixels): a refused payload never takes the decoder
            # slot, so a flood of bad payloads cannot push the robot's real frames out of it.
            check_webp_size(data, self.settings.max_uplink_pixels)
        except UplinkRefused as refusal:
            self._on_refused(robot, None, refusal)
            return
        self.decoder.submit(robot, UplinkPayload(
            data=data, stamp=stamp_to_ns(msg.header.stamp), frame_id=msg.header.frame_id,
            receive_time_ns=receive_time_ns, arrival_monotonic_ns=arrival_monotonic_ns))

    # --- decoded or refused (the robot's decoder thread) -----------------------------------

    def _on_decoded(self, robot, payload, pixels, decode_ms, decoded_hw) -> None:
        if decoded_hw != self.served.remote_hw and robot not in self._warned_size:
            self._warned_size.add(robot)
            self.get_logger().warning(
                f"robot {robot_label(robot)} uplinks {decoded_hw[0]}x{decoded_hw[1]} frames; the "
                f"remote model takes {self.served.remote_hw[0]}x{self.served.remote_hw[1]}, so the "
                "cloud resizes every frame; set the robot uplink size to save bandwidth and time")
        self.contexts.push_frame(robot, UplinkFrame(
            pixels=pixels, stamp=payload.stamp, frame_id=payload.frame_id,
            receive_time_ns=payload.receive_time_ns,
            arrival_monotonic_ns=payload.arrival_monotonic_ns, decode_ms=decode_ms))

    def _on_refused(self, robot, payload, refusal) -> None:
        count = self.contexts.count_refused(robot, refusal.kind)
        self.episodes.event(f"uplink_refused_{refusal.kind}", f"dropped uplink frame "
                            f"({count} of this kind so far): {refusal}",
                            subject=f"robot {robot_label(robot)}")

    def _on_decode_error(self, robot, exc) -> None:
        self.episodes.event("uplink_decode_error", f"{type(exc).__name__}: {exc}",
                            subject=f"robot {robot_label(robot)}")

    def _on_delay_report(self, robot: str, msg: DelayReport) -> None:
        outcome, _ = self.contexts.report_delay(robot, msg.observed_delay_ms, msg.window_size,
                                                msg.expected_model_identity, msg.output_lag_ms)
        who = f"robot {robot_label(robot)}"
        if outcome == DELAY_CLAMPED:
            self.episodes.event("delay_clamped", f"reported delay {msg.observed_delay_ms} ms "
                                f"+ output lag {msg.output_lag_ms} ms is "
                                f"above max_delay_ms {self.max_delay_ms:g} (the range the model "
                                f"covers); conditioning on {self.max_delay_ms:g} ms", subject=who)
        elif outcome == DELAY_REFUSED:
            self.episodes.event("delay_refused", f"reported delay {msg.observed_delay_ms} ms, "
                                f"output lag {msg.output_lag_ms} ms; "
                                "keeping the previous delay (a delay must be finite and >= 0)",
                                subject=who)
        expected, previous = msg.expected_model_identity, self._expected_identity[robot]
        if expected == previous:
            return
        self._expected_identity[robot] = expected
        mismatch = bool(expected) and expected != self.served.identity
        shown = peer_text(expected)   # the robot's string: escaped and bounded before it is logged
        text = (f"expects remote model {shown} but this node serves {self.served.identity} "
                f"({self.served.source}); the robot will refuse these features. Serve the "
                "checkpoint its local model was fused with." if mismatch else
                f"accepts this node's model {shown}" if expected else
                "reports no expected remote model")
        if previous is None and mismatch:   # the robot's first report: one line
            self.get_logger().warning(f"{who} {text}")
        elif previous is None:
            self.get_logger().info(f"{who} {text}")
        else:
            self.episodes.event("identity_changed", f"now {text}", subject=who)

    def _publish_diagnostics(self) -> None:
        self.episodes.flush()
        mismatch = {r: peer_text(e) for r, e in self._expected_identity.items()
                    if e and e != self.served.identity}
        counters = self.contexts.counters()
        for robot, values in counters.items():
            values.update(self.decoder.counters(robot))
        statuses = self.diagnostics.statuses(counters, time.monotonic(), mismatch)
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        for status in statuses:
            array.status.append(DiagnosticStatus(
                level=bytes([status.level]), name=status.name, message=status.message,
                hardware_id=self.get_fully_qualified_name(),
                values=[KeyValue(key=k, value=v) for k, v in status.values]))
        self._diagnostics_publisher.publish(array)

    # --- inference (worker thread) ---------------------------------------------------------

    def _serve_forever(self) -> None:
        while not self._stop.is_set():
            if not self.contexts.wait_for_ready(timeout_s=0.2):
                continue
            snapshots = self.contexts.take_ready(time.monotonic_ns())
            if not snapshots:
                continue   # every pending frame was too old by now
            try:
                answers = self.server.serve(snapshots, segment=bool(self._segmentation_publishers))
            except Exception as exc:  # noqa: BLE001 -- a failed batch (e.g. CUDA OOM) must not end serving
                self.episodes.event("forward_failed", f"batched forward of {len(snapshots)} "
                                    f"robot(s) failed, frames dropped: {type(exc).__name__}: {exc}")
                continue
            if answers:
                self.diagnostics.record_batch(answers[0].batch_size, answers[0].forward_ms)
            for answer in answers:
                self._publish_answer(answer)
            if self._segmentation_publishers:
                # After the features went out, so the baseline never delays Dedelayed's answer.
                for answer in answers:
                    self._publish_remote_segmentation(answer)

    def _publish_remote_segmentation(self, answer: ServedFeatures) -> None:
        ids, snapshot = answer.class_ids, answer.snapshot
        msg = Image(height=int(ids.shape[0]), width=int(ids.shape[1]), encoding="mono8",
                    is_bigendian=0, step=int(ids.shape[1]), data=ids.tobytes())
        msg.header.stamp = ns_to_stamp(snapshot.newest.stamp)
        msg.header.frame_id = snapshot.newest.frame_id
        self._segmentation_publishers[snapshot.robot].publish(msg)

    def _publish_answer(self, answer: ServedFeatures) -> None:
        if answer.encoded is None:
            self.diagnostics.record_answer(answer.robot, answer.compute_ms, answer.error)
            self.episodes.event("features_not_sent", answer.error,
                                subject=f"robot {robot_label(answer.robot)}")
            return
        newest = answer.snapshot.newest
        msg = fill_feature_map(FeatureMap(), answer.encoded)
        msg.header.stamp = ns_to_stamp(newest.stamp)
        msg.header.frame_id = newest.frame_id
        msg.delay_ms = float(answer.snapshot.delay_ms)
        msg.model_identity = self.served.identity
        msg.context_frames = self.served.num_frames
        msg.context_stamps = [ns_to_stamp(ns) for ns in answer.snapshot.stamps]
        msg.remote_receive_time = ns_to_stamp(newest.receive_time_ns)
        msg.remote_compute_ms = float(answer.compute_ms)
        msg.robot = self._robot_names[answer.robot]
        if self.signer is not None:
            msg.signature = array.array("B", self.signer.sign(
                robot=msg.robot, stamp_ns=newest.stamp, delay_ms=msg.delay_ms,
                model_identity=msg.model_identity, encoded=answer.encoded))
        msg.remote_publish_time = self.get_clock().now().to_msg()
        self._feature_publishers[answer.robot].publish(msg)
        self.diagnostics.record_answer(answer.robot, answer.compute_ms)



def _free_accelerator_memory() -> None:
    """Return the freed model's CUDA memory to the device (no-op on CPU)."""
    import torch
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def main(args=None) -> int:
    # Decoding has its own threads; one executor thread per robot (+ diagnostics) hands over.
    return run_nodes(lambda: [RemoteNode()], name=NODE_NAME, args=args,
                     num_threads=lambda nodes: min(len(nodes[0].settings.robot_namespaces) + 1,
                                                   max(2, os.cpu_count() or 2)))


if __name__ == "__main__":
    sys.exit(main())
