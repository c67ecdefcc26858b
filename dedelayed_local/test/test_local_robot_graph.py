"""The `robot` executable over a real rclpy graph: every frame segmented, fused when valid
features arrive, local-only (with the reason) when they are wrong or stale, never stopped by a
corrupt frame; the uplink keeps the camera stamp; the delay report measures tau."""

import subprocess
import sys
import time

import numpy as np
import pytest

from dedelayed_link import CAMERA_TOPIC
from dedelayed_local.robot_model import RobotModel

pytestmark = [pytest.mark.ros, pytest.mark.slow]

CAMERA_HW = (96, 176)
FRAME_PERIOD_NS = 33_333_333


class RobotHarness:
    """Camera + cloud stand-in on one side of the graph, the robot process on the other."""

    def __init__(self, context):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import CompressedImage, Image

        from dedelayed_msgs.msg import DelayReport, FeatureMap

        self.node = rclpy.create_node("robot_harness", context=context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.camera = self.node.create_publisher(Image, "/camera/image_raw", qos_profile_sensor_data)
        self.features = self.node.create_publisher(
            FeatureMap, "dedelayed/remote_features",
            QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
        self.segmentations, self.local_only, self.uplink, self.reports, self.diagnostics = (
            {}, {}, [], [], [])
        stamp = lambda m: m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec  # noqa: E731
        self.node.create_subscription(Image, "dedelayed/segmentation",
                                      lambda m: self.segmentations.__setitem__(stamp(m), m), 50)
        self.node.create_subscription(Image, "dedelayed/segmentation/local_only",
                                      lambda m: self.local_only.__setitem__(stamp(m), m), 50)
        self.node.create_subscription(CompressedImage, "dedelayed/uplink/compressed",
                                      self.uplink.append, qos_profile_sensor_data)
        self.node.create_subscription(DelayReport, "dedelayed/delay_report", self.reports.append, 10)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 10)
        self.Image, self.FeatureMap = Image, FeatureMap

    def spin_until(self, condition, timeout_s):
        deadline = time.monotonic() + timeout_s
        while not condition() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return condition()

    def publish_frame(self, stamp_ns, corrupt=False):
        rgb = np.random.default_rng(stamp_ns % 1000).integers(0, 255, (*CAMERA_HW, 3), np.uint8)
        msg = self.Image(height=CAMERA_HW[0], width=CAMERA_HW[1], encoding="rgb8",
                         step=CAMERA_HW[1] * 3, data=rgb.tobytes()[: -7 if corrupt else None])
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        msg.header.frame_id = "camera"
        self.camera.publish(msg)

    def send_frame(self, stamp_ns, corrupt=False):
        """Publish one frame and wait (up to 5 s) for both of the robot's answers to it."""
        self.publish_frame(stamp_ns, corrupt)
        self.spin_until(lambda: corrupt or (stamp_ns in self.segmentations
                                            and stamp_ns in self.local_only), 5.0)

    def send_features(self, stamp_ns, identity, shape):
        from dedelayed_models.transport import encode_features
        from dedelayed_models.transport.feature_msg import fill_feature_map

        # Like a real cloud, echo only a stamp that was uplinked (the robot refuses others).
        assert self.spin_until(lambda: self.was_uplinked(stamp_ns), 5), \
            "the frame to echo was never uplinked"
        z = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 5
        msg = fill_feature_map(self.FeatureMap(), encode_features(z, "float16"))
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        msg.model_identity, msg.delay_ms, msg.robot = identity, 66.0, "/"   # the robot's namespace
        counts = self.feature_counts()
        self.features.publish(msg)
        # The robot has taken it (accepted or refused) before the next frame is sent.
        assert self.spin_until(lambda: self.feature_counts() != counts, 10), "FeatureMap lost"

    def was_uplinked(self, stamp_ns):
        return any(m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec == stamp_ns
                   for m in self.uplink[-50:])

    def feature_counts(self):
        if not self.diagnostics:
            return None
        status = self.last_status()
        return status["features_accepted"], status["features_rejected"]

    def last_status(self):
        return {kv.key: kv.value for kv in self.diagnostics[-1].status[0].values}


def _ids(msg):
    return np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.width)


def test_robot_segments_fuses_and_falls_back(ros_context, wait_until_answered, tmp_path):
    params = tmp_path / "robot.yaml"
    params.write_text(
        "/**/dedelayed_segmenter:\n  ros__parameters:\n    checkpoint: random\n    preset: tiny\n    seed: 5\n"
        "    backend: onnxruntime\n    publish_local_only: true\n    diagnostics_period_s: 0.2\n"
        f"    cache_dir: {tmp_path}\n"
        "/**/dedelayed_fusion:\n  ros__parameters:\n    max_feature_age_ms: 200.0\n"
        "    delay_report_period_s: 0.1\n"
        "/**/dedelayed_uplink:\n  ros__parameters:\n    remote_height: 128\n    remote_width: 256\n")
    robot = subprocess.Popen([sys.executable, "-m", "dedelayed_local.robot_main", "--ros-args",
                              "--params-file", str(params), "-r", f"image:={CAMERA_TOPIC}"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    harness = RobotHarness(ros_context)
    try:
        assert harness.spin_until(lambda: harness.camera.get_subscription_count() >= 2, 60), \
            "robot never subscribed to the camera"
        assert harness.spin_until(lambda: harness.features.get_subscription_count() >= 1, 10)
        model = RobotModel.random("tiny", seed=5)
        # Stamps from a minute ago: echoed stamps must not be ahead of the robot clock.
        t0 = (time.time_ns() // 1_000_000_000 - 60) * 1_000_000_000

        probe_ns = iter(range(t0 - 100 * FRAME_PERIOD_NS, t0, FRAME_PERIOD_NS))  # before t0

        def publish_probe():
            stamp_ns = next(probe_ns)
            harness.publish_frame(stamp_ns)
            return stamp_ns

        assert wait_until_answered(publish_probe, lambda ns: ns in harness.segmentations,
                                   harness.spin_until), "the robot never answered a probe frame"

        # 1. no cloud yet: local-only, every frame answered with its own header
        for i in range(5):
            harness.send_frame(t0 + i * FRAME_PERIOD_NS)
        harness.send_frame(t0 + 5 * FRAME_PERIOD_NS, corrupt=True)  # must not stop the robot
        harness.send_frame(t0 + 6 * FRAME_PERIOD_NS)
        answered = [t0 + i * FRAME_PERIOD_NS in harness.segmentations for i in (0, 1, 2, 3, 4, 6)]
        assert all(answered), answered
        first = harness.segmentations[t0]
        assert (first.height, first.width, first.encoding, first.header.frame_id) == \
            (*CAMERA_HW, "mono8", "camera")
        assert _ids(first).max() <= 18
        assert np.array_equal(_ids(first), _ids(harness.local_only[t0]))

        # 2. valid features echoing frame 6's stamp: the next frames are fused (differ from
        #    their own local-only result) and tau = frame stamp - echoed stamp
        harness.send_features(t0 + 6 * FRAME_PERIOD_NS, model.expected_remote_identity,
                              model.feature_shape)
        fused_stamps = [t0 + i * FRAME_PERIOD_NS for i in (8, 9)]
        for stamp in fused_stamps:
            harness.send_frame(stamp)
        for stamp in fused_stamps:
            assert not np.array_equal(_ids(harness.segmentations[stamp]),
                                      _ids(harness.local_only[stamp]))
        assert harness.spin_until(lambda: any(r.window_size >= 2 for r in harness.reports), 5)
        report = [r for r in harness.reports if r.window_size >= 2][-1]
        assert report.observed_delay_ms == pytest.approx(83.3, abs=0.5)  # median of 66.7, 100
        assert report.expected_model_identity == model.expected_remote_identity
        # output_lag_ms -1 (default): the measured camera period, the time an output is in use
        assert report.output_lag_ms == pytest.approx(FRAME_PERIOD_NS / 1e6, rel=0.01)
        assert harness.spin_until(lambda: harness.diagnostics and
                                  harness.last_status()["mode"] == "fused", 3)

        # 3. features from another model: refused; once the good ones are stale, local-only
        harness.send_features(t0 + 9 * FRAME_PERIOD_NS, "dedelayed-remote-tiny-v1-0ther",
                              model.feature_shape)
        late = t0 + 20 * FRAME_PERIOD_NS
        harness.send_frame(late)
        assert np.array_equal(_ids(harness.segmentations[late]), _ids(harness.local_only[late]))
        assert harness.spin_until(lambda: harness.last_status()["reason"] == "identity_mismatch", 3)
        assert harness.last_status()["dropped_bad_frames"] == "1"

        # 4. the uplink kept the camera stamps and resized to the remote resolution
        # (newest only: a frame that waits while the previous one is encoded may be replaced)
        sent = {t0 + i * FRAME_PERIOD_NS for i in range(20)} | {late}
        assert harness.spin_until(lambda: late in {m.header.stamp.sec * 1_000_000_000 +
                                                   m.header.stamp.nanosec for m in harness.uplink}, 5)
        from dedelayed_models.data.uplink import decode_uplink
        assert decode_uplink(bytes(harness.uplink[0].data)).shape == (128, 256, 3)
        uplink_stamps = {m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec
                         for m in harness.uplink}
        assert late in uplink_stamps and len(uplink_stamps & sent) >= 3, uplink_stamps
    finally:
        robot.terminate()
        output = robot.communicate(timeout=20)[0]
    assert "Traceback" not in output, output
    assert output.count("refusing remote features") == 1, output
