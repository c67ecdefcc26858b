"""The impostor probe: a process on the robot's DDS graph publishes plausible FeatureMaps
(identity and shape copied from the public topics; zeros, noise, 1e30, float16 max, a genuine
map with its stamp moved 45 ms ahead, a genuine map replayed) at 10 and 100 Hz beside the
signing cloud. Not one is fused: every fused frame is exactly what the genuine maps give, and
/diagnostics counts the refusals by reason."""

import array
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from test_local_robot_graph import CAMERA_HW, RobotHarness, _ids

from dedelayed_link import CAMERA_TOPIC
from dedelayed_local.robot_model import RobotModel

pytestmark = [pytest.mark.ros, pytest.mark.slow]

IMPOSTOR = os.path.join(os.path.dirname(__file__), "feature_impostor.py")
FRAME_PERIOD_NS = 100_000_000  # 10 fps
RGB = np.random.default_rng(11).integers(0, 255, (*CAMERA_HW, 3), np.uint8)


class SigningCloud(RobotHarness):
    """The harness with one constant camera image and a cloud that signs genuine maps."""

    def __init__(self, context, signer, model):
        super().__init__(context)
        self.signer, self.model = signer, model
        z = np.random.default_rng(0).standard_normal(model.feature_shape).astype(np.float32) * 5
        from dedelayed_models.transport import encode_features
        self.encoded = encode_features(z, "float16")

    def publish_frame(self, stamp_ns, corrupt=False):
        msg = self.Image(height=CAMERA_HW[0], width=CAMERA_HW[1], encoding="rgb8",
                         step=CAMERA_HW[1] * 3, data=RGB.tobytes())
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        msg.header.frame_id = "camera"
        self.camera.publish(msg)

    def answer(self, stamp_ns, robot="/"):
        """Publish the genuine, signed FeatureMap echoing an uplinked frame's stamp, computed
        for ``robot`` (this robot runs in the root namespace, "/")."""
        from dedelayed_models.transport.feature_msg import fill_feature_map

        assert self.spin_until(lambda: self.was_uplinked(stamp_ns), 5), "frame never uplinked"
        msg = fill_feature_map(self.FeatureMap(), self.encoded)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        msg.header.frame_id = "camera"
        msg.model_identity, msg.delay_ms, msg.robot = self.model.expected_remote_identity, 100.0, robot
        msg.signature = array.array("B", self.signer.sign(
            robot=robot, stamp_ns=stamp_ns, delay_ms=msg.delay_ms, model_identity=msg.model_identity,
            encoded=self.encoded))
        self.features.publish(msg)


def test_no_impostor_feature_map_is_fused(ros_context, wait_until_answered, tmp_path):
    from dedelayed_bringup.secure_link.link_certificates import make_certificates
    from dedelayed_models.transport.feature_signing import FeatureSigner, load_signing_key

    make_certificates(str(tmp_path / "certs"), cloud_hosts=["localhost"], robots=[])
    signer = FeatureSigner(load_signing_key(str(tmp_path / "certs" / "cloud.key")))
    params = tmp_path / "robot.yaml"
    params.write_text(
        "/**/dedelayed_segmenter:\n  ros__parameters:\n    checkpoint: random\n    preset: tiny\n    seed: 5\n"
        "    backend: onnxruntime\n    publish_local_only: true\n    diagnostics_period_s: 0.2\n"
        f"    cache_dir: {tmp_path}\n"
        "/**/dedelayed_fusion:\n  ros__parameters:\n    max_feature_age_ms: 3000.0\n"
        f"    echo_window_s: 1.0\n    feature_verify_key: {tmp_path / 'certs' / 'cloud.pem'}\n"
        "/**/dedelayed_uplink:\n  ros__parameters:\n    remote_height: 128\n    remote_width: 256\n")
    robot = subprocess.Popen([sys.executable, "-m", "dedelayed_local.robot_main", "--ros-args",
                              "--params-file", str(params), "-r", f"image:={CAMERA_TOPIC}"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cloud = SigningCloud(ros_context, signer, RobotModel.random("tiny", seed=5))
    impostor = None
    sent = {}
    try:
        assert cloud.spin_until(lambda: cloud.camera.get_subscription_count() >= 2, 60), \
            "robot never subscribed to the camera"
        t0 = (time.time_ns() // 1_000_000_000 - 60) * 1_000_000_000
        probe_ns = iter(range(t0 - 100 * FRAME_PERIOD_NS, t0, FRAME_PERIOD_NS))

        def publish_probe():
            stamp_ns = next(probe_ns)
            cloud.publish_frame(stamp_ns)
            return stamp_ns

        assert wait_until_answered(publish_probe, lambda ns: ns in cloud.segmentations,
                                   cloud.spin_until), "the robot never answered a probe frame"

        stamps = iter(range(t0, t0 + 1000 * FRAME_PERIOD_NS, FRAME_PERIOD_NS))

        def drive(frames):
            """Frames at about 10 fps, each answered by the genuine cloud; returns their stamps."""
            played = []
            for _ in range(frames):
                started = time.monotonic()
                stamp_ns = next(stamps)
                cloud.send_frame(stamp_ns)
                cloud.answer(stamp_ns)
                played.append(stamp_ns)
                cloud.spin_until(lambda: False, max(0.0, 0.1 - (time.monotonic() - started)))
            return played

        baseline = drive(6)[2:]  # the first frames fuse once the first genuine map is in
        fused_ids = _ids(cloud.segmentations[baseline[0]])
        assert not np.array_equal(fused_ids, _ids(cloud.local_only[baseline[0]])), \
            "genuine features change nothing: the probe could not tell fused from local-only"
        for stamp_ns in baseline:
            assert np.array_equal(_ids(cloud.segmentations[stamp_ns]), fused_ids)

        # Signed by the real cloud key, but computed for another robot (echoing this robot's
        # own uplinked stamp), and a genuine map sent again: both refused, fusion goes on.
        stamp_ns = next(stamps)
        cloud.send_frame(stamp_ns)
        cloud.answer(stamp_ns, robot="/robot9")
        cloud.spin_until(lambda: False, 0.5)   # keep-last-1: the next map must not replace it
        cloud.answer(baseline[-1])                      # a replay of an accepted map
        assert cloud.spin_until(lambda: all(
            int(cloud.last_status().get(f"features_rejected_{r}", 0)) > 0
            for r in ("for_another_robot", "replayed")), 5), cloud.last_status()
        assert np.array_equal(_ids(cloud.segmentations[stamp_ns]), fused_ids)

        for rate_hz in (10, 100):
            impostor = subprocess.Popen([sys.executable, IMPOSTOR, "--rate-hz", str(rate_hz),
                                         "--replay-after-s", "1.2"],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            attacked = drive(45)
            impostor.send_signal(signal.SIGINT)
            output = impostor.communicate(timeout=20)[0]
            impostor = None
            line = [x for x in output.splitlines() if x.startswith("SENT ")]
            assert line, f"impostor did not report:\n{output}"
            sent[rate_hz] = json.loads(line[-1][5:])
            assert min(sent[rate_hz].values()) > 0, (rate_hz, sent[rate_hz])
            answered = [s for s in attacked if s in cloud.segmentations]
            assert len(answered) == len(attacked)
            wrong = [s for s in attacked if not np.array_equal(_ids(cloud.segmentations[s]),
                                                               fused_ids)]
            assert not wrong, f"{len(wrong)} of {len(attacked)} frames at {rate_hz} Hz differ " \
                              "from the genuine fused result"

        assert cloud.spin_until(lambda: int(cloud.last_status()["features_rejected"]) > 0, 3)
        cloud.spin_until(lambda: False, 0.5)  # one more diagnostics period
        status = cloud.last_status()
        assert status["mode"] == "fused"
        assert status["feature_signatures"].startswith("verified")
        for reason in ("unsigned", "bad_signature", "stamp_not_uplinked", "for_another_robot",
                       "replayed"):
            assert int(status[f"features_rejected_{reason}"]) > 0, (reason, status, sent)
        forged = sum(sum(counts.values()) for counts in sent.values())
        print(f"impostor maps sent {sent}; robot refused {status['features_rejected']} "
              f"(unsigned {status['features_rejected_unsigned']}, bad signature "
              f"{status['features_rejected_bad_signature']}, stamp not uplinked "
              f"{status['features_rejected_stamp_not_uplinked']}) of {forged}")
    finally:
        if impostor is not None:
            impostor.kill()
            impostor.communicate()
        robot.terminate()
        output = robot.communicate(timeout=20)[0]
    assert "Traceback" not in output, output
