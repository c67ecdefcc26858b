"""``python -m dedelayed_models.evaluate --checkpoints DIR --out DIR [--dataset SOURCE --data KEY=VALUE ...]``.

Evaluates ``local.pt`` + ``dedelayed.pt`` and writes ``report.json``, ``report.md`` and the PNG
plots of Fig. 6 (0-5 frame rows, and 0-600 ms), Figs. 9, 10, 11, and, on the synthetic world, the
motion sweep and a motion x delay check on seeds no other step uses. See
``evaluation/sweeps.py`` for how each method is computed; ``checks`` lists every target with its
measured value.

On the world (default) it reads validation-range seeds, disjoint from training, and sweeps
0-600 ms at 10, 15 and 30 fps. On real video (``--dataset bdd100k|cityscapes|camvid|frames``
with the training config's ``data.`` keys after ``--data``, e.g. ``--data root=/data/x
val_frame_range=[66,101]``) it reads the validation split / frames at the source's own frame
rate, reports the mIoU over the classes the dataset labels beside the 19-class one with a
per-class table, and skips the sweeps that re-render the world (motion, motion x delay).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from typing import Dict, List, Optional

import torch

from .data import DEFAULT_FPS, frame_period_ms
from .data.datasets import SOURCES, frame_rate, prepared_sources
from .data.uplink import WEBP_QUALITY
from .data.world_sources import world_sources
from .evaluation.report import markdown, plot_all
from .evaluation.semseg import subset_miou
from .evaluation.sweeps import (
    LIVE_METHODS,
    LOCAL_METHODS,
    METHODS,
    best_local,
    delay_sweep,
    eval_dataset,
    expected_under_jitter,
    jitter_matrix,
    miou,
)
from .modeling import load_checkpoint, scaled_local_hw
from .modeling.config import local_stage1_channels
from .train.config import data_section

RESOLUTION_SCALES = (0.5, 0.75, 1.0, 1.5)   # Fig. 11 default: local input sizes relative to local_hw
WORLD_FPS = (10.0, 15.0, DEFAULT_FPS)       # live sweep rates on the world (real video: its own rate)
WORLD_ONLY_SWEEPS = {
    "motion": "skipped on real video: it re-renders the synthetic world at other motions",
    "generalisation": "skipped on real video: it re-renders the synthetic world on unseen seeds at other motions",
}


def _hw(text: str):
    h, w = text.lower().split("x")
    return int(h), int(w)


def live_delays_frames(fps: float, max_delay_ms: float, step_ms: float) -> List[int]:
    """Delays of the live sweep at ``fps``: the frames nearest to 0, step, ... max_delay_ms."""
    period = frame_period_ms(fps)
    wanted = [i * step_ms for i in range(int(max_delay_ms // step_ms) + 1)]
    return sorted({int(round(ms / period)) for ms in wanted})


def _at_ms(row: Dict, delay_ms: float) -> Optional[int]:
    """Index of ``delay_ms`` in a live-sweep row, or None when it was not measured."""
    for i, ms in enumerate(row["delays_ms"]):
        if abs(ms - delay_ms) < 1.0:
            return i
    return None


def checks(results: Dict) -> List[Dict]:
    """The targets, each with its measured value: [{target, measured, met}]."""
    out = []
    live = results.get("live_delay_sweep", {})
    for delay_ms, margin in ((100.0, 6.0), (300.0, 3.0)):
        for fps, row in live.items():
            i = _at_ms(row, delay_ms)
            if i is None:
                continue
            m = row["mIoU"]
            name, local = best_local({k: m[k][i] for k in LOCAL_METHODS if k in m})
            g = m["dedelayed"][i] - local
            out.append({"target": f"dedelayed >= best local-only + {margin:g} at {delay_ms:.0f} ms ({fps} fps)",
                        "measured": f"{g:+.2f} ({m['dedelayed'][i]:.2f} vs {name} {local:.2f})",
                        "met": g >= margin})
    for fps, row in live.items():
        # real video: over the classes the dataset labels (a model never trained on the others
        # can gain or lose on them by chance in the 19-class figure)
        metric = "dataset classes" if "mIoU_dataset_classes" in row else "19 classes"
        m, n = row.get("mIoU_dataset_classes", row["mIoU"]), len(row["delays_ms"])
        baselines = [k for k in m if k != "dedelayed"]
        gaps = [m["dedelayed"][i] - max(m[k][i] for k in baselines) for i in range(n)]
        worst = min(range(n), key=lambda i: gaps[i])
        out.append({"target": f"dedelayed >= every baseline at every delay 0-{row['delays_ms'][-1]:.0f} ms "
                              f"({fps} fps, {metric})",
                    "measured": f"min margin {gaps[worst]:+.2f} (at {row['delays_ms'][worst]:.0f} ms)",
                    "met": gaps[worst] >= 0})
    if "delay_sweep" in results and "classes" in results:
        out.extend(real_video_checks(results))
    elif "delay_sweep" in results:
        m = results["delay_sweep"]["mIoU"]
        name, local = best_local({k: m[k][0] for k in LOCAL_METHODS if k in m})
        g = m["remote image"][0] - local
        out.append({"target": "remote image >= best local-only + 3 at delay 0",
                    "measured": f"{g:+.2f} ({m['remote image'][0]:.2f} vs {name} {local:.2f})",
                    "met": g >= 3})
    gen = results.get("generalisation")
    if gen:
        gaps = {str(mo): [d - lo for d, lo in zip(r["dedelayed"], r["local image"])]
                for mo, r in gen["mIoU"].items()}
        worst = min(min(v) for v in gaps.values())
        out.append({"target": f"dedelayed >= local image at every delay 0-{gen['delays_ms'][-1]:.0f} ms and "
                              f"motion {', '.join(str(x) for x in gen['motions'])} (seed offset "
                              f"{gen['seed_start']}, unused by training and report)",
                    "measured": "min margin per motion " + ", ".join(f"{mo}: {min(v):+.2f}" for mo, v in gaps.items()),
                    "met": worst >= 0})
    motion = results.get("motion")
    if motion:
        adv = motion["advantage_over_remote_image"]
        out.append({"target": "dedelayed advantage over remote image grows with motion",
                    "measured": " -> ".join(f"{a:+.2f}" for a in adv) + f" (motion {motion['motions']})",
                    "met": all(b >= a for a, b in zip(adv, adv[1:]))})
    return out


REAL_TARGET_DELAYS_FRAMES = (2, 4)   # 133 and 267 ms at 15 fps


def real_video_checks(results: Dict) -> List[Dict]:
    """Targets on real video, over the classes the dataset labels, on the paper-preset rows:
    remote image >= best local-only + 8 at delay 0; dedelayed >= best local-only + 5 and >=
    remote predictive at 2 and 4 frames; dedelayed within 1 of the better single model at 0."""
    sweep = results["delay_sweep"]
    m, delays, frame_ms = sweep["mIoU_dataset_classes"], sweep["delays_frames"], results["frame_ms"]
    out = []
    if 0 in delays:
        i = delays.index(0)
        name, local = best_local({k: m[k][i] for k in LOCAL_METHODS if k in m})
        g = m["remote image"][i] - local
        out.append({"target": "remote image >= best local-only + 8 at 0 ms (dataset classes)",
                    "measured": f"{g:+.2f} ({m['remote image'][i]:.2f} vs {name} {local:.2f})",
                    "met": g >= 8})
        best_single = max(local, m["remote image"][i], m["remote predictive"][i])
        g = m["dedelayed"][i] - best_single
        out.append({"target": "dedelayed within 1 of the better single model at 0 ms (dataset classes)",
                    "measured": f"{g:+.2f} ({m['dedelayed'][i]:.2f} vs {best_single:.2f})", "met": g >= -1})
    for d in REAL_TARGET_DELAYS_FRAMES:
        if d not in delays:
            continue
        i = delays.index(d)
        name, local = best_local({k: m[k][i] for k in LOCAL_METHODS if k in m})
        g = m["dedelayed"][i] - local
        out.append({"target": f"dedelayed >= best local-only + 5 at {d * frame_ms:.0f} ms (dataset classes)",
                    "measured": f"{g:+.2f} ({m['dedelayed'][i]:.2f} vs {name} {local:.2f})", "met": g >= 5})
        g = m["dedelayed"][i] - m["remote predictive"][i]
        out.append({"target": f"dedelayed >= remote predictive at {d * frame_ms:.0f} ms (dataset classes)",
                    "measured": f"{g:+.2f} ({m['dedelayed'][i]:.2f} vs {m['remote predictive'][i]:.2f})",
                    "met": g >= 0})
    return out


def _per_class_columns(delays: List[int]) -> List[tuple]:
    """(method, delay index) columns of the per-class table: what staleness costs each class
    (remote image now and at the largest delay) and what each method keeps at that delay."""
    last = len(delays) - 1
    cols = [("local image", 0), ("local only", 0), ("remote image", 0), ("remote image", last),
            ("remote predictive", last),
            ("dedelayed", last)]
    return list(dict.fromkeys(cols))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dedelayed-eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoints", required=True, help="folder with local.pt and dedelayed.pt")
    p.add_argument("--out", required=True, help="folder for report.json/.md and PNGs")
    p.add_argument("--dataset", default="world", choices=SOURCES,
                   help="what to evaluate on: the synthetic world, or a real source (data/datasets.py)")
    p.add_argument("--data", nargs="*", default=[], metavar="KEY=VALUE",
                   help="real source: the training config's data keys, without 'data.' (root, val_split, "
                        "sequences, val_frame_range, fps, label_encoding, resize); e.g. root=/data/bdd")
    p.add_argument("--sequences", type=int, default=16, help="world: val sequences")
    p.add_argument("--frames", type=int, default=40,
                   help="world: frames per sequence (the 600 ms sweep at 30 fps needs 19 of history)")
    p.add_argument("--frame-stride", type=int, default=2, help="score every n-th usable frame")
    p.add_argument("--seed-start", type=int, default=100,
                   help="world: offset into the val seed range (training validation used the first seeds)")
    p.add_argument("--fps", type=float, nargs="+", default=None,
                   help="world: camera rates of the live delay sweep (default "
                        f"{' '.join(f'{f:g}' for f in WORLD_FPS)}); "
                        "real video is swept at its own rate only")
    p.add_argument("--max-delay-ms", type=float, default=600.0, help="live sweep: largest delay [ms]")
    p.add_argument("--delay-step-ms", type=float, default=100.0, help="live sweep: delay step [ms]")
    p.add_argument("--delays", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5],
                   help=f"paper-preset rows: delays in frames of the source ({DEFAULT_FPS:g} fps on the world)")
    p.add_argument("--max-observed", type=int, default=7, help="largest observed delay in Fig. 9")
    p.add_argument("--sigmas-ms", type=float, nargs="+", default=[0.0, 5.0, 15.0, 33.0, 50.0])
    p.add_argument("--resolutions", nargs="+", default=None, metavar="HxW",
                   help="local input sizes of Fig. 11 (default: 0.5, 0.75, 1 and 1.5 x the model's "
                        "local_hw, rounded to multiples of 8)")
    p.add_argument("--motions", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0], help="world only")
    p.add_argument("--generalisation-seed-start", type=int, default=3000,
                   help="world: val-range seed offset of the motion x delay check (unused by training and report)")
    p.add_argument("--generalisation-sequences", type=int, default=8, help="world only")
    p.add_argument("--skip", nargs="*", default=[],
                   choices=["live", "jitter", "resolution", "motion", "generalisation"])
    p.add_argument("--uplink-quality", type=int, default=WEBP_QUALITY,
                   help="WebP quality of the uplinked remote frames (the robot's default)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--frame-cache-frames", type=int, default=512,
                   help="distinct frames whose remote backbone features are kept between sweeps "
                        "(modeling/frame_cache.py); 0 = encode every time")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (more thrash on a shared CPU)")
    p.add_argument("--cache-dir", default=None, help="world: rendered-frame cache (data/world_sources.py)")
    args = p.parse_args(argv)
    real = args.dataset != "world"
    if args.data and not real:
        p.error(f"--data {' '.join(args.data)} describes a real source; add --dataset (one of {SOURCES[1:]})")
    data_cfg = data_section(args.dataset, args.data) if real else None
    torch.set_num_threads(args.threads)
    t0 = time.time()
    local = load_checkpoint(os.path.join(args.checkpoints, "local.pt"), part="local").model
    loaded = load_checkpoint(os.path.join(args.checkpoints, "dedelayed.pt"))
    dedelayed, mcfg = loaded.model, loaded.config
    dedelayed.remote.use_frame_cache(args.frame_cache_frames)   # the backbone is frozen here
    uplink = args.uplink_quality
    skip = set(args.skip)
    if real:
        skip |= set(WORLD_ONLY_SWEEPS)
        for name, why in WORLD_ONLY_SWEEPS.items():
            print(f"{name} sweep {why}", flush=True)
    paper_max_d = max(max(args.delays), 0 if "jitter" in skip else args.max_observed)
    spec = None

    def dataset(motion=1.0, local_hw=None, label_hws=(), fps=DEFAULT_FPS, max_d=paper_max_d,
                seed_start=args.seed_start, sequences=args.sequences):
        nonlocal spec
        cfg = mcfg if local_hw is None else dataclasses.replace(mcfg, local_hw=tuple(local_hw))
        if real:
            srcs, spec = prepared_sources(data_cfg, "val", cfg, uplink)
        else:
            srcs = world_sources("val", sequences, args.frames, motion=motion, local_hw=cfg.local_hw,
                                 remote_hw=cfg.remote_hw, uplink_quality=uplink, cache_dir=args.cache_dir,
                                 label_hws=label_hws, start=seed_start, fps=fps)
        ds = eval_dataset(srcs, cfg, max_d)
        return ds, list(range(0, len(ds), args.frame_stride))

    ds, idx = dataset()
    fps = frame_rate(ds.sources) if real else DEFAULT_FPS
    if real and args.fps and any(abs(f - fps) > 1e-6 for f in args.fps):
        p.error(f"--fps {args.fps}: the real video plays at {fps:g} fps and is swept at that rate only; "
                "other rates need the synthetic world (drop --fps)")
    sweep_fps = [fps] if real else (args.fps or list(WORLD_FPS))
    frame_ms = frame_period_ms(fps)
    metric = (lambda r: subset_miou(r, spec.class_names)) if real else miou
    results = {"frame_ms": frame_ms, "fps": fps,
               "data": "the synthetic world" if not real else f"{spec.source} ({ds.sources[0].name}"
                       + (f" and {len(ds.sources) - 1} more" if len(ds.sources) > 1 else "") + ")",
               "setup": {
        "checkpoints": f"{args.checkpoints} (local {loaded.identity.get('local')}, remote "
                       f"{loaded.identity.get('remote')})",
        "model": f"{mcfg.name}: local {mcfg.local_hw[0]}x{mcfg.local_hw[1]} (C={local_stage1_channels(mcfg.local)}), "
                 f"remote {mcfg.remote_hw[0]}x{mcfg.remote_hw[1]}, K={mcfg.remote.num_frames}, "
                 f"{mcfg.remote.vit_attention} space-time attention"}}
    if real:
        results["classes"] = spec.class_names
        results["setup"].update({
            "validation": f"{spec.source} at {spec.root}: {len(ds.sources)} sequence(s) "
                          f"({', '.join(s.name for s in ds.sources[:4])}{' ...' if len(ds.sources) > 4 else ''}), "
                          f"labels {spec.encoding} -> trainIds, WebP q{uplink} uplink",
            "frame rate": f"{fps:g} fps: one frame = {frame_ms:.1f} ms (the source's own)",
            "classes the dataset labels": f"{len(spec.class_names)}: {', '.join(spec.class_names)}; "
                                          "'dataset classes' figures average these, the others all 19",
            "scored at": f"{mcfg.local_hw[0]}x{mcfg.local_hw[1]} (the local model's input): frames and "
                         f"labels fitted by the '{spec.resize}' resize policy, labels by nearest neighbour",
            "skipped": "; ".join(f"{k} sweep {v}" for k, v in WORLD_ONLY_SWEEPS.items())})
    else:
        results["setup"]["validation"] = (f"{args.sequences} val-range world seeds from offset {args.seed_start}, "
                                          f"{args.frames} frames each at motion 1, WebP q{uplink} uplink")
    results["setup"]["paper-preset rows"] = (f"{fps:g} fps, delays of {args.delays[0]}-{args.delays[-1]} frames "
                                             f"(1 frame = {frame_ms:.1f} ms), {len(idx)} scored frames")
    details = {}
    sweep = delay_sweep(local, dedelayed, ds, idx, args.delays, args.batch_size, details=details)
    results["delay_sweep"] = {"delays_frames": args.delays, "mIoU": sweep}
    if real:
        results["delay_sweep"]["mIoU_dataset_classes"] = {m: [metric(r) for r in rs] for m, rs in details.items()}
        results["delay_sweep"]["IoU"] = {m: [r["IoU"] for r in rs] for m, rs in details.items()}
        results["per_class_columns"] = _per_class_columns(args.delays)
    print("paper-preset delay sweep:", json.dumps(sweep), flush=True)
    if "live" not in skip:
        live = {}
        for rate in sweep_fps:
            delays = live_delays_frames(rate, args.max_delay_ms, args.delay_step_ms)
            lds, lidx = (ds, idx) if rate == fps and max(delays) <= paper_max_d else \
                dataset(fps=rate, max_d=max(delays))
            live_details = {}
            live[f"{rate:g}"] = {"fps": rate, "delays_frames": delays, "scored_frames": len(lidx),
                                 "delays_ms": [d * frame_period_ms(rate) for d in delays],
                                 "mIoU": delay_sweep(local, dedelayed, lds, lidx, delays, args.batch_size,
                                                     methods=LIVE_METHODS, details=live_details)}
            if real:
                live[f"{rate:g}"]["mIoU_dataset_classes"] = {m: [metric(r) for r in rs]
                                                             for m, rs in live_details.items()}
            print(f"live delay sweep at {rate:g} fps:", json.dumps(live[f"{rate:g}"]["mIoU"]), flush=True)
        results["live_delay_sweep"] = live
    if "jitter" not in skip:
        ins, obs = [d for d in range(0, 6)], list(range(0, args.max_observed + 1))
        matrix = jitter_matrix(dedelayed, ds, idx, ins, obs, args.batch_size, metric=metric)
        results["jitter"] = {"input_delays_frames": ins, "observed_delays_frames": obs, "matrix": matrix,
                             "metric": "dataset classes" if real else "19 classes",
                             "expected": {str(s): expected_under_jitter(matrix, ins, obs, s, frame_ms)
                                          for s in args.sigmas_ms}}
        print("jitter matrix done", flush=True)
    if "resolution" not in skip:
        res = {"local image": [], "dedelayed": []}
        hws = [_hw(r) for r in args.resolutions] if args.resolutions else \
            [scaled_local_hw(mcfg.local_hw, f) for f in RESOLUTION_SCALES]
        for hw in hws:
            rds, ridx = dataset(local_hw=hw, label_hws=[mcfg.local_hw])
            rds_label = _RelabelledDataset(rds, mcfg.local_hw)
            res_details = {}
            delay_sweep(local, dedelayed, rds_label, ridx, [3], args.batch_size,
                        methods=("local image", "dedelayed"), details=res_details)
            for m in res:
                res[m].append(metric(res_details[m][0]))
        results["resolution"] = {"local_hw": [list(h) for h in hws], "delay_frames": 3,
                                 "label_hw": list(mcfg.local_hw), "mIoU": res,
                                 "metric": "dataset classes" if real else "19 classes"}
        print("resolution sweep:", json.dumps(res), flush=True)
    if "motion" not in skip:
        per, adv = {}, []
        for motion in args.motions:
            mds, midx = (ds, idx) if motion == 1.0 else dataset(motion=motion)
            per[str(motion)] = delay_sweep(local, dedelayed, mds, midx, [3], args.batch_size)
            adv.append(per[str(motion)]["dedelayed"][0] - per[str(motion)]["remote image"][0])
        results["motion"] = {"motions": args.motions, "delay_frames": 3, "delay_index": 0,
                             "methods": list(METHODS), "mIoU": per, "advantage_over_remote_image": adv}
        print("motion sweep:", json.dumps(per), flush=True)
    if "generalisation" not in skip:
        delays = live_delays_frames(DEFAULT_FPS, args.max_delay_ms, args.delay_step_ms)
        per = {}
        for motion in args.motions:
            gds, gidx = dataset(motion=motion, max_d=max(delays), seed_start=args.generalisation_seed_start,
                                sequences=args.generalisation_sequences)
            per[str(motion)] = delay_sweep(local, dedelayed, gds, gidx, delays, args.batch_size,
                                           methods=("local image", "dedelayed"))
        results["generalisation"] = {"motions": args.motions, "seed_start": args.generalisation_seed_start,
                                     "sequences": args.generalisation_sequences, "fps": DEFAULT_FPS,
                                     "delays_frames": delays,
                                     "delays_ms": [d * frame_ms for d in delays], "mIoU": per}
        print("generalisation:", json.dumps(per), flush=True)
    results["checks"] = checks(results)
    results["setup"]["evaluation time"] = f"{time.time() - t0:.0f} s on {torch.get_num_threads()} CPU threads"
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(results, f, indent=1)
    plots = plot_all(results, args.out)
    text = markdown(results) + "\n## Plots\n\n" + "\n".join(
        f"![{os.path.basename(q)}]({os.path.basename(q)})" for q in plots) + "\n"
    with open(os.path.join(args.out, "report.md"), "w") as f:
        f.write(text)
    print(text)
    return 0


class _RelabelledDataset:
    """A delayed-clip dataset whose ``label`` is taken at a fixed size (Fig. 11 scores every local
    resolution against the same labels)."""

    def __init__(self, dataset, label_hw):
        self.dataset, self.label_hw, self.sources = dataset, tuple(label_hw), dataset.sources

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, key):
        sample = self.dataset[key]
        idx = key[0] if isinstance(key, tuple) else key
        src_i, t = self.dataset.index[idx]
        sample["label"] = torch.from_numpy(self.dataset.sources[src_i].label(t, self.label_hw).astype("int64"))
        return sample


if __name__ == "__main__":
    sys.exit(main())
