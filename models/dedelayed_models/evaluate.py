"""``python -m dedelayed_models.evaluate --checkpoints DIR --out DIR`` (``dedelayed-eval``).

Evaluates the shipped ``local.pt`` + ``dedelayed.pt`` on validation-range world seeds (disjoint
from training) and writes ``report.json``, ``report.md`` and the PNG plots of Figs. 6, 9, 10, 11
and the motion sweep. See ``evaluation/sweeps.py`` for how each method is computed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import torch

from .data import frame_period_ms
from .evaluation.report import markdown, plot_all
from .evaluation.sweeps import (METHODS, delay_sweep, eval_dataset, expected_under_jitter,
                                jitter_matrix)
from .modeling import load_checkpoint, scaled_local_hw
from .train.data import world_sources


RESOLUTION_SCALES = (0.5, 0.75, 1.0, 1.5)   # Fig. 11 default: local input sizes relative to local_hw


def _hw(text: str):
    h, w = text.lower().split("x")
    return int(h), int(w)


def checks(sweep, motion=None):
    """The issue's four targets, measured: [{target, measured, met}]."""
    m, delays = sweep["mIoU"], sweep["delays_frames"]
    at = {d: i for i, d in enumerate(delays)}
    out = []
    if all(d in at for d in range(1, 6)):
        gaps = [m["dedelayed"][at[d]] - max(m["local image"][at[d]], m["remote image"][at[d]],
                                             m["remote predictive"][at[d]]) for d in range(1, 6)]
        out.append({"target": "dedelayed >= max(local image, remote image, remote predictive) at delays 1-5",
                    "measured": "margins " + ", ".join(f"{g:+.2f}" for g in gaps), "met": min(gaps) >= 0})
    if 3 in at:
        g = m["dedelayed"][at[3]] - m["local image"][at[3]]
        out.append({"target": "dedelayed - local image >= 3 mIoU at 3 frames", "measured": f"{g:+.2f}",
                    "met": g >= 3})
    if 0 in at and 3 in at:
        g = m["remote image"][at[0]] - m["remote image"][at[3]]
        out.append({"target": "remote image loses >= 3 mIoU from 0 to 3 frames", "measured": f"{g:.2f}",
                    "met": g >= 3})
    if motion:
        adv = motion["advantage_over_remote_image"]
        out.append({"target": "dedelayed advantage over remote image grows with motion",
                    "measured": " -> ".join(f"{a:+.2f}" for a in adv) + f" (motion {motion['motions']})",
                    "met": all(b >= a for a, b in zip(adv, adv[1:]))})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dedelayed-eval", description=__doc__)
    p.add_argument("--checkpoints", required=True, help="folder with local.pt and dedelayed.pt")
    p.add_argument("--out", required=True, help="folder for report.json/.md and PNGs")
    p.add_argument("--sequences", type=int, default=16, help="val world sequences")
    p.add_argument("--frames", type=int, default=32, help="frames per sequence")
    p.add_argument("--frame-stride", type=int, default=2, help="score every n-th usable frame")
    p.add_argument("--seed-start", type=int, default=100,
                   help="offset into the val seed range (training validation used the first seeds)")
    p.add_argument("--delays", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5], help="frames")
    p.add_argument("--max-observed", type=int, default=7, help="largest observed delay in Fig. 9")
    p.add_argument("--sigmas-ms", type=float, nargs="+", default=[0.0, 5.0, 15.0, 33.0, 50.0])
    p.add_argument("--resolutions", nargs="+", default=None, metavar="HxW",
                   help="local input sizes of Fig. 11 (default: 0.5, 0.75, 1 and 1.5 x the model's "
                        "local_hw, rounded to multiples of 8)")
    p.add_argument("--motions", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    p.add_argument("--skip", nargs="*", default=[], choices=["jitter", "resolution", "motion"])
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (more thrash on a shared CPU)")
    p.add_argument("--cache-dir", default=None, help="rendered-frame cache (train/data.py)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    local = load_checkpoint(os.path.join(args.checkpoints, "local.pt"), part="local").model
    loaded = load_checkpoint(os.path.join(args.checkpoints, "dedelayed.pt"))
    dedelayed, mcfg = loaded.model, loaded.config
    uplink = 85
    max_d = max(max(args.delays), 0 if "jitter" in args.skip else args.max_observed)

    def dataset(motion=1.0, local_hw=None, label_hws=()):
        cfg = mcfg if local_hw is None else dataclasses.replace(mcfg, local_hw=tuple(local_hw))
        srcs = world_sources("val", args.sequences, args.frames, motion=motion, local_hw=cfg.local_hw,
                             remote_hw=cfg.remote_hw, uplink_quality=uplink, cache_dir=args.cache_dir,
                             label_hws=label_hws, start=args.seed_start)
        ds = eval_dataset(srcs, cfg, max_d)
        return ds, list(range(0, len(ds), args.frame_stride))

    frame_ms = frame_period_ms(30.0)
    ds, idx = dataset()
    results = {"frame_ms": frame_ms, "setup": {
        "checkpoints": f"{args.checkpoints} (local {loaded.identity.get('local')}, remote "
                       f"{loaded.identity.get('remote')})",
        "model": f"{mcfg.name}: local {mcfg.local_hw[0]}x{mcfg.local_hw[1]}, remote "
                 f"{mcfg.remote_hw[0]}x{mcfg.remote_hw[1]}, K={mcfg.remote.num_frames}",
        "validation": f"{args.sequences} val-range world seeds from offset {args.seed_start}, "
                      f"{args.frames} frames each, {len(idx)} scored frames, WebP q{uplink} uplink",
        "delay unit": f"1 frame = {frame_ms:.1f} ms (30 fps)"}}
    sweep = delay_sweep(local, dedelayed, ds, idx, args.delays, args.batch_size)
    results["delay_sweep"] = {"delays_frames": args.delays, "mIoU": sweep}
    print("delay sweep:", json.dumps(sweep), flush=True)
    if "jitter" not in args.skip:
        ins, obs = [d for d in range(0, 6)], list(range(0, args.max_observed + 1))
        matrix = jitter_matrix(dedelayed, ds, idx, ins, obs, args.batch_size)
        results["jitter"] = {"input_delays_frames": ins, "observed_delays_frames": obs, "matrix": matrix,
                             "expected": {str(s): expected_under_jitter(matrix, ins, obs, s, frame_ms)
                                          for s in args.sigmas_ms}}
        print("jitter matrix done", flush=True)
    if "resolution" not in args.skip:
        res = {"local image": [], "dedelayed": []}
        hws = [_hw(r) for r in args.resolutions] if args.resolutions else \
            [scaled_local_hw(mcfg.local_hw, f) for f in RESOLUTION_SCALES]
        for hw in hws:
            rds, ridx = dataset(local_hw=hw, label_hws=[mcfg.local_hw])
            rds_label = _RelabelledDataset(rds, mcfg.local_hw)
            s = delay_sweep(local, dedelayed, rds_label, ridx, [3], args.batch_size,
                            methods=("local image", "dedelayed"))
            for m in res:
                res[m].append(s[m][0])
        results["resolution"] = {"local_hw": [list(h) for h in hws], "delay_frames": 3,
                                 "label_hw": list(mcfg.local_hw), "mIoU": res}
        print("resolution sweep:", json.dumps(res), flush=True)
    if "motion" not in args.skip:
        per, adv = {}, []
        for motion in args.motions:
            mds, midx = dataset(motion=motion)
            per[str(motion)] = delay_sweep(local, dedelayed, mds, midx, [3], args.batch_size)
            adv.append(per[str(motion)]["dedelayed"][0] - per[str(motion)]["remote image"][0])
        results["motion"] = {"motions": args.motions, "delay_frames": 3, "delay_index": 0,
                             "methods": list(METHODS), "mIoU": per, "advantage_over_remote_image": adv}
        print("motion sweep:", json.dumps(per), flush=True)
    results["checks"] = checks(results["delay_sweep"], results.get("motion"))
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
