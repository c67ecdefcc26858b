"""Cost of the Dedelayed networks: parameters, MACs, and the robot's fusion overhead on CPU.

    python -m dedelayed_models.bench.models_bench --preset small paper --reps 30 --out bench_out/models.json

For each preset:
* parameters of every part (local T1/T2/T3/projections/head; remote backbone, 3-D encoder,
  MLP-pool-MLP, predictive head);
* MACs counted by ``torch.utils.flop_counter.FlopCounterMode`` (``macs.count_macs``; MACs = FLOPs / 2; convolutions,
  matmuls and attention only -- element-wise ops are not counted), on the meta device so even
  the paper-sized remote model costs no compute here;
* CPU latency of the robot path, local-only ``local(x)`` vs fused ``local(x, z)``, batch 1, at two
  local resolutions, measured side by side: repetitions interleave the two modes (alternating
  which goes first); medians are reported and the verdict is the median of per-repetition
  paired ratios. The budget is fused/local-only <= 1.05.
Optionally (``--train-batch N``) the forward+backward time per iteration of each training stage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F

from ..classes import NUM_CLASSES
from ..modeling import (
    DedelayedModel,
    build_model,
    get_config,
    prepare_stage,
    random_model,
    scaled_local_hw,
    stage1_grid,
    stage_logits,
)
from ..modeling.remote_model import context_ages_ms
from .macs import count_macs

BUDGET_RATIO = 1.05


def count_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def part_params(model: DedelayedModel) -> Dict[str, int]:
    loc, rem = model.local, model.remote
    embed = [rem.patch_merge, rem.pos, rem.delay_embedding, rem.norm]
    return {
        "local.T1": count_params(loc.T1), "local.T2": count_params(loc.T2),
        "local.T3": count_params(loc.T3),
        "local.P2+P3": count_params(loc.P2) + count_params(loc.P3),
        "local.seg_head": count_params(loc.seg_head), "local.total": count_params(loc),
        "remote.image_backbone": count_params(rem.image_backbone),
        "remote.vit3d+embeddings": count_params(rem.vit3d) + sum(map(count_params, embed))
                                   + rem.time_embedding.numel(),
        "remote.mlp_pool_mlp": count_params(rem.pre_pool) + count_params(rem.post_pool),
        "remote.head": count_params(rem.head),
        "remote.features_total": count_params(rem) - count_params(rem.head),
        "remote.total": count_params(rem),
    }


def macs(preset: str, resolutions: Sequence[Tuple[int, int]]) -> Dict[str, float]:
    """GMACs per call, computed on the meta device (shapes only, no arithmetic)."""
    cfg = get_config(preset)
    with torch.device("meta"):
        model = build_model(cfg).eval()
        frames = torch.rand(1, cfg.remote.num_frames, 3, *cfg.remote_hw)
        one_frame = torch.rand(1, 3, *cfg.remote_hw)
        out = {"remote.features_per_request": count_macs(
                   lambda: model.remote.features(frames, context_ages_ms(0.0, 100.0, cfg.remote.num_frames),
                                                 stage1_grid(cfg.local_hw))),
               "remote.image_backbone_per_frame": count_macs(lambda: model.remote.image_backbone(one_frame))}
        for hw in resolutions:
            x = torch.rand(1, 3, *hw)
            z = torch.rand(1, *model.local.stage1_shape(hw))
            out[f"local_only@{hw[0]}x{hw[1]}"] = count_macs(lambda: model.local(x))
            out[f"fused_local@{hw[0]}x{hw[1]}"] = count_macs(lambda: model.local(x, z))
    return {k: v / 1e9 for k, v in out.items()}


def _time_ms(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def fusion_latency(model: DedelayedModel, hw: Tuple[int, int], reps: int, warmup: int = 2) -> Dict:
    """Median CPU ms of local(x) and local(x, z) at batch 1, interleaved repetitions."""
    local = model.local.eval()
    x = torch.rand(1, 3, *hw)
    z = torch.randn(1, *local.stage1_shape(hw))
    modes = {"local_only": lambda: local(x), "fused": lambda: local(x, z)}
    times: Dict[str, List[float]] = {m: [] for m in modes}
    with torch.inference_mode():
        for _ in range(warmup):
            for fn in modes.values():
                fn()
        for rep in range(reps):
            order = list(modes) if rep % 2 == 0 else list(reversed(modes))
            for m in order:
                times[m].append(_time_ms(modes[m]))
    med = {m: statistics.median(t) for m, t in times.items()}
    # Each repetition's two runs are adjacent in time, so their ratio cancels most of the drift
    # from other processes sharing the CPU; the median of those paired ratios is the verdict.
    ratio = statistics.median(f / l for f, l in zip(times["fused"], times["local_only"]))
    return {"local_only_ms": med["local_only"], "fused_ms": med["fused"], "ratio": ratio,
            "ratio_of_medians": med["fused"] / med["local_only"],
            "budget_ratio": BUDGET_RATIO, "budget_met": ratio <= BUDGET_RATIO, "reps": reps,
            "fusion_adds": int(z.numel())}


def train_step_ms(model: DedelayedModel, preset: str, batch: int, reps: int) -> Dict[str, float]:
    """Forward+backward ms per iteration of each stage's loss (the trainer's ``stage_logits``)
    at the preset's resolutions."""
    cfg = get_config(preset)
    x = torch.rand(batch, 3, *cfg.local_hw)
    frames = torch.rand(batch, cfg.remote.num_frames, 3, *cfg.remote_hw)
    ages_ms = context_ages_ms(torch.rand(batch) * 600.0, 100.0, cfg.remote.num_frames)
    labels = torch.randint(0, NUM_CLASSES, (batch, *cfg.local_hw))
    out = {}
    for stage in ("remote", "local", "fusion"):
        prepare_stage(model, stage)
        runs = []
        for _ in range(reps + 1):                      # the first run pays one-off allocations
            model.zero_grad(set_to_none=True)
            runs.append(_time_ms(lambda s=stage: F.cross_entropy(
                stage_logits(model, s, x, frames, ages_ms), labels).backward()))
        out[stage] = statistics.median(runs[1:])
    model.eval()
    return out


def default_resolutions(preset: str) -> List[Tuple[int, int]]:
    """The preset's local resolution and a 3/4-scale one (paper A.3 sweeps local resolution)."""
    hw = tuple(get_config(preset).local_hw)
    return [hw, scaled_local_hw(hw, 0.75)]


def run(preset: str, reps: int, train_batch: int = 0, train_reps: int = 2) -> Dict:
    resolutions = default_resolutions(preset)
    model = random_model(preset).model
    result = {"preset": preset, "params": part_params(model), "gmacs": macs(preset, resolutions),
              "latency": {f"{h}x{w}": fusion_latency(model, (h, w), reps) for h, w in resolutions}}
    result["budget_met"] = all(v["budget_met"] for v in result["latency"].values())
    if train_batch:
        result["train_step_ms"] = {"batch": train_batch,
                                   **train_step_ms(model, preset, train_batch, train_reps)}
    return result


def print_table(result: Dict) -> None:
    p = result["params"]
    print(f"\n== preset {result['preset']} ==")
    print(f"params  local {p['local.total'] / 1e6:.2f} M   remote features {p['remote.features_total'] / 1e6:.2f} M"
          f"   remote total {p['remote.total'] / 1e6:.2f} M")
    for k, v in p.items():
        print(f"  {k:28s} {v:>12,d}")
    print("GMACs")
    for k, v in result["gmacs"].items():
        print(f"  {k:36s} {v:10.3f}")
    print(f"{'resolution':>12s} {'local-only ms':>14s} {'fused ms':>10s} {'ratio':>7s}  budget<={BUDGET_RATIO}")
    for res, v in result["latency"].items():
        print(f"{res:>12s} {v['local_only_ms']:14.2f} {v['fused_ms']:10.2f} {v['ratio']:7.3f}  "
              f"{'met' if v['budget_met'] else 'NOT met'}")
    if "train_step_ms" in result:
        print("train fwd+bwd ms/iter:", {k: round(v, 1) if isinstance(v, float) else v
                                         for k, v in result["train_step_ms"].items()})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Dedelayed model cost benchmark (CPU).")
    ap.add_argument("--preset", nargs="+", default=["small"], help="tiny, small and/or paper")
    ap.add_argument("--reps", type=int, default=30, help="timed repetitions per mode")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    ap.add_argument("--train-batch", type=int, default=0,
                    help="also time one training iteration per stage at this batch size")
    ap.add_argument("--out", default="bench_out/models.json")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    results = []
    for preset in args.preset:
        results.append(run(preset, args.reps, args.train_batch))
        print_table(results[-1])
    report = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "machine": platform.processor() or platform.machine(),
              "budget_ratio": BUDGET_RATIO, "budget_met": all(r["budget_met"] for r in results),
              "presets": results}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"\nbudget fused/local-only <= {BUDGET_RATIO}: {'met' if report['budget_met'] else 'NOT met'}"
          f"; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
