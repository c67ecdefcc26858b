"""Fusion node: receives FeatureMaps from the cloud, validates and stores them for the
segmenter, and reports the delay the robot observes back to the cloud.

Runs in the same process as the segmenter node (see robot_main.py): the decoded feature tensor
is handed over in memory through a FeatureStore and never crosses a process boundary.
"""

import threading
from typing import Optional

from rclpy.node import Node
from rclpy.time import Time

from sensor_msgs.msg import CompressedImage

from dedelayed_link import DELAY_REPORT, FEATURES, UPLINK

from dedelayed_local import qos
from dedelayed_local.delay_tracking import DelayEstimator
from dedelayed_local.echo_ledger import UplinkLedger
from dedelayed_local.feature_store import FeatureStore, FusionDecision
from dedelayed_link.params import Parameter, declare_parameters
from dedelayed_models.transport.feature_msg import encoded_from_feature_map
from dedelayed_models.episode_log import EpisodeLog
from dedelayed_models.transport.feature_signing import optional_verifier
from dedelayed_msgs.msg import DelayReport, FeatureMap

UPLINK_WATCH_DEPTH = 100  # uplinked frames queued for the stamp ledger [frames], ~3 s at 30 fps

PARAMETERS = (
    Parameter("features_topic", FEATURES.name, "FeatureMap input from the cloud"),
    Parameter("delay_report_topic", DELAY_REPORT.name, "DelayReport output to the cloud"),
    Parameter("expected_remote_identity", "",
              "remote model identity to accept; empty = the one stored in the local checkpoint"),
    Parameter("max_feature_age_ms", 0.0,
              "features older than this (tau = frame stamp - echoed stamp) are not fused [ms]; "
              "0 = the largest delay the checkpoint was trained for"),
    Parameter("fusion_enabled", True, "false = always segment local-only"),
    Parameter("delay_report_period_s", 0.2, "how often the observed delay is reported to the cloud [s]"),
    Parameter("delay_window", 30, "fused frames behind the reported delay estimate [frames]"),
    Parameter("camera_frame_id", "", "frame_id written into DelayReport headers"),
    Parameter("output_lag_ms", -1.0,
              "how long after its frame an output is in use, added to the delay the cloud predicts for "
              "[ms]; -1 = one camera frame period, measured from the camera stamps; 0 = predict for the "
              "frame's own instant"),
    Parameter("feature_verify_key", "",
              "cloud certificate or Ed25519 public key (PEM) that every FeatureMap must be signed "
              "with; empty = signatures are not checked (diagnostics say so)"),
    Parameter("echo_window_s", 5.0,
              "a FeatureMap must echo the stamp of a frame this robot uplinked, at most this much "
              "camera time before the newest one [s]"),
    Parameter("uplink_topic", UPLINK.name,
              "uplinked frames whose stamps the cloud may echo; watched only when the uplink node "
              "runs in another process (robot --without-uplink)"),
)


class FusionNode(Node):
    def __init__(self, robot_model, *, watch_uplink: bool = False, **kwargs):
        """watch_uplink: learn uplinked stamps from the uplink topic (uplink in another
        process); otherwise the in-process uplink calls record_uplinked."""
        super().__init__("dedelayed_fusion", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        expected = self.params["expected_remote_identity"] or robot_model.expected_remote_identity
        max_age_ms = self.params["max_feature_age_ms"] or robot_model.trained_delay_ms[1]
        self.ledger = UplinkLedger(self.params["echo_window_s"])
        verifier = optional_verifier(self.params["feature_verify_key"])
        self.store = FeatureStore(expected_identity=expected,
                                  expected_shape=robot_model.feature_shape,
                                  max_feature_age_ms=max_age_ms,
                                  enabled=self.params["fusion_enabled"],
                                  verifier=verifier, ledger=self.ledger,
                                  z_bounds=robot_model.z_bounds)
        if verifier is None:
            self.get_logger().warning(
                "feature_verify_key is empty: FeatureMaps are NOT authenticated, so anyone on "
                "this DDS graph can feed the robot features; set it to the cloud certificate")
        self.delay = DelayEstimator(self.params["delay_window"])
        self._delay_lock = threading.Lock()
        self._camera_period_ms = 0.0   # measured by the segmenter; 0 until known
        # Once per episode and reason; the segmenter's diagnostics timer flushes it.
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)
        if watch_uplink:
            # Created before the FeatureMap subscription: when a busy executor finds both
            # ready, the frame's stamp is recorded before a map echoing it is checked. A deep
            # queue keeps a stall of a few seconds from losing stamps.
            self.create_subscription(
                CompressedImage, self.params["uplink_topic"],
                lambda msg: self.record_uplinked(Time.from_msg(msg.header.stamp).nanoseconds),
                qos.sensor_with_depth(UPLINK_WATCH_DEPTH))
        self.create_subscription(FeatureMap, self.params["features_topic"], self._on_features,
                                 qos.FEATURES)
        self._report_pub = self.create_publisher(DelayReport, self.params["delay_report_topic"],
                                                 qos.REPORT)
        self.create_timer(self.params["delay_report_period_s"], self._report_delay)
        self.get_logger().info(f"accepting remote features from '{expected}', shape "
                               f"{'x'.join(map(str, robot_model.feature_shape))}, up to "
                               f"{max_age_ms:.0f} ms old (trained for "
                               f"{robot_model.trained_delay_ms[0]:.0f}-{robot_model.trained_delay_ms[1]:.0f} ms)")

    def record_uplinked(self, stamp_ns: int) -> None:
        """The uplink (in this process) is sending the frame stamped ``stamp_ns``."""
        self.ledger.record(stamp_ns)

    def _on_features(self, msg: FeatureMap) -> None:
        received_ns = self.get_clock().now().nanoseconds
        stamp_ns = Time.from_msg(msg.header.stamp).nanoseconds
        rejection = self.store.offer(encoded_from_feature_map(msg),
                                     model_identity=msg.model_identity, stamp_ns=stamp_ns,
                                     delay_ms=msg.delay_ms, received_ns=received_ns,
                                     remote_compute_ms=msg.remote_compute_ms,
                                     signature=memoryview(msg.signature).cast("B"))
        if rejection is not None:
            # Once per episode and reason: valid maps in between (an impostor beside the real
            # cloud) do not end it, so a flood is one warning and one summary.
            self.episodes.event(rejection.reason, f"refusing remote features: {rejection}")

    def on_frame_decision(self, decision: FusionDecision, camera_period_ms: Optional[float] = None) -> None:
        """Called by the segmenter for every frame: fused frames feed the delay estimate; the
        camera period (None until known) is the measured output lag."""
        with self._delay_lock:
            if decision.tau_ms is not None and decision.features is not None:
                self.delay.add(decision.tau_ms)
            if camera_period_ms is not None:
                self._camera_period_ms = float(camera_period_ms)

    def output_lag_ms(self) -> float:
        """The output lag the cloud is asked to add [ms] (see the output_lag_ms parameter)."""
        if self.params["output_lag_ms"] >= 0:
            return float(self.params["output_lag_ms"])
        with self._delay_lock:
            return self._camera_period_ms

    def _report_delay(self) -> None:
        with self._delay_lock:
            median_ms, jitter_ms, samples = self.delay.estimate()
        report = DelayReport()
        report.header.stamp = self.get_clock().now().to_msg()
        report.header.frame_id = self.params["camera_frame_id"]
        report.observed_delay_ms = median_ms
        report.delay_jitter_ms = jitter_ms
        report.window_size = samples
        report.expected_model_identity = self.store.expected_identity
        report.output_lag_ms = self.output_lag_ms()
        self._report_pub.publish(report)
