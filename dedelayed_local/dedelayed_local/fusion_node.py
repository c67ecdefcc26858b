"""Fusion node: receives FeatureMaps from the cloud and offers them to the robot's link state
(robot_link.py), which validates and stores them for the segmenter; reports the delay the robot
observes back to the cloud.

Runs in the same process as the segmenter node (see robot_main.py): the decoded feature tensor
is handed over in memory through the RobotLink both nodes share (LinkSlot) and never crosses a
process boundary. The parameters in LINK_PARAMETERS are the link's rules: the segmenter builds
the RobotLink from them (``link_settings``) and the local model when it is configured.

Topics (fixed relative names, renamed by remapping): in ``dedelayed/remote_features``
(FeatureMap), out ``dedelayed/delay_report`` (DelayReport); with the uplink in another process
(robot --without-uplink) also in ``dedelayed/uplink/compressed``, whose stamps the cloud may
echo. A managed node: activate subscribes and reports; while it is not active the segmenter
runs local-only and its diagnostics say ``fusion_inactive``.
"""

from sensor_msgs.msg import CompressedImage

from dedelayed_link import DELAY_REPORT, FEATURES, UPLINK
from dedelayed_link.managed import ManagedNode
from dedelayed_link.params import AUTOSTART_PARAMETER, Parameter, declare_parameters
from dedelayed_link.stamps import stamp_to_ns
from dedelayed_local import qos
from dedelayed_local.robot_link import LinkSlot
from dedelayed_models.episode_log import EpisodeLog
from dedelayed_models.transport.feature_msg import encoded_from_feature_map
from dedelayed_msgs.msg import DelayReport, FeatureMap

UPLINK_WATCH_DEPTH = 100  # uplinked frames queued for the stamp ledger [frames], ~3 s at 30 fps

PARAMETERS = (
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
              "[ms]: the robot answers frame t after t, and streaming consumers use that answer until "
              "the next one. -1 = one camera frame period, measured from the camera stamps; 0 = "
              "predict for the frame's own instant"),
    Parameter("feature_verify_key", "",
              "cloud certificate or Ed25519 public key (PEM) that every FeatureMap must be signed "
              "with; empty = signatures are not checked (diagnostics say so)"),
    Parameter("echo_window_s", 5.0,
              "a FeatureMap must echo the stamp of a frame this robot uplinked, at most this much "
              "camera time before the newest one [s]"),
    AUTOSTART_PARAMETER,
)

# The fusion parameters that are the link's rules: RobotLink.for_model takes them by name.
LINK_PARAMETERS = ("expected_remote_identity", "max_feature_age_ms", "fusion_enabled",
                   "delay_window", "feature_verify_key", "echo_window_s")


class FusionNode(ManagedNode):
    """The robot's end of the FeatureMap link; a managed node (see the module docstring)."""

    def __init__(self, slot: LinkSlot, *, watch_uplink: bool = False, **kwargs):
        """slot: where the process keeps its RobotLink (the segmenter fills it). watch_uplink:
        learn uplinked stamps from the uplink topic (uplink in another process); otherwise the
        in-process uplink records them in the link's ledger."""
        super().__init__("dedelayed_fusion", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.slot = slot
        self.watch_uplink = watch_uplink
        # Once per episode and reason; flushed with every delay report.
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)

    def link_settings(self) -> dict:
        """This node's parameters that set the link's rules, for RobotLink.for_model."""
        return {name: self.params[name] for name in LINK_PARAMETERS}

    def configure(self) -> None:
        self._report_pub = self.output(DelayReport, DELAY_REPORT.name, qos.REPORT)

    def activate(self) -> None:
        """Receive FeatureMaps into the process's link and report its delay to the cloud."""
        link = self.slot.require("the fusion node")
        if link.store.verifier is None:
            self.get_logger().warning(
                "feature_verify_key is empty: FeatureMaps are NOT authenticated, so anyone on "
                "this DDS graph can feed the robot features; set it to the cloud certificate")
        if self.watch_uplink:
            # Created before the FeatureMap subscription: when a busy executor finds both
            # ready, the frame's stamp is recorded before a map echoing it is checked. A deep
            # queue keeps a stall of a few seconds from losing stamps.
            self.while_active(self.create_subscription(
                CompressedImage, UPLINK.name, self._on_uplinked,
                qos.sensor_with_depth(UPLINK_WATCH_DEPTH)))
        features = self.while_active(self.create_subscription(
            FeatureMap, FEATURES.name, self._on_features, qos.FEATURES))
        self.while_active(self.create_timer(self.params["delay_report_period_s"],
                                            self._report_delay))
        self.slot.set_receiving(True)
        self.get_logger().info(f"{link.describe()} on {features.topic_name}; reporting the delay "
                               f"on {self._report_pub.topic_name}")

    def deactivate(self) -> None:
        self.slot.set_receiving(False)

    @property
    def link(self):
        """The process's RobotLink now (None while the segmenter is not configured)."""
        return self.slot.link

    def _on_uplinked(self, msg: CompressedImage) -> None:
        link = self.link
        if link is not None:
            link.ledger.record(stamp_to_ns(msg.header.stamp))

    def _on_features(self, msg: FeatureMap) -> None:
        link = self.link
        if link is None:
            return
        received_ns = self.get_clock().now().nanoseconds
        stamp_ns = stamp_to_ns(msg.header.stamp)
        rejection = link.store.offer(encoded_from_feature_map(msg),
                                     model_identity=msg.model_identity, stamp_ns=stamp_ns,
                                     delay_ms=msg.delay_ms, received_ns=received_ns,
                                     remote_compute_ms=msg.remote_compute_ms,
                                     signature=memoryview(msg.signature).cast("B"),
                                     robot=msg.robot)
        if rejection is not None:
            # Once per episode and reason: valid maps in between (an impostor beside the real
            # cloud) do not end it, so a flood is one warning and one summary.
            self.episodes.event(rejection.reason, f"refusing remote features: {rejection}")

    def output_lag_ms(self, link) -> float:
        """The output lag the cloud is asked to add [ms] (see the output_lag_ms parameter)."""
        if self.params["output_lag_ms"] >= 0:
            return float(self.params["output_lag_ms"])
        return link.camera_period_ms()

    def _report_delay(self) -> None:
        self.episodes.flush()
        link = self.link
        if link is None:
            return
        median_ms, jitter_ms, samples = link.delay_estimate()
        report = DelayReport()
        report.header.stamp = self.get_clock().now().to_msg()
        report.header.frame_id = self.params["camera_frame_id"]
        report.observed_delay_ms = median_ms
        report.delay_jitter_ms = jitter_ms
        report.window_size = samples
        report.expected_model_identity = link.store.expected_identity
        report.output_lag_ms = self.output_lag_ms(link)
        self._report_pub.publish(report)
