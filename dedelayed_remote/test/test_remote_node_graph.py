"""The remote node as a real process on a real Fast DDS graph, serving two robot namespaces.

The test plays both robots: it uplinks WebP frames with known stamps, reports a delay, sends a
corrupt frame, and checks every FeatureMap that comes back against the contract in
FeatureMap.msg (echoed stamp and frame_id, delay used, identity, shape, finite payload).
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from dedelayed_models.data.uplink import encode_uplink
from dedelayed_models.modeling import build_model, get_config, stage1_grid
from dedelayed_models.modeling.checkpoint import identities
from dedelayed_models.transport import decode_features
from dedelayed_models.transport.feature_msg import encoded_from_feature_map

pytestmark = pytest.mark.ros

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARAMS_FILE = os.path.join(PACKAGE_DIR, "config", "remote.yaml")
ROBOTS = ("/robot1", "/robot2")
SEED = 5
DEFAULT_DELAY_MS = 80.0
REPORTED_DELAY_MS = 123.5      # float32-exact, so it must come back bit for bit
RATE_CAP_HZ = 5.0  # the cloud's fair share per robot in this test [answers/s]
WRONG_IDENTITY = "dedelayed-remote-tiny-v2-000000000000"
# A robot whose DelayReport tries to write a line of its own into the cloud's log.
FORGING_IDENTITY = ("evil\n[WARN] [1796000000.0] [link_bridge]: refused a robot (robot9 from "
                    "tls/203.0.113.9:1)")


def expected_remote_identity():
    torch.manual_seed(SEED)   # what the robot does for preset tiny, seed 5
    config = get_config("tiny")
    return identities(build_model(config).eval(), config)["remote"]


class FakeRobots:
    """The robot ends of the graph, in this process: uplink + delay report out, features in."""

    def __init__(self, context):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import CompressedImage

        from dedelayed_msgs.msg import DelayReport, FeatureMap

        self.node = rclpy.create_node("fake_robots", context=context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.CompressedImage, self.DelayReport = CompressedImage, DelayReport
        self.features = {r: [] for r in ROBOTS}
        self.diagnostics = []
        self.uplink = {r: self.node.create_publisher(CompressedImage, f"{r}/dedelayed/uplink/compressed",
                                                     qos_profile_sensor_data) for r in ROBOTS}
        self.reports = {r: self.node.create_publisher(
            DelayReport, f"{r}/dedelayed/delay_report",
            QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)) for r in ROBOTS}
        like_the_robot = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self.subs = [self.node.create_subscription(FeatureMap, f"{r}/dedelayed/remote_features",
                                                   self.features[r].append, like_the_robot)
                     for r in ROBOTS]
        self.subs.append(self.node.create_subscription(DiagnosticArray, "/diagnostics",
                                                       self.diagnostics.append, 10))

    def spin_until(self, predicate, timeout_s):
        deadline = time.monotonic() + timeout_s
        while not predicate() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.05)
        return predicate()

    def connected(self):
        return (all(p.get_subscription_count() > 0 for p in self.uplink.values())
                and all(p.get_subscription_count() > 0 for p in self.reports.values())
                and all(s.get_publisher_count() > 0 for s in self.subs[:len(ROBOTS)]))

    def send_frame(self, robot, stamp, data):
        msg = self.CompressedImage()
        msg.header.stamp.sec, msg.header.stamp.nanosec = stamp
        msg.header.frame_id = f"{robot.strip('/')}_camera"
        msg.format = "rgb8; webp compressed rgb8"
        msg.data = data
        self.uplink[robot].publish(msg)

    def report(self, robot, delay_ms, identity):
        msg = self.DelayReport()
        msg.observed_delay_ms, msg.delay_jitter_ms, msg.window_size = delay_ms, 2.0, 10
        msg.expected_model_identity = identity
        self.reports[robot].publish(msg)

    def answer_for(self, robot, stamp):
        found = [m for m in self.features[robot]
                 if (m.header.stamp.sec, m.header.stamp.nanosec) == stamp]
        return found[-1] if found else None

    def request(self, robot, stamp, data, timeout_s=4.0):
        """Send one frame and wait for the FeatureMap that echoes its stamp."""
        self.send_frame(robot, stamp, data)
        self.spin_until(lambda: self.answer_for(robot, stamp) is not None, timeout_s)
        return self.answer_for(robot, stamp)

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()


def webp_frames(count, hw):
    rng = np.random.default_rng(0)
    return [encode_uplink(rng.integers(0, 256, (*hw, 3), dtype=np.uint8)) for _ in range(count)]


def check_feature_map(msg, robot, stamp, identity):
    config = get_config("tiny")
    assert msg.robot == robot          # the robot it was computed for, signed with it
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == stamp
    assert msg.header.frame_id == f"{robot.strip('/')}_camera"
    assert msg.model_identity == identity
    assert msg.context_frames == config.remote.num_frames
    stamps = [(t.sec, t.nanosec) for t in msg.context_stamps]
    assert len(stamps) == msg.context_frames and stamps[-1] == stamp and stamps == sorted(stamps)
    assert (msg.channels, msg.height, msg.width) == (config.local.channels[0],
                                                     *stage1_grid(config.local_hw))
    assert msg.encoding == "float16"
    assert np.isfinite(decode_features(encoded_from_feature_map(msg))).all()
    receive_ns = msg.remote_receive_time.sec * 10**9 + msg.remote_receive_time.nanosec
    publish_ns = msg.remote_publish_time.sec * 10**9 + msg.remote_publish_time.nanosec
    assert 0 < receive_ns <= publish_ns
    assert msg.remote_compute_ms > 0


def test_remote_node_answers_two_robots_with_their_stamps_delays_and_survives_garbage(
        ros_context, tmp_path):
    from dedelayed_bringup.secure_link.link_certificates import make_certificates
    from dedelayed_models.transport.feature_msg import encoded_from_feature_map
    from dedelayed_models.transport.feature_signing import FeatureVerifier, load_verify_key

    identity = expected_remote_identity()
    log_path = tmp_path / "remote_node.log"
    make_certificates(str(tmp_path / "certs"), cloud_hosts=["localhost"], robots=[])
    verifier = FeatureVerifier(load_verify_key(str(tmp_path / "certs" / "cloud.pem")))

    def verify(answer):   # signed with the cloud key over the fields the robot fuses by
        verifier.verify(answer.signature, robot=answer.robot,
                        stamp_ns=answer.header.stamp.sec * 1_000_000_000
                        + answer.header.stamp.nanosec, delay_ms=answer.delay_ms,
                        model_identity=answer.model_identity,
                        encoded=encoded_from_feature_map(answer))
    command = [sys.executable, "-m", "dedelayed_remote.remote_node", "--ros-args",
               "--params-file", PARAMS_FILE, "-p", "checkpoint:=random", "-p", "preset:=tiny", "-p", f"seed:={SEED}",
               "-p", f"robot_namespaces:={list(ROBOTS)}", "-p", f"default_delay_ms:={DEFAULT_DELAY_MS}",
               "-p", "diagnostics_period_s:=0.5", "-p", "max_frame_age_ms:=2000",
               "-p", f"max_answer_rate_hz:={RATE_CAP_HZ}",
               "-p", f"feature_signing_key:={tmp_path / 'certs' / 'cloud.key'}"]
    robots = FakeRobots(ros_context)
    with open(log_path, "w") as log:
        node = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert robots.spin_until(robots.connected, 40.0), \
            f"remote node did not join the graph in 40 s:\n{log_path.read_text()}"
        frames = webp_frames(4, get_config("tiny").remote_hw)
        robots.report("/robot1", REPORTED_DELAY_MS, identity)
        sent = 0

        def request(robot):   # a new stamp each try: best effort may lose the first ones
            nonlocal sent
            for _ in range(5):
                sent += 1
                stamp = (1_000 + sent, 123_456_789)
                answer = robots.request(robot, stamp, frames[sent % len(frames)])
                if answer is not None:
                    return stamp, answer
            raise AssertionError(f"{robot}: no FeatureMap for 5 frames:\n{log_path.read_text()}")

        # The delay report and the frames travel on different topics: ask until it took effect.
        for _ in range(10):
            stamp, answer = request("/robot1")
            check_feature_map(answer, "/robot1", stamp, identity)
            if answer.delay_ms == REPORTED_DELAY_MS:
                break
        assert answer.delay_ms == REPORTED_DELAY_MS
        verify(answer)
        stamp, answer = request("/robot2")      # no report from robot2: the default delay
        check_feature_map(answer, "/robot2", stamp, identity)
        verify(answer)
        assert answer.delay_ms == DEFAULT_DELAY_MS

        # A corrupt frame is dropped with a warning; the next good frame is answered.
        robots.send_frame("/robot1", (5_000, 1), b"\x00garbage, not WebP" * 10)
        stamp, answer = request("/robot1")
        check_feature_map(answer, "/robot1", stamp, identity)
        assert node.poll() is None, "remote node died after a corrupt uplink frame"

        # A burst faster than the model: newest only, so the last frame is answered and most
        # of the others are superseded rather than queued.
        burst = [(6_000 + i, 0) for i in range(8)]
        for i, stamp in enumerate(burst):
            robots.send_frame("/robot2", stamp, frames[i % len(frames)])
        assert robots.spin_until(lambda: robots.answer_for("/robot2", burst[-1]) is not None, 10.0)
        answered = [stamp for stamp in burst if robots.answer_for("/robot2", stamp) is not None]
        assert len(answered) < len(burst), "every frame of a burst was computed: frames queue"

        # Fair share: robot1 uplinks at ~100 Hz and gets at most RATE_CAP_HZ answers a second.
        flood = [(7_000 + i, 0) for i in range(40)]
        started = time.monotonic()
        for i, stamp in enumerate(flood):
            robots.send_frame("/robot1", stamp, frames[i % len(frames)])
            robots.spin_until(lambda: False, 0.01)
        robots.spin_until(lambda: False, 0.5)
        window_s = time.monotonic() - started
        flood_answers = sum(robots.answer_for("/robot1", s) is not None for s in flood)
        assert 1 <= flood_answers <= RATE_CAP_HZ * window_s + 1, (flood_answers, window_s)

        # An identity string a robot controls cannot forge a log line or a diagnostics value.
        robots.report("/robot1", REPORTED_DELAY_MS, FORGING_IDENTITY)
        assert robots.spin_until(lambda: any(
            s.name.endswith("robot /robot1") and "\\n[WARN]" in s.message
            for a in robots.diagnostics for s in a.status), 10.0), "no escaped identity in /diagnostics"
        assert not any("\n" in s.message or "\n" in kv.value for a in robots.diagnostics
                       for s in a.status for kv in s.values)
        robots.report("/robot2", 40.0, WRONG_IDENTITY)
        assert robots.spin_until(lambda: any(
            s.name.endswith("robot /robot2") and s.level == b"\x01" and WRONG_IDENTITY in s.message
            for a in robots.diagnostics for s in a.status), 10.0), "no identity warning in /diagnostics"

        def latest(robot):
            statuses = [s for a in robots.diagnostics for s in a.status if s.name.endswith(f"robot {robot}")]
            return {kv.key: kv.value for kv in statuses[-1].values}
        assert int(latest("/robot1")["frames_refused"]) == 1
        assert int(latest("/robot1")["frames_rate_capped"]) > 0
        assert int(latest("/robot1")["refused_not_webp"]) == 1
        # The burst's frames are replaced either in the decoder's newest-only slot or in the
        # pending slot before a forward pass, whichever they reach first under this load.
        robot2 = latest("/robot2")
        assert int(robot2["frames_superseded"]) + int(robot2["decode_superseded"]) >= 1, robot2
        server = [s for a in robots.diagnostics for s in a.status if s.name.endswith(": server")]
        assert {kv.key: kv.value for kv in server[-1].values}["feature_signatures"].startswith(
            "signed")
    finally:
        robots.close()
        node.send_signal(signal.SIGINT)
        try:
            node.wait(timeout=20)
        except subprocess.TimeoutExpired:
            node.kill()
            node.wait()
    output = log_path.read_text()
    assert "robot /robot1: uplink_refused_not_webp: dropped uplink frame" in output
    assert f"robot /robot2 expects remote model {WRONG_IDENTITY}" in output
    forged = [line for line in output.splitlines() if line.startswith("[WARN] [1796000000.0]")]
    assert not forged, forged
    assert "expects remote model evil\\n[WARN]" in output
    assert "RANDOM remote weights" in output
    assert "Traceback" not in output, output
