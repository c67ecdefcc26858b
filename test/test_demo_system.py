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
miss the README reports. Cross-host: the cloud in another network namespace, unicast DDS peers,
or the zenoh-tls link with only its TLS port crossing (a packet capture shows no plaintext).
"""

import json
import os
import signal
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


def _demo_in_robot_namespace(robot, cloud, out, *extra_args, outage_s=0.0, timeout_s=300):
    """Run a 12 s demo drive inside ``robot``, the cloud side inside ``cloud``."""
    command = [*robot.exec_prefix(), sys.executable, "-m", "dedelayed_bringup.demo.run",
               "--duration-s", "12", "--outage-s", str(outage_s), "--out", str(out), "--quiet",
               "--cloud-netns", cloud.name, "--cloud-address", cloud.address,
               "--robot-address", robot.address, *extra_args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_cross_host_cloud_in_another_network_namespace(tmp_path, hosts):
    robot, cloud = hosts
    done = _demo_in_robot_namespace(robot, cloud, tmp_path, timeout_s=240)
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


def _start_capture(namespace, port, out):
    """A packet_capture process on ``namespace``'s veth end, once it is capturing."""
    from dedelayed_bringup.transport.packet_capture import READY_LINE

    capture = subprocess.Popen(
        [*namespace.exec_prefix(), sys.executable, "-m", "dedelayed_bringup.transport.packet_capture",
         "--interface", namespace.interface, "--tcp-port", str(port), "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first_line = capture.stdout.readline()
    if READY_LINE not in first_line:
        capture.kill()
        pytest.fail(f"packet capture did not start: {first_line}{capture.communicate()[0]}")
    return capture


def _recorded_link_messages(bag_path):
    """(FeatureMap payloads, model identities) the robot recorded in its drive bag."""
    from rclpy.serialization import deserialize_message

    from dedelayed_bringup.recording.mcap_bag import read_bag
    from dedelayed_bringup.relay_topics import import_message_type

    contents = read_bag(str(bag_path))
    by_topic = contents.by_topic()
    payloads, identities = [], set()
    for topic in ("/robot1/dedelayed/remote_features", "/robot1/dedelayed/delay_report"):
        msg_type = import_message_type(contents.type_of(topic))
        for message in by_topic.get(topic, []):
            decoded = deserialize_message(message.data, msg_type)
            if topic.endswith("remote_features"):
                identities.add(decoded.model_identity)
                payloads.append(bytes(decoded.data))
            else:
                identities.add(decoded.expected_model_identity)
    return payloads, identities


def test_zenoh_tls_demo_with_the_cloud_in_another_network_namespace(tmp_path, hosts):
    """The zenoh-tls demo across hosts: the cloud and its link_bridge in the cloud namespace,
    everything else (camera, emulator, robot, uplink, recorder, robot link_bridge) in the robot
    namespace. A raw-socket capture on the CLOUD namespace's veth end (everything that reaches
    or leaves the cloud host) runs for the whole drive. Claims: the capture holds at least half
    as many bytes on the TLS port as the FeatureMaps the robot recorded (so it demonstrably
    saw the link), none of them is the model identity string or a 64-byte run of any recorded
    FeatureMap payload, and nothing but that one TCP port crossed (no UDP, so no DDS; ARP and
    IPv6 neighbour discovery aside). And the system works as over DDS: every frame segmented,
    fused once features arrive, tau within the same bound, and the link emulator's 2 s outage
    (robot side, before the robot's bridge) switches the robot to local-only and back."""
    from dedelayed_bringup.secure_link.zenoh_link import DEFAULT_PORT
    from dedelayed_bringup.transport.packet_capture import PAYLOAD_FILE, SUMMARY_FILE, shared_runs

    robot, cloud = hosts
    out, capture_dir = tmp_path / "demo", tmp_path / "capture"
    capture = _start_capture(cloud, DEFAULT_PORT, capture_dir)
    try:
        done = _demo_in_robot_namespace(robot, cloud, out, "--link", "zenoh-tls", "--link-port",
                                        str(DEFAULT_PORT), "--record-feature-payload",
                                        outage_s=2.0)
    finally:
        capture.send_signal(signal.SIGINT)
        capture_log = capture.communicate(timeout=120)[0]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert capture.returncode == 0, capture_log
    figures = json.loads((out / "figures.json").read_text())
    frames, tau = figures["frames"], figures["tau"]
    assert frames["num_frames"] >= 0.95 * 12 * figures["settings"]["fps"], frames
    assert frames["num_missing"] == 0, frames
    assert frames["num_fused"] >= 0.5 * frames["num_frames"], frames
    assert tau["within_bound"], (tau, figures["machine"])
    outage = figures["outage"]
    assert outage["fused_before_cut"] and outage["all_local_only_until_restore"], outage
    assert outage["fused_again_after_ms"] is not None and outage["fused_again_after_ms"] < 2000.0, outage
    assert "cloud_bridge" in figures["cpu_cores_used"], figures["cpu_cores_used"]

    summary = json.loads((capture_dir / SUMMARY_FILE).read_text())
    wire = (capture_dir / PAYLOAD_FILE).read_bytes()
    payloads, identities = _recorded_link_messages(out / "drive.mcap")
    print(f"captured {len(wire)} bytes on TCP {DEFAULT_PORT} ({summary['frames']} frames, "
          f"{summary['kernel_drops']} dropped by the kernel); {len(payloads)} FeatureMaps "
          f"recorded ({sum(map(len, payloads))} bytes); {frames['num_fused']} of "
          f"{frames['num_frames']} frames fused; tau {tau['robot_estimate_ms']:.0f} ms "
          f"(bound {tau['upper_bound_ms']:.0f}); outage: local-only after "
          f"{outage['local_only_after_ms']:.0f} ms, fused again "
          f"{outage['fused_again_after_ms']:.0f} ms after; flows {summary['flows']}")
    assert payloads and all(payloads), "no FeatureMap payload recorded (--record-feature-payload)"
    assert len(wire) >= 0.5 * sum(map(len, payloads)), (
        f"control: the capture saw {len(wire)} bytes on TCP {DEFAULT_PORT}, less than half of "
        f"the {sum(map(len, payloads))} FeatureMap bytes that crossed; summary {summary}")
    assert identities and all(identities), identities
    for identity in identities:
        assert identity.encode() not in wire, f"model identity {identity!r} in plaintext on the wire"
    assert shared_runs(wire, payloads, run_bytes=64) == [], "FeatureMap bytes in plaintext on the wire"
    assert summary["other_flows"] == {}, f"more than the TLS port crossed: {summary['flows']}"
