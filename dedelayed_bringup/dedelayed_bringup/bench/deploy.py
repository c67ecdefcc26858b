"""Deployment benchmark: robot latency, link bytes, cloud throughput, node memory.

    python -m dedelayed_bringup.bench --out bench_out/             # or: make bench
    python -m dedelayed_bringup.bench --quick --out /tmp/b         # tiny sizes (smoke test)
    python -m dedelayed_bringup.bench --checkpoint dedelayed.pt    # + mIoU vs FeatureMap bytes

Prints every table, writes ``deploy.json`` and ``deploy.md`` into ``--out``. Budgets (values in
``dedelayed_models.bench.deploy_bench``) are evaluated and stated, met or not; timings are
medians of short interleaved repetitions (the machine may be shared; its load is recorded).
CUDA rows (torch on the GPU, the TensorRT engine, the paper-sized cloud) run where a GPU is.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Dict, List

import torch

from dedelayed_bringup.bench import report
from dedelayed_models.bench.deploy_bench import link_bytes

FULL = {"robot": [("small", (256, 512)), ("paper", (720, 1280))], "link": ["small", "paper"],
        "cloud_cpu": "small", "cloud_gpu": "paper", "batch_sizes": [1, 2, 4, 8, 16],
        "ks": [1, 2, 4], "memory": ("small", (256, 512)), "memory_s": 10.0, "reps": 10}
QUICK = {"robot": [("tiny", (256, 512))], "link": ["tiny"], "cloud_cpu": "tiny",
         "cloud_gpu": "tiny", "batch_sizes": [1, 2], "ks": [1, 2], "memory": ("tiny", (128, 256)),
         "memory_s": 3.0, "reps": 3}
SECTIONS = ("robot", "link", "cloud", "memory", "encodings")


def machine() -> Dict:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "gpu": gpu,
            "load_average_1_5_15": list(os.getloadavg())}


def run(plan: Dict, skip=(), checkpoint: str = "", device: str = "") -> Dict:
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    out: Dict = {"machine_at_start": machine(), "device": device}
    if "robot" not in skip:
        from dedelayed_bringup.bench.robot import run as robot_run

        rows = robot_run(plan["robot"], plan["reps"], "cpu", ["onnxruntime"])
        if device.startswith("cuda"):
            rows += robot_run(plan["robot"], plan["reps"], device, ["tensorrt"])
        out["robot"] = rows
    if "link" not in skip:
        out["link"] = [link_bytes(p) for p in plan["link"]]
    if "cloud" not in skip:
        from dedelayed_bringup.bench.cloud import cloud_throughput

        out["cloud"] = [cloud_throughput(plan["cloud_cpu"], plan["batch_sizes"], plan["ks"], "cpu")]
        if device.startswith("cuda"):
            out["cloud"].append(cloud_throughput(plan["cloud_gpu"], plan["batch_sizes"],
                                                 plan["ks"], device, repeats=5))
        else:
            out["cloud_gpu"] = f"pending: no CUDA GPU on this machine ({plan['cloud_gpu']} preset)"
    if "memory" not in skip:
        from dedelayed_bringup.bench.memory import peak_memory

        out["memory"] = peak_memory(*plan["memory"], duration_s=plan["memory_s"])
    if "encodings" not in skip:
        if checkpoint:
            from dedelayed_models.bench.encoding_quality import run as encodings_run

            out["encodings"] = encodings_run(checkpoint)
        else:
            out["encodings"] = "pending: needs a trained dedelayed checkpoint (--checkpoint)"
    out["budgets"] = budgets(out)
    out["machine_at_end"] = machine()
    return out


def budgets(result: Dict) -> List[Dict]:
    """Every budget check of the run in one list: name, value, limit, met."""
    checks = []
    for r in result.get("robot", []):
        where = f"{r['preset']} {r['model_hw'][0]}x{r['model_hw'][1]} {r['device']}"
        checks.append({"name": f"fused/local-only, torch, {where}", **r["fused_over_local_only"]})
        for name, b in r["backends"].items():
            checks.append({"name": f"fused/local-only, {name}, {where}", **b["fused_over_local_only"]})
        if tuple(r["camera_hw"]) == (256, 512):
            checks.append({"name": f"ROS plumbing ms at 256x512, {where}", **r["ros_plumbing_ms"]})
    if isinstance(result.get("encodings"), dict):
        for enc, row in result["encodings"]["encodings"].items():
            checks.append({"name": f"FeatureMap {enc}: <= 1/16 bytes and <= 0.5 mIoU loss",
                           "value": row.get("miou_loss"), "limit": 0.5,
                           "met": bool(row.get("meets_goal"))})
    return checks


def markdown(result: Dict) -> str:
    m = result["machine_at_start"]
    parts = [f"Machine: {m['cpu']}, {m['cpu_count']} CPUs, GPU {m['gpu'] or 'none'}, torch "
             f"{m['torch']}; load average at start {m['load_average_1_5_15'][0]:.2f}, at end "
             f"{result['machine_at_end']['load_average_1_5_15'][0]:.2f}"]
    if "robot" in result:
        parts += ["### Robot: ms per frame (median)", report.robot_table(result["robot"])]
    if "link" in result:
        parts += ["### Link", report.link_table(result["link"])]
    if "cloud" in result:
        parts += ["### Cloud: remote features", report.cloud_table(result["cloud"])]
        if "cloud_gpu" in result:
            parts.append(f"- GPU: {result['cloud_gpu']}")
    if "memory" in result:
        parts += ["### Memory", report.memory_table(result["memory"])]
    if "encodings" in result:
        enc = result["encodings"]
        parts += ["### mIoU versus bytes per FeatureMap",
                  enc if isinstance(enc, str) else "\n".join(
                      f"- {e}: {r['bytes']} B, mIoU {r['mIoU']:.2f} (loss {r['miou_loss']:+.2f})"
                      for e, r in enc["encodings"].items())]
    parts += ["### Budgets", "\n".join(
        f"- {c['name']}: {c['value'] if c['value'] is None else round(c['value'], 3)} "
        f"(limit {c['limit']:g}) {'met' if c['met'] else '**NOT met**'}" for c in result["budgets"])]
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="bench_out", help="folder for deploy.json and deploy.md")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repetitions")
    ap.add_argument("--reps", type=int, default=0, help="robot repetitions per mode (0 = plan's)")
    ap.add_argument("--skip", nargs="*", default=[], choices=SECTIONS)
    ap.add_argument("--checkpoint", default="", help="trained dedelayed .pt for the mIoU/bytes table")
    ap.add_argument("--device", default="", help="cpu or cuda (default: cuda where available)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (1: stable on a shared machine; 0 = torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    plan = dict(QUICK if args.quick else FULL)
    if args.reps:
        plan["reps"] = args.reps
    start = time.time()
    result = run(plan, args.skip, args.checkpoint, args.device)
    result["wall_s"] = time.time() - start
    text = markdown(result)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "deploy.json"), "w") as f:
        json.dump(result, f, indent=2)
    with open(os.path.join(args.out, "deploy.md"), "w") as f:
        f.write(text)
    print(f"wrote {args.out}/deploy.json and deploy.md ({result['wall_s']:.0f} s)")
    return 0
