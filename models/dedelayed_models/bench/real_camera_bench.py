"""What each side of a real-camera checkpoint costs per frame: MACs and CPU time.

    python -m dedelayed_models.bench.real_camera_bench [--reps 30] [--out bench_out/real_camera.json]
        [--checkpoint models/dedelayed_models/checkpoints/camvid/dedelayed.pt]

* MACs (``macs.count_macs``, on the meta device): the robot's model per frame (local-only and
  fused), the cloud's image backbone per uplinked frame, and the cloud's answer (its temporal
  encoder and MLP-pool-MLP once per answer, plus one new frame through the backbone, which the
  cloud caches per uplinked frame).
* Robot, one CPU thread, batch 1: the exported robot graph through onnxruntime (the robot's CPU
  backend) and the PyTorch model, fused and local-only, repetitions interleaved so the ratios are
  measured side by side; medians.
* Cloud, ``--cloud-threads`` CPU threads: one backbone frame and one answer from cached frames.

The checkpoint's own preset decides the sizes; without the file the ``camvid`` preset's random
weights are timed (same architecture, same cost) and the JSON says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from typing import Callable, Dict, List

import numpy as np
import torch

from ..modeling import build_model, get_config, load_checkpoint, local_identity, stage1_grid
from ..modeling.remote_model import context_ages_ms
from ..shipped import SHIPPED_CHECKPOINTS
from .macs import count_macs

DEFAULT_CHECKPOINT = SHIPPED_CHECKPOINTS["shipped:camvid"]
ROBOT_BUDGET_MS = 25.0        # robot model per frame on one CPU thread (onnxruntime)
ROBOT_MACS_FRACTION = 1 / 8   # robot model per frame <= this share of the cloud's backbone per frame


def _model(path: str):
    if os.path.isfile(path):
        loaded = load_checkpoint(path)
        return loaded.model.eval(), loaded.config, f"{path} ({loaded.identity.get('local')})"
    torch.manual_seed(0)
    cfg = get_config("camvid")
    return build_model(cfg).eval(), cfg, f"camvid preset, random weights ({path} not found)"


def macs(cfg) -> Dict[str, float]:
    """GMACs per call on the meta device."""
    k = cfg.remote.num_frames
    with torch.device("meta"):
        model = build_model(cfg).eval()
        x = torch.rand(1, 3, *cfg.local_hw)
        z = torch.rand(1, *model.local.stage1_shape(cfg.local_hw))
        frame = torch.rand(1, 3, *cfg.remote_hw)
        encoded = torch.rand(1, k, model.remote.d_model,
                             *[-(-(v // 8) // cfg.remote.merge_size) for v in cfg.remote_hw])
        ages = context_ages_ms(100.0, 66.7, k)
        out = {"robot_local_only": count_macs(lambda: model.local(x)),
               "robot_fused": count_macs(lambda: model.local(x, z)),
               "cloud_backbone_per_frame": count_macs(lambda: model.remote.image_backbone(frame)),
               "cloud_temporal_per_answer": count_macs(
                   lambda: model.remote.features_from_encoded(encoded, ages, stage1_grid(cfg.local_hw)))}
    out = {name: v / 1e9 for name, v in out.items()}
    out["cloud_per_answer_cached"] = out["cloud_backbone_per_frame"] + out["cloud_temporal_per_answer"]
    return out


def _interleaved(fns: Dict[str, Callable[[], object]], reps: int) -> Dict[str, float]:
    """Median ms of each fn; one call of each per repetition, order rotated every repetition."""
    names = list(fns)
    for fn in fns.values():
        fn()                                               # warm-up
    times: Dict[str, List[float]] = {n: [] for n in names}
    for r in range(reps):
        for n in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            fns[n]()
            times[n].append((time.perf_counter() - t0) * 1e3)
    return {n: statistics.median(v) for n, v in times.items()}


def robot_ms(model, cfg, reps: int) -> Dict[str, float]:
    import onnxruntime as ort

    from ..export import export_robot_onnx

    local = model.local
    x = torch.rand(1, 3, *cfg.local_hw)
    z = torch.randn(1, *local.stage1_shape(cfg.local_hw))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "robot.onnx")
        export_robot_onnx(local, path, image_hw=cfg.local_hw, local_identity=local_identity(local, cfg),
                          expected_remote_identity="bench", preset=cfg.name)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        feeds = {v: {"image": x.numpy(), "remote_features": z.numpy(),
                     "remote_valid": np.array([v], np.float32)} for v in (0.0, 1.0)}
        torch.set_num_threads(1)
        with torch.inference_mode():
            return _interleaved({
                "onnxruntime_fused": lambda: session.run(None, feeds[1.0]),
                "onnxruntime_local_only": lambda: session.run(None, feeds[0.0]),
                "pytorch_fused": lambda: local(x, z),
                "pytorch_local_only": lambda: local(x)}, reps)


def cloud_ms(model, cfg, reps: int, threads: int) -> Dict[str, float]:
    remote = model.remote
    k = cfg.remote.num_frames
    frame = torch.rand(1, 1, 3, *cfg.remote_hw)
    torch.set_num_threads(threads)
    with torch.inference_mode():
        encoded = remote.encode_frames(frame).expand(1, k, -1, -1, -1).contiguous()
        ages = context_ages_ms(100.0, 66.7, k)
        grid = stage1_grid(cfg.local_hw)
        return _interleaved({"backbone_per_frame": lambda: remote.encode_frames(frame),
                             "temporal_per_answer": lambda: remote.features_from_encoded(encoded, ages, grid)},
                            max(5, reps // 3))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="real-camera-bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default=DEFAULT_CHECKPOINT, help="a dedelayed checkpoint")
    p.add_argument("--reps", type=int, default=30, help="timed repetitions per robot variant")
    p.add_argument("--cloud-threads", type=int, default=2, help="torch threads of the cloud timing")
    p.add_argument("--out", default="bench_out/real_camera.json", help="JSON output")
    args = p.parse_args(argv)
    model, cfg, source = _model(args.checkpoint)
    gmacs = macs(cfg)
    robot = robot_ms(model, cfg, args.reps)
    cloud = cloud_ms(model, cfg, args.reps, args.cloud_threads)
    cloud["per_answer_cached"] = cloud["backbone_per_frame"] + cloud["temporal_per_answer"]
    result = {
        "checkpoint": source, "preset": cfg.name, "local_hw": list(cfg.local_hw),
        "remote_hw": list(cfg.remote_hw), "gmacs": gmacs, "robot_ms_1_thread": robot,
        f"cloud_ms_{args.cloud_threads}_threads": cloud,
        "budgets": {
            "robot_onnxruntime_fused_ms": {"value": robot["onnxruntime_fused"], "limit": ROBOT_BUDGET_MS,
                                           "met": robot["onnxruntime_fused"] <= ROBOT_BUDGET_MS},
            "robot_over_cloud_backbone_macs": {
                "value": gmacs["robot_fused"] / gmacs["cloud_backbone_per_frame"],
                "limit": ROBOT_MACS_FRACTION,
                "met": gmacs["robot_fused"] / gmacs["cloud_backbone_per_frame"] <= ROBOT_MACS_FRACTION}},
        "host": {"machine": platform.machine(), "processor": platform.processor() or "unknown",
                 "cpus": os.cpu_count(), "torch": torch.__version__},
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
