"""Camera frames the robot never segments on a loaded CPU, per uplink layout.

For each layout (uplink in the robot process at a given ``encoder_nice``, or as its own
process) this starts the robot (``Stack``) on a private DDS domain, loads every CPU with a hog
(one process per core, busy ``--hog-percent`` of every 10 ms), plays ``--frames`` world frames
at ``--fps`` and counts the segmentations that come back, beside the robot's own
/diagnostics figures (frames received, camera frames lost from stamp gaps). No cloud: the
local path is what must not starve. Prints a table and writes JSON.

    python -m dedelayed_bringup.bench.frame_loss --json bench_out/frame_loss.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import time
from typing import Dict, List

from dedelayed_bringup.graph import robot_processes
from dedelayed_bringup.stack import NodeProcess, Stack
from dedelayed_models.modeling import get_config
from dedelayed_models.shipped import RANDOM_WEIGHTS

LAYOUTS = {  # name -> (uplink in the robot process, encoder_nice)
    "in_process_nice0": (True, 0),
    "in_process_nice10": (True, 10),
    "separate_process": (False, 0),
}


def _hog(percent: float, stop) -> None:
    busy_s, period_s = percent / 100.0 * 0.01, 0.01
    while not stop.is_set():
        start = time.perf_counter()
        while time.perf_counter() - start < busy_s:
            pass
        time.sleep(max(0.0, period_s - busy_s))


def _specs(layout: str, preset: str, domain_id: int, camera_fps: float) -> List[NodeProcess]:
    in_process, nice = LAYOUTS[layout]
    cfg = get_config(preset)
    env = {"ROS_DOMAIN_ID": domain_id, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    uplink = {"remote_height": cfg.remote_hw[0], "remote_width": cfg.remote_hw[1],
              "encoder_nice": nice}
    return robot_processes(
        env=env, uplink="in_process" if in_process else "own_process", uplink_parameters=uplink,
        parameters={"checkpoint": RANDOM_WEIGHTS, "preset": preset, "backend": "onnxruntime",
                    "camera_fps": camera_fps, "diagnostics_period_s": 0.5,
                    **(uplink if in_process else {})})


def run_layout(layout: str, *, preset: str, camera_hw, frames: int, fps: float,
               hog_percent: float) -> Dict:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from dedelayed_models.data import WorldSequence

    domain_id = random.SystemRandom().randint(120, 210)
    world = WorldSequence(1001, num_frames=30, camera_hw=tuple(camera_hw))
    images = [world.frame(t) for t in range(30)]
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain_id)
    node = rclpy.create_node("frame_loss_bench", context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(node)
    segmented, status = set(), {}
    node.create_subscription(Image, "dedelayed/segmentation",
                             lambda m: segmented.add((m.header.stamp.sec, m.header.stamp.nanosec)),
                             QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    node.create_subscription(DiagnosticArray, "/diagnostics", lambda m: status.update(
        {kv.key: kv.value for s in m.status if s.name.endswith("segmentation") for kv in s.values}), 10)
    camera = node.create_publisher(Image, "/camera/image_raw", qos_profile_sensor_data)
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_hog, args=(hog_percent, stop), daemon=True)
            for _ in range(os.cpu_count() or 1)]
    specs = _specs(layout, preset, domain_id, fps)
    try:
        with Stack(specs, output=None) as stack:
            stack.wait_for_output("robot", "segmenting", timeout_s=180)
            deadline = time.monotonic() + 30
            while camera.get_subscription_count() < 2 and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.05)
            for hog in hogs:
                hog.start()
            time.sleep(2.0)
            sent, start = [], time.monotonic()
            for i in range(frames):
                while time.monotonic() < start + i / fps:
                    executor.spin_once(timeout_sec=max(0.0, start + i / fps - time.monotonic()))
                rgb = images[i % len(images)]
                msg = Image(height=rgb.shape[0], width=rgb.shape[1], encoding="rgb8",
                            step=rgb.shape[1] * 3, data=rgb.tobytes())
                msg.header.stamp = node.get_clock().now().to_msg()
                camera.publish(msg)
                sent.append((msg.header.stamp.sec, msg.header.stamp.nanosec))
            end = time.monotonic() + 5.0
            while time.monotonic() < end:
                executor.spin_once(timeout_sec=0.05)
    finally:
        stop.set()
        for hog in hogs:
            if hog.is_alive():
                hog.join(2.0)
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()
    answered = len(set(sent) & segmented)
    return {"layout": layout, "frames_sent": len(sent), "frames_segmented": answered,
            "frames_lost": len(sent) - answered,
            "robot_frames_received": int(status.get("frames_received", -1)),
            "robot_camera_frames_lost": int(status.get("camera_frames_lost", -1)),
            "latency_total_ms": float(status.get("latency_total_ms", "nan"))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--camera-hw", default="256x512", help="camera image HxW [px]")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--hog-percent", type=float, default=95.0,
                        help="CPU share each hog process keeps busy [%%]")
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    parser.add_argument("--json", default="bench_out/frame_loss.json")
    args = parser.parse_args(argv)
    camera_hw = tuple(int(v) for v in args.camera_hw.lower().split("x"))
    rows = []
    for layout in args.layouts:
        rows.append(run_layout(layout, preset=args.preset, camera_hw=camera_hw,
                               frames=args.frames, fps=args.fps, hog_percent=args.hog_percent))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{args.preset} at {camera_hw[0]}x{camera_hw[1]}, {args.fps:g} fps, "
          f"{os.cpu_count()} CPU hog(s) at {args.hog_percent:g} %:")
    print("| layout | frames sent | segmented | lost | robot counted lost | mean total ms |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['layout']} | {r['frames_sent']} | {r['frames_segmented']} | "
              f"{r['frames_lost']} | {r['robot_camera_frames_lost']} | {r['latency_total_ms']:.1f} |")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"preset": args.preset, "camera_hw": camera_hw, "fps": args.fps,
                   "hog_percent": args.hog_percent, "cpu_count": os.cpu_count(), "rows": rows}, f,
                  indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
