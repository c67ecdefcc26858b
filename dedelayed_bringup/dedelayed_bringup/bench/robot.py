"""Per-frame robot latency, stage by stage, with real sensor_msgs/Image messages and publishers.

Part of ``python -m dedelayed_bringup.bench``; runs alone as
    python -m dedelayed_bringup.bench.robot --preset small --camera 256x512 --reps 20

Each frame goes through the same functions the segmenter node calls, in its order:
  image_conversion  Image message -> RGB array (``image_msg_to_rgb``)
  preprocess        resize to the model input, HWC uint8 -> NCHW float (``segmenter_core``)
  T1 / fuse / rest  the local network split at the fusion point (torch, per-stage device sync)
  postprocess       ids -> uint8 at camera size, plus the colour overlay the node publishes
  publish           ``fill_image_msg`` + ``publish`` of the mono8 and rgb8 Images on real rclpy
                    publishers (QoS of the node) with a matched subscriber in the graph
Local-only and fused frames alternate (which goes first alternates too), so both modes see the
same machine load; the verdict is the median of per-frame paired ratios. Optionally the whole
network is also timed through a deployable backend (onnxruntime; tensorrt on CUDA).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np
import rclpy
import torch
from rclpy.node import Node
from sensor_msgs.msg import Image

from dedelayed_local import qos
from dedelayed_local.backends import create_backend
from dedelayed_local.image_codec import fill_image_msg, image_msg_to_rgb
from dedelayed_local.robot_model import RobotModel
from dedelayed_local.segmenter_core import overlay, postprocess, preprocess
from dedelayed_models.bench.deploy_bench import BUDGET_FUSED_OVER_LOCAL, BUDGET_ROS_PLUMBING_MS, network_stages, verdict
from dedelayed_models.data import WorldSequence

MODES = ("local_only", "fused")
STAGES = ("image_conversion", "preprocess", "T1", "fuse", "rest", "postprocess", "publish")


def _camera_messages(camera_hw: Tuple[int, int], count: int) -> List[Image]:
    """Synthetic world frames as rgb8 Image messages, as a camera driver would publish them."""
    world = WorldSequence(1000, num_frames=count, camera_hw=camera_hw)
    return [fill_image_msg(Image(), world.frame(t), "rgb8") for t in range(count)]


class _Outputs:
    """The segmenter's two output publishers, plus a subscriber so DDS really delivers."""

    def __init__(self, node: Node):
        self.seg = node.create_publisher(Image, "bench/segmentation", qos.OUTPUT)
        self.overlay = node.create_publisher(Image, "bench/segmentation/overlay", qos.OUTPUT)
        for topic in ("bench/segmentation", "bench/segmentation/overlay"):
            node.create_subscription(Image, topic, lambda _msg: None, qos.OUTPUT)

    def publish(self, header, class_ids: np.ndarray, colours: np.ndarray) -> None:
        for pub, pixels, enc in ((self.seg, class_ids, "mono8"), (self.overlay, colours, "rgb8")):
            msg = fill_image_msg(Image(), pixels, enc)
            msg.header = header
            pub.publish(msg)


def _one_frame(robot_model: RobotModel, outputs: _Outputs, msg: Image, z, device: str,
               sync) -> Dict[str, float]:
    ms = {}
    t0 = time.perf_counter()
    rgb = image_msg_to_rgb(msg)
    t1 = time.perf_counter()
    image = preprocess(rgb, robot_model.image_hw)
    x = torch.from_numpy(image).to(device)
    t2 = time.perf_counter()
    ids, net = network_stages(robot_model.local, x, z, sync)
    ids = ids.cpu().numpy()
    t3 = time.perf_counter()
    class_ids = postprocess(ids, rgb.shape[:2])
    colours = overlay(rgb, class_ids)
    t4 = time.perf_counter()
    outputs.publish(msg.header, class_ids, colours)
    t5 = time.perf_counter()
    ms.update(image_conversion=(t1 - t0) * 1e3, preprocess=(t2 - t1) * 1e3, **net,
              postprocess=(t4 - t3) * 1e3, publish=(t5 - t4) * 1e3)
    ms["total"] = (t5 - t0) * 1e3
    return ms


def _time_backend(name: str, preset: str, image: np.ndarray, z: np.ndarray, reps: int,
                  warmup: int, device: str, cache_dir: str) -> Dict[str, List[float]]:
    """Whole-network ms per mode through a deployable backend, modes interleaved."""
    backend = create_backend(name, RobotModel.random(preset), device=device, cache_dir=cache_dir)
    times: Dict[str, List[float]] = {m: [] for m in MODES}
    try:
        for rep in range(warmup + reps):
            for mode in (MODES if rep % 2 == 0 else MODES[::-1]):
                t0 = time.perf_counter()
                backend.segment(image, None if mode == "local_only" else z)
                if rep >= warmup:
                    times[mode].append((time.perf_counter() - t0) * 1e3)
    finally:
        backend.close()
    return times


def robot_latency(node: Node, preset: str, camera_hw: Tuple[int, int], reps: int,
                  device: str = "cpu", backends: Sequence[str] = (), cache_dir: str = "",
                  warmup: int = 2) -> Dict:
    """Median ms per stage and mode for the ``preset`` local model (random weights: the cost
    does not depend on the values) on ``camera_hw`` frames."""
    robot_model = RobotModel.random(preset)
    robot_model.local.to(device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    outputs = _Outputs(node)
    messages = _camera_messages(camera_hw, 8)
    z = {"local_only": None,
         "fused": torch.randn(1, *robot_model.feature_shape, device=device)}
    times: Dict[str, List[Dict[str, float]]] = {m: [] for m in MODES}
    for rep in range(warmup + reps):
        msg = messages[rep % len(messages)]
        for mode in (MODES if rep % 2 == 0 else MODES[::-1]):
            row = _one_frame(robot_model, outputs, msg, z[mode], device, sync)
            if rep >= warmup:
                times[mode].append(row)
    # Backends run after the torch loop, not between its frames: onnxruntime's worker threads
    # keep spinning after a run and would steal the CPU from the next torch stage.
    image = preprocess(image_msg_to_rgb(messages[0]), robot_model.image_hw)
    z_np = z["fused"][0].cpu().numpy()
    backend_ms = {b: _time_backend(b, preset, image, z_np, reps, warmup, device, cache_dir)
                  for b in backends}
    result = {"preset": preset, "model_hw": list(robot_model.image_hw),
              "camera_hw": list(camera_hw), "device": device, "reps": reps, "modes": {}}
    for mode in MODES:
        result["modes"][mode] = {s: statistics.median(r[s] for r in times[mode])
                                 for s in (*STAGES, "total")}
    ratios = [f["total"] / l["total"] for f, l in zip(times["fused"], times["local_only"])]
    result["fused_over_local_only"] = verdict(statistics.median(ratios), BUDGET_FUSED_OVER_LOCAL)
    # The fuse stage alone over the local-only frame: load-independent, since the T1 and rest
    # stages compute the same thing in both modes (their differences are the machine's noise).
    result["fuse_stage_fraction"] = (result["modes"]["fused"]["fuse"]
                                     / result["modes"]["local_only"]["total"])
    plumbing = [r["image_conversion"] + r["publish"] for m in MODES for r in times[m]]
    result["ros_plumbing_ms"] = verdict(statistics.median(plumbing), BUDGET_ROS_PLUMBING_MS)
    result["backends"] = {}
    for name, per_mode in backend_ms.items():
        med = {m: statistics.median(v) for m, v in per_mode.items()}
        paired = statistics.median(f / l for f, l in zip(per_mode["fused"], per_mode["local_only"]))
        result["backends"][name] = {"network_ms": med,
                                    "fused_over_local_only": verdict(paired, BUDGET_FUSED_OVER_LOCAL)}
    return result


def run(specs: Sequence[Tuple[str, Tuple[int, int]]], reps: int, device: str = "cpu",
        backends: Sequence[str] = (), cache_dir: str = "") -> List[Dict]:
    """One ``robot_latency`` per (preset, camera_hw) on a node of its own rclpy context."""
    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        node = Node("dedelayed_bench_robot", context=context)
        return [robot_latency(node, preset, hw, reps, device, backends, cache_dir)
                for preset, hw in specs]
    finally:
        rclpy.try_shutdown(context=context)


def parse_hw(text: str) -> Tuple[int, int]:
    h, w = text.lower().split("x")
    return int(h), int(w)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="small")
    ap.add_argument("--camera", default="256x512", help="camera frame HxW [px]")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--backends", nargs="*", default=["onnxruntime"])
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    (result,) = run([(args.preset, parse_hw(args.camera))], args.reps, args.device, args.backends)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
