"""`make demo`: robot + cloud over an emulated network on the synthetic world, then a report.

    python -m dedelayed_bringup.demo [--duration-s 40] [--delay-ms 50] [--outage-s 3] [--out demo_out]
    python -m dedelayed_bringup.demo --video camvid      # a real labelled clip as the camera

1. cloud (remote_node) in one DDS domain, robot (segmenter + fusion + uplink) in another, the
   link emulator between them (delay each way, jitter, loss); all with the same-host
   large-data DDS profile; the recorder listens in the robot's domain.
2. the synthetic camera plays one validation drive in real time; half-way through, the link
   is cut for ``--outage-s`` seconds (the emulator's run-time ``link_up`` switch).
3. everything is stopped, the recording scored (demo/scoring.py) and written (demo/report.py);
   the drive itself is in ``<out>/drive.mcap`` (rosbag2-compatible MCAP, demo/recorder.py).

With ``--video`` the camera plays a real frames folder instead of the world (demo/video.py):
``camvid`` = the shared labelled CamVid clip (101 frames at 15 fps, looped ``--video-loops``
times), or any folder with frames/ (+ labels/, dataset.yaml), at its own frame rate; no outage
unless ``--outage-s`` asks for one.
"""

import argparse
import os
import random
import shutil
import sys
import time

from dedelayed_bringup.demo.models import missing_checkpoint_note, resolve_models
from dedelayed_bringup.demo.stack import (
    BRIDGE_READY_LINES,
    EMULATOR_NODE,
    LINKS,
    NAMESPACE,
    READY_LINES,
    LinkSettings,
    camera_process,
    system_processes,
)
from dedelayed_bringup.demo.video import resolve_video
from dedelayed_bringup.secure_link.zenoh_link import bridge_endpoints, free_tcp_port
from dedelayed_bringup.stack import Stack, StackError
from dedelayed_bringup.transport.discovery import same_host_profile_env, unicast_profile_env
from dedelayed_models.data.context_timing import delay_bound_ms

BAG_NAME = "drive.mcap"   # the recorded drive, in --out
FRAME_LOG_NAME = "camera_frames.csv"   # --video: which clip frame each camera stamp showed, in --out
WORLD_DEFAULTS = {"duration_s": 40.0, "outage_s": 3.0, "fps": 10.0}   # the world's drive
VIDEO_OUTAGE_S = 0.0      # --video: no outage by default (figures cover every loop alike)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except None ones (whose help says what they resolve to)."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


def parse_args(argv):
    from dedelayed_models.data import world_seeds

    p = argparse.ArgumentParser(prog="make demo DEMO_ARGS=...", description=__doc__,
                                formatter_class=_HelpFormatter)
    p.add_argument("--delay-ms", type=float, default=50.0,
                   help="one-way link delay each direction [ms] (round trip = 2x)")
    p.add_argument("--jitter-ms", type=float, default=2.0, help="Gaussian jitter, std [ms]")
    p.add_argument("--loss", type=float, default=0.0, help="message loss probability [0-1]")
    p.add_argument("--duration-s", type=float, default=None,
                   help="length of the drive [s] (default: 40); with --video the clip's loops set "
                        "it (--video-loops)")
    p.add_argument("--outage-s", type=float, default=None,
                   help="link outage injected in the middle of the drive [s]; 0 = none (default: 3 "
                        "on the world, 0 with --video, so every loop of the clip is scored with the "
                        "link up, the way an offline evaluation scores it)")
    p.add_argument("--motion", type=float, default=1.0, help="world motion knob (1 = calibrated)")
    p.add_argument("--seed", type=int, default=world_seeds("val", 1)[0],
                   help="world seed (validation range: never seen in training)")
    p.add_argument("--fps", type=float, default=None,
                   help="camera frame rate [Hz] (default: 10, which lets the robot answer every "
                        "frame (two passes: fused + local-only) beside the CPU cloud on 2 shared "
                        "cores); a --video plays at its own rate (--video-fps)")
    p.add_argument("--video", default="",
                   help="play real frames as the robot's camera instead of the world: 'camvid' = "
                        "the shared labelled CamVid clip (../shared/data/camvid-0016E5-val, 101 "
                        "frames, 15 fps; the report adds the mIoU over CamVid's 11 classes and over "
                        "the held-out frames 66-100), or a folder with frames/ (+ labels/ in "
                        "trainIds, or the label_encoding its dataset.yaml states); --checkpoint auto "
                        "then takes checkpoints/camvid/dedelayed.pt; '' = the world")
    p.add_argument("--video-fps", type=float, default=0.0,
                   help="--video: its frame rate [Hz]; 0 = the folder's own (dataset.yaml 'fps:', "
                        "15 for CamVid); needed for a folder that states none")
    p.add_argument("--video-loops", type=int, default=0,
                   help="--video: play the clip this many times back to back; 0 = as many as make "
                        "about a 20 s drive (3 for the 6.7 s CamVid clip)")
    p.add_argument("--camera-hw", default="auto",
                   help="camera image HxW [px]; 'auto' = the cloud model's input size (remote_hw "
                        "of the checkpoint), so the uplinked frame is never up-scaled")
    p.add_argument("--checkpoint", default="auto",
                   help="dedelayed checkpoint for robot and cloud; 'auto' = the shipped "
                        "models/dedelayed_models/checkpoints/dedelayed_streaming.pt (trained for "
                        "output used one camera frame late, as a running robot's is), else "
                        "dedelayed.pt (with --video: checkpoints/camvid/dedelayed.pt), else random "
                        "weights of --preset; 'none' = random weights")
    p.add_argument("--preset", default="tiny",
                   help="model preset of the random weights used when there is no checkpoint")
    p.add_argument("--model-seed", type=int, default=0, help="seed of random weights")
    p.add_argument("--max-feature-age-ms", type=float, default=0.0,
                   help="robot: features older than this are not fused [ms]; 0 = the largest "
                        "delay the checkpoint was trained for (600 ms for the shipped one)")
    p.add_argument("--output-lag-ms", type=float, default=-1.0,
                   help="robot: how long after its frame an output is in use, added to the delay "
                        "the cloud predicts for [ms]; -1 = one camera frame period (measured), "
                        "0 = predict for the frame's own instant")
    p.add_argument("--domain-id", type=int, default=0,
                   help="robot DDS domain (cloud = +1); 0 = a random free-looking pair in 20-99")
    p.add_argument("--out", default="demo_out", help="output folder")
    p.add_argument("--cloud-netns", default="",
                   help="cross-host check: run the cloud in this network namespace (root); run "
                        "the demo itself in the robot's namespace. --link dds: robot and cloud "
                        "join by Fast DDS unicast peers; --link zenoh-tls: the cloud's "
                        "link_bridge runs there too and only its TLS port crosses (no DDS). "
                        "Needs --cloud-address and --robot-address")
    p.add_argument("--cloud-address", default="",
                   help="the cloud namespace's IPv4 address (zenoh-tls: the cloud bridge "
                        "listens on it, the robot bridge dials it, the cloud certificate names it)")
    p.add_argument("--robot-address", default="", help="the robot namespace's IPv4 address")
    p.add_argument("--link", choices=LINKS, default="dds",
                   help="robot-cloud link: dds (the emulator joins the two DDS domains) or "
                        "zenoh-tls (emulator, then the robot's link_bridge dials the cloud's over "
                        "mutual TLS with access control, on a loopback port or, with "
                        "--cloud-netns, on --cloud-address); FeatureMaps are signed and "
                        "verified either way")
    p.add_argument("--link-port", type=int, default=0,
                   help="zenoh-tls: the cloud bridge's TCP port (the one port to open); 0 = a "
                        "free one")
    p.add_argument("--quiet", action="store_true", help="do not echo the nodes' own log lines")
    p.add_argument("--record-feature-payload", action="store_true",
                   help="drive.mcap: also record FeatureMap payloads (default: every other field)")
    p.add_argument("--sweep-rtt-ms", type=float, nargs="+", default=None, metavar="RTT",
                   help="live delay sweep: one drive per round trip [ms] (no outage, "
                        "--sweep-jitter-ms), then a table, JSON and PNG of streaming mIoU "
                        "against round trip in --out (demo/sweep.py)")
    p.add_argument("--sweep-jitter-ms", type=float, default=10.0,
                   help="live sweep: round-trip jitter, standard deviation [ms] (each direction "
                        "gets 1/sqrt(2) of it)")
    p.add_argument("--sweep-duration-s", type=float, default=30.0, help="live sweep: drive per round trip [s]")
    args = p.parse_args(argv)
    try:
        if args.camera_hw == "auto":
            args.camera_hw = None                    # resolved from the models in run()
        else:
            args.camera_hw = tuple(int(v) for v in args.camera_hw.lower().split("x"))
            assert len(args.camera_hw) == 2 and min(args.camera_hw) >= 16
    except (ValueError, AssertionError):
        p.error(f"--camera-hw {args.camera_hw!r}: give HxW in pixels, e.g. 192x384, or 'auto'")
    _resolve_drive(p, args)
    if args.cloud_netns and not (args.cloud_address and args.robot_address):
        p.error("--cloud-netns needs --cloud-address and --robot-address")
    if not 0 <= args.link_port <= 65535:
        p.error(f"--link-port {args.link_port} is not a TCP port: give 1-65535, or 0 for a free one")
    if args.outage_s and args.outage_s >= args.duration_s / 2:
        p.error(f"--outage-s {args.outage_s} must be shorter than half of --duration-s "
                f"{args.duration_s} (the outage is centred, with fused driving on both sides)")
    return args


def _resolve_drive(p: argparse.ArgumentParser, args) -> None:
    """Fills in the drive's length, rate and outage: the world's defaults, or the --video clip's
    (its own rate, its loops); ``p.error`` names a flag that does not fit."""
    if not args.video:
        for key, value in WORLD_DEFAULTS.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
        return
    if args.duration_s is not None:
        p.error(f"--duration-s {args.duration_s:g} does not apply to --video: the drive is "
                "--video-loops plays of the clip")
    if args.fps is not None:
        p.error(f"--fps {args.fps:g} sets the world camera's rate; --video plays at the clip's own "
                "rate: give --video-fps to override it")
    try:
        video = resolve_video(args.video, args.video_fps, args.video_loops)
    except (ValueError, FileNotFoundError) as exc:
        p.error(f"--video {args.video}: {exc}")
    args.fps, args.duration_s, args.video_loops = video.fps, video.duration_s, video.loops
    if args.outage_s is None:
        args.outage_s = VIDEO_OUTAGE_S


def _cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process and its waited-for children [s] (/proc, Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _progress(recorder, started, duration_s, link_up) -> str:
    counts = recorder.snapshot_counts()
    diag = recorder.latest_diagnostics() or {}
    tau = diag.get("tau_ms")
    return (f"[demo] {time.time() - started:5.1f}/{duration_s:.0f} s  frames {counts['truth']:4d}  "
            f"segmentations {counts['dedelayed']:4d}  remote answers {counts['remote_only']:4d}  "
            f"link {'up' if link_up else 'DOWN'}  robot {diag.get('mode', '-')}"
            f"{'' if tau is None else f' tau {tau:.0f} ms'}")


def _cross_host(args):
    """(prefixes, envs) putting the cloud side into --cloud-netns; (None, None) without it.

    dds: the cloud alone, unicast peers both ways. zenoh-tls: the cloud and its link_bridge,
    each side with its own same-host DDS graph (the default env) in DDS domains of its own, so
    not even Fast DDS shared memory (/dev/shm is shared across network namespaces) joins them:
    only the TLS port crosses.
    """
    if not args.cloud_netns:
        return None, None
    in_cloud = ["ip", "netns", "exec", args.cloud_netns]
    if args.link == "zenoh-tls":
        return {"cloud": in_cloud, "cloud_bridge": in_cloud}, None
    out = os.path.abspath(args.out)
    robot_env = unicast_profile_env(os.path.join(out, "robot_peers.xml"), [args.cloud_address])
    cloud_env = unicast_profile_env(os.path.join(out, "cloud_peers.xml"), [args.robot_address])
    os.environ.update(robot_env)   # the recorder (this process) is a robot-side participant
    return {"cloud": in_cloud}, {"cloud": cloud_env, "robot": robot_env, "link": robot_env}


def _cloud_host(args) -> str:
    """The address the robot bridge dials ('' = loopback, the demo on one host)."""
    return args.cloud_address if args.cloud_netns else ""


def _link_certificates(out: str, cloud_host: str = "") -> str:
    """A fresh CA, cloud and robot certificate for this demo run (its own folder); the cloud's
    names ``cloud_host`` (else localhost and 127.0.0.1)."""
    from dedelayed_bringup.secure_link.link_certificates import make_certificates

    folder = os.path.join(os.path.abspath(out), "link_certs")
    shutil.rmtree(folder, ignore_errors=True)  # the demo's own throw-away keys
    make_certificates(folder, cloud_hosts=[cloud_host] if cloud_host else ["localhost", "127.0.0.1"],
                      robots=[NAMESPACE])
    return folder


def run(args) -> dict:
    """Run the whole demo; returns the report's figures (also written under args.out)."""
    from dedelayed_bringup.demo.recorder import DemoRecorder
    from dedelayed_bringup.demo.report import write_report

    wall_start = time.time()
    os.makedirs(args.out, exist_ok=True)
    prefixes, envs = _cross_host(args)
    video = resolve_video(args.video, args.fps, args.video_loops) if args.video else None
    if video:
        print(f"[demo] camera: {video.describe()}")
    models = resolve_models(args.checkpoint, args.preset, args.model_seed, video=bool(video))
    if not models.trained and args.checkpoint == "auto":
        print(f"[demo] WARNING: {missing_checkpoint_note(bool(video))}; falling back to random "
              f"weights of preset {args.preset} (--preset)")
    print(f"[demo] models: {models.describe()}")
    age_from_checkpoint = not args.max_feature_age_ms
    args.max_feature_age_ms = delay_bound_ms(args.max_feature_age_ms, models.trained_delay_ms)
    if age_from_checkpoint:
        print(f"[demo] robot fuses features up to {args.max_feature_age_ms:.0f} ms old (the "
              f"delays the model was trained for: {models.trained_delay_ms[0]:.0f}-"
              f"{models.trained_delay_ms[1]:.0f} ms)")
    args.camera_hw = args.camera_hw or models.remote_hw
    if not models.trained:
        print("[demo] WARNING: the figures below come from UNTRAINED random models")
    robot_domain = args.domain_id or random.SystemRandom().randint(20, 98)
    cloud_domain = robot_domain + 1
    env = {**same_host_profile_env(os.path.join(os.path.abspath(args.out), "fastdds_same_host.xml")),
           "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    link = LinkSettings(args.delay_ms, args.jitter_ms, args.loss, seed=0)
    certs = _link_certificates(args.out, _cloud_host(args))
    port = args.link_port or free_tcp_port()
    specs = system_processes(models, link, robot_domain=robot_domain, cloud_domain=cloud_domain,
                             env=env, max_feature_age_ms=args.max_feature_age_ms,
                             output_lag_ms=args.output_lag_ms,
                             prefixes=prefixes, envs=envs, certs=certs, link_mode=args.link,
                             port=port, cloud_host=_cloud_host(args))
    dialled = (f" (robot bridge dials {bridge_endpoints(_cloud_host(args), port)['robot']})"
               if args.link == "zenoh-tls" else "")
    print(f"[demo] link: {args.link}{dialled}; FeatureMaps signed with {certs}/cloud.key, "
          "verified against cloud.pem")
    output = None if args.quiet else sys.stdout
    frame_log = os.path.join(os.path.abspath(args.out), FRAME_LOG_NAME) if video else ""
    cut_s = restore_s = None
    with Stack(specs, output=output) as system:
        ready = {**READY_LINES, **(BRIDGE_READY_LINES if args.link == "zenoh-tls" else {})}
        for name, pattern in ready.items():
            system.wait_for_output(name, pattern, timeout_s=180)
        recorder = DemoRecorder(robot_domain, NAMESPACE, EMULATOR_NODE,
                                bag_path=os.path.join(args.out, BAG_NAME),
                                record_feature_payload=args.record_feature_payload)
        camera = camera_process(seed=args.seed, motion=args.motion, fps=args.fps,
                                camera_hw=args.camera_hw, duration_s=args.duration_s,
                                robot_domain=robot_domain, env={**env, **(envs or {}).get("robot", {})},
                                prefix=(prefixes or {}).get("robot", ()),
                                source_parameters=video.camera_parameters(frame_log) if video else None)
        try:
            with Stack([camera], output=output) as camera_stack:
                camera_stack.wait_for_output("camera", "playing", timeout_s=120)
                started = time.time()
                # "recorder": this process (its recorder thread writes the bag; the loop sleeps)
                pids = {"recorder": os.getpid(), **{n: c.process.pid for n, c in
                                                    {**system.children,
                                                     **camera_stack.children}.items()}}
                cpu_start = {n: _cpu_seconds(pid) for n, pid in pids.items()}
                cut_at = started + (args.duration_s - args.outage_s) / 2
                end = started + args.duration_s + 2.0   # + the last frames' answers
                next_progress = started
                while time.time() < end:
                    if system.failure:
                        raise StackError(system.failure)
                    now = time.time()
                    if args.outage_s > 0 and cut_s is None and now >= cut_at:
                        cut_s = recorder.set_link_up(False)
                        print(f"[demo] link CUT for {args.outage_s:g} s")
                    if cut_s is not None and restore_s is None and now >= cut_s + args.outage_s:
                        restore_s = recorder.set_link_up(True)
                        print("[demo] link restored")
                    if now >= next_progress:
                        print(_progress(recorder, started, args.duration_s,
                                        cut_s is None or restore_s is not None), flush=True)
                        next_progress += 5.0
                    time.sleep(0.02)
                drive_s = time.time() - started
                cpu = {n: (_cpu_seconds(pid) - cpu_start[n]) / drive_s for n, pid in pids.items()}
        finally:
            recording = recorder.close()
    print(f"[demo] stopped every node; scoring {len(recording.truth)} ground-truth frames")
    return write_report(args, models, link, recording, cut_s=cut_s, restore_s=restore_s,
                        cpu_cores=cpu, wall_start=wall_start, video=video,
                        frame_log=frame_log or None)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.sweep_rtt_ms:
            from dedelayed_bringup.demo.sweep import run_sweep
            figures = run_sweep(args, run)
        else:
            figures = run(args)
    except (StackError, RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"[demo] FAILED: {exc}", file=sys.stderr)
        return 1
    return 0 if figures.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
