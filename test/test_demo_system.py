"""The demo as a system test: a shortened `make demo` run (20 s drive, 3 s outage), then its claims.

System claims (hold with any weights): every camera frame got a segmentation; the outage
switched the robot to local-only and the restored link brought fusion back; the robot's tau
estimate lies between the emulated round trip + measured remote compute and that plus one cloud
answer interval and one camera frame.
The drive's bag (drive.mcap) reads back: every message deserialises into its type, counts
match what the report scored, stamps rise per channel.
Accuracy claim (needs the trained checkpoint): Dedelayed's streaming mIoU >= remote-only. The
claim Dedelayed >= local-only is asserted by test_live_sweep.py (drives without an outage), not
here: on this 20 s drive with its outage the shipped checkpoint measured Dedelayed 40.7 vs
local-only 42.4 (and 40.4 vs 42.2), below local-only on the stretch after the outage, a known
miss the README reports. Cross-host: the cloud in another network namespace, unicast DDS peers.
"""

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ros]

DRIVE_S, OUTAGE_S = 20.0, 3.0
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from dedelayed_bringup.demo import run as demo_run

    out = tmp_path_factory.mktemp("demo_out")
    args = demo_run.parse_args(["--duration-s", str(DRIVE_S), "--outage-s", str(OUTAGE_S),
                                "--out", str(out), "--quiet"])
    figures = demo_run.run(args)
    for name in ("report.md", "figures.json", "streaming_miou.png", "tau_histogram.png",
                 "overlays.png", "drive.mcap"):
        assert (out / name).is_file(), name
    return figures


def test_every_camera_frame_got_a_segmentation(demo):
    frames = demo["frames"]
    assert frames["num_frames"] >= 0.95 * DRIVE_S * demo["settings"]["fps"]
    assert frames["num_missing"] == 0, (
        f"{frames['num_missing']} of {frames['num_frames']} frames unanswered "
        f"(first stamps {frames['missing_stamps_s']}); CPU {demo['cpu_cores_used']}, "
        f"load {demo['machine']['load_average_1_5_15']}")


def test_outage_switches_to_local_only_and_recovery_returns_to_fused(demo):
    o = demo["outage"]
    assert o["injected"] and o["fused_before_cut"], o
    max_age_ms = demo["settings"]["max_feature_age_ms"]
    frame_ms = 1e3 / demo["settings"]["fps"]
    assert o["all_local_only_until_restore"], o
    # fused frames after the cut only on features already in flight: <= max age + a frame
    assert o["local_only_after_ms"] is not None and o["local_only_after_ms"] <= max_age_ms + frame_ms, o
    assert o["fused_again_after_ms"] is not None and o["fused_again_after_ms"] < 2000.0, o


def test_robot_tau_estimate_is_round_trip_plus_compute_plus_the_waits_it_can_have(demo):
    """tau >= round trip + compute (less a frame of jitter) and <= that + one answer interval + one
    camera frame. Whether it lands within one frame of round trip + compute (the report's
    ``within_one_frame``) depends on how often the CPU cloud answers: at 10 fps it answers about
    every second frame and tau sits 100-110 ms above, so that figure is reported, not asserted."""
    t = demo["tau"]
    assert t["within_bound"], (
        f"robot tau estimate {t['robot_estimate_ms']:.0f} ms vs round trip {t['round_trip_ms']:.0f} "
        f"+ remote compute {t['remote_compute_ms']['median']:.0f} ms = {t['expected_ms']:.0f} ms, upper "
        f"bound {t['upper_bound_ms']} ms (answer interval {t['answer_interval_ms']}); "
        f"load {demo['machine']['load_average_1_5_15']}")


def test_drive_bag_reads_back_into_ros_messages_that_match_the_report(demo):
    from rclpy.serialization import deserialize_message

    from dedelayed_bringup.recording.mcap_bag import read_bag
    from dedelayed_bringup.relay_topics import import_message_type

    bag = demo["bag"]
    contents = read_bag(bag["path"])
    assert contents.complete and not contents.stopped_by, contents.stopped_by
    counts = contents.counts()
    assert counts == bag["messages"], (counts, bag["messages"])
    ns, scored = "/robot1/dedelayed", bag["scored_messages"]
    assert counts["/camera/ground_truth"] == scored["truth"] == demo["frames"]["num_frames"]
    for stream, topic in (("dedelayed", "segmentation"), ("local_only", "segmentation/local_only"),
                          ("remote_only", "remote_segmentation")):
        assert counts[f"{ns}/{topic}"] == scored[stream] == demo["streams"][stream]["num_outputs"]
    assert counts[f"{ns}/remote_features"] == scored["features"] > 0
    assert counts[f"{ns}/delay_report"] == scored["delay_reports"] > 0
    # best-effort camera frames and the overlay: one per truth frame / per segmentation
    assert counts["/camera/image_raw"] >= 0.98 * scored["truth"], counts
    assert abs(counts[f"{ns}/segmentation/overlay"] - scored["dedelayed"]) <= 1, counts
    assert counts["/diagnostics"] >= demo["settings"]["duration_s"], counts
    for topic in (f"{ns}/segmentation/local_only",
                  f"{ns}/remote_segmentation"):   # class colours, written by the recorder
        assert counts[f"{topic}/colour"] == counts[topic], counts
    layout = json.loads(open(os.path.join(REPO, "dedelayed_bringup", "config",
                                          "foxglove_layout.json")).read())
    shown = {c["imageMode"]["imageTopic"] for c in layout["configById"].values() if "imageMode" in c}
    shown |= {p["value"].split(".")[0] for c in layout["configById"].values()
              for p in c.get("paths", [])}
    assert shown <= set(counts), f"the Foxglove layout shows topics the bag lacks: {shown - set(counts)}"
    modes = set()
    for topic, messages in contents.by_topic().items():
        msg_type = import_message_type(contents.type_of(topic))
        log_times = [m.log_time for m in messages]
        assert log_times == sorted(log_times), f"{topic}: receive times out of order"
        decoded = [deserialize_message(m.data, msg_type) for m in messages]
        assert all(isinstance(d, msg_type) for d in decoded)
        if topic == "/diagnostics":
            modes |= {kv.value for d in decoded for s in d.status for kv in s.values
                      if s.name.endswith(": segmentation") and kv.key == "mode"}
            continue
        stamps = [d.header.stamp.sec * 10**9 + d.header.stamp.nanosec for d in decoded]
        if topic != f"{ns}/delay_report":   # camera stamps (echoed ones for FeatureMaps)
            assert stamps == sorted(stamps), f"{topic}: header stamps out of order"
        if topic == f"{ns}/remote_features":
            assert all(len(d.data) == 0 and d.channels > 0 for d in decoded), "payload recorded"
    assert {"fused", "local_only"} <= modes, modes   # the outage is in the bag too


def test_dedelayed_streaming_miou_beats_remote_only(demo):
    if not demo["trained_models"]:
        pytest.skip("needs the trained checkpoint models/dedelayed_models/checkpoints/dedelayed.pt "
                    "(train.pipeline --ship); random weights say nothing about accuracy")
    s = {k: v["streaming_mIoU"] for k, v in demo["streams"].items()}
    assert s["dedelayed"] >= s["remote_only"], s


def test_cross_host_cloud_in_another_network_namespace(tmp_path):
    from dedelayed_bringup.transport.netns import NetnsUnavailable, netns_unavailable_reason, routed_hosts

    reason = netns_unavailable_reason()
    if reason:
        pytest.skip(f"cross-host check needs network namespaces: {reason}")
    try:
        hosts = routed_hosts()
        robot, cloud = hosts.__enter__()
    except NetnsUnavailable as error:
        pytest.skip(f"cross-host check needs network namespaces: {error}")
    try:
        command = [*robot.exec_prefix(), sys.executable, "-m", "dedelayed_bringup.demo.run",
                   "--duration-s", "12", "--outage-s", "0", "--out", str(tmp_path), "--quiet",
                   "--cloud-netns", cloud.name, "--cloud-address", cloud.address,
                   "--robot-address", robot.address]
        done = subprocess.run(command, capture_output=True, text=True, timeout=240,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    finally:
        hosts.__exit__(None, None, None)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["streams"]["remote_only"]["num_outputs"] > 0, "no cloud answer crossed the hosts"
    assert figures["frames"]["num_fused"] > 0, "the robot never fused features from the other host"


def test_demo_over_the_zenoh_tls_link(tmp_path):
    """The same system with robot and cloud joined by the link bridges over mutual TLS (behind
    the link emulator): every frame segmented, fused once features arrive, and tau within the
    same bound as over DDS; the signed FeatureMaps all verify (every fused frame used one)."""
    from dedelayed_bringup.demo import run as demo_run

    drive_s = 12.0
    args = demo_run.parse_args(["--duration-s", str(drive_s), "--outage-s", "0", "--link",
                                "zenoh-tls", "--out", str(tmp_path), "--quiet"])
    figures = demo_run.run(args)
    frames, tau = figures["frames"], figures["tau"]
    assert frames["num_frames"] >= 0.95 * drive_s * figures["settings"]["fps"]
    assert frames["num_missing"] == 0, frames
    assert frames["num_fused"] >= 0.5 * frames["num_frames"], frames
    assert tau["within_bound"], (tau, figures["machine"])
    assert "cloud_bridge" in figures["cpu_cores_used"] and "robot_bridge" in figures["cpu_cores_used"]
