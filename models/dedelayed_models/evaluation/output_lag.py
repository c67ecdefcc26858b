"""How much of Dedelayed's offline gain survives the robot's own output lag.

``python -m dedelayed_models.evaluation.output_lag --seeds 1000000 --frames 400 --delays 2 3``

The offline sweeps (``sweeps.py``) score the output computed from frame t against the label of
frame t. A running robot cannot do that: its output for frame t is published some tens of ms
after t, so streaming scoring (``streaming.py``, what the demo reports) pairs the label of each
camera instant with the output of an *earlier* frame. Whenever the robot's latency is above zero
and below one frame period, that is exactly the previous frame: a lag of one frame period
(100 ms at 10 fps) for local-only and Dedelayed alike.

This script scores both ways on world drives (by default the demo's one: same seed, camera
size and rate; ``--seeds`` gives more, scored together as one set, since one 40 s drive is a
noisy yardstick for comparing checkpoints), for each delay D in frames:

- ``now``: output from frame t (context ending at t-D, ages to t) vs the label of frame t;
- ``lagged``: output from frame t-L (context ending at t-L-D, ages to t-L) vs the label of
  frame t, with L = ``--lag-frames`` (1 = the demo at 10 fps);
- ``lag-aware``: the image of frame t-L and the same context, but the remote asked to predict
  for the instant the output is used (ages to t, i.e. delay D + L): what the robot does when it
  adds its output lag to the delay it reports. A fusion trained with ``output_lag_prob`` > 0
  learned this case.

Methods: ``local image`` (local.pt, the offline report's baseline), ``fallback`` (the fused
checkpoint's own local model without z: the running robot's local-only output, which the demo
reports), ``remote predictive`` and ``dedelayed``. ``--dedelayed`` scores another fused
checkpoint, e.g. the streaming stage's (``configs/streaming.yaml``).

It prints one JSON line per delay and writes them to ``--json``.
"""

from __future__ import annotations

import argparse
import json
from typing import Dict, List, Sequence, Tuple

import torch
from torch.utils.data import default_collate

from ..data import world_seeds
from ..data.context_timing import ContextTiming
from ..data.uplink import WEBP_QUALITY
from ..data.world.sequence import WorldSequence
from ..data.world_sources import RenderedSource
from ..modeling import load_checkpoint
from ..shipped import SHIPPED_CHECKPOINT_DIR
from .semseg import SemSegEvaluator
from .sweeps import eval_dataset, fused_logits, score_logits

# "fallback" is the fused checkpoint's own local model without z: what the running robot outputs
# when it has no usable features, and what the demo reports as local-only.
METHODS = ("local image", "fallback", "remote predictive", "dedelayed")
IMAGE_ONLY = ("local image", "fallback")   # no remote input: lag-aware equals lagged
WHEN = ("now", "lagged", "lag-aware")


def lagged_pairs(dataset, lag_frames: int, stride: int) -> List[Tuple[int, int]]:
    """(index of frame t, index of frame t - lag) for every scored t with both in ``dataset``."""
    position = {key: i for i, key in enumerate(dataset.index)}
    pairs = [(position[(s, t)], position[(s, t - lag_frames)]) for s, t in dataset.index
             if (s, t - lag_frames) in position]
    return pairs[::stride]


@torch.no_grad()
def output_lag_sweep(local, dedelayed, dataset, pairs: Sequence[Tuple[int, int]],
                     delays: Sequence[int], lag_frames: int, batch_size: int = 8
                     ) -> Dict[int, Dict[str, float]]:
    """{D: {"<method> <when>": mIoU %}} for every method, WHEN and delay D [frames]."""
    k = dataset.k
    out = {}
    for delay in delays:
        specs = {"now": (0, ContextTiming.regular(delay, k)), "lagged": (1, ContextTiming.regular(delay, k)),
                 "lag-aware": (0, ContextTiming(delay + lag_frames, (1,) * (k - 1), image_lag_frames=lag_frames))}
        # The lag-aware image is the lagged one (frame t-L): image-only methods score once for both.
        ev = {f"{m} {when}": SemSegEvaluator() for m in METHODS for when in WHEN
              if not (m in IMAGE_ONLY and when == "lag-aware")}
        for s in range(0, len(pairs), batch_size):
            chunk = pairs[s:s + batch_size]
            label = None
            for when, (column, timing) in specs.items():
                b = default_collate([dataset[(pair[column], timing)] for pair in chunk])
                if label is None:
                    label = b["label"]        # "now" comes first: the label of frame t
                encoded = dedelayed.remote.encode_frames(b["remote_frames"])
                ages = b["frame_ages_ms"]
                if f"local image {when}" in ev:
                    score_logits(ev[f"local image {when}"], local(b["image"]), label)
                    score_logits(ev[f"fallback {when}"], dedelayed.local(b["image"]), label)
                score_logits(ev[f"remote predictive {when}"],
                             dedelayed.remote.segment_encoded(encoded, ages, tuple(label.shape[-2:])), label)
                score_logits(ev[f"dedelayed {when}"], fused_logits(dedelayed, b["image"], encoded, ages), label)
        out[int(delay)] = {k_: e.evaluate()["mIoU"] for k_, e in ev.items()}
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m dedelayed_models.evaluation.output_lag", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoints", default=None, help="folder with local.pt and dedelayed.pt "
                   "(default: the shipped checkpoints)")
    p.add_argument("--dedelayed", default=None, help="fused checkpoint to use instead of <checkpoints>/dedelayed.pt")
    p.add_argument("--seeds", "--seed", type=int, nargs="+", default=[world_seeds("val", 1)[0]],
                   help="world seeds of the drives, scored together (default: the demo's one)")
    p.add_argument("--frames", type=int, default=400, help="frames of each drive (the demo drives 400)")
    p.add_argument("--fps", type=float, default=10.0, help="camera rate [frames/s] (the demo's default)")
    p.add_argument("--camera-hw", default="auto", help="camera HxW; auto = the remote input size, as the demo")
    p.add_argument("--motion", type=float, default=1.0)
    p.add_argument("--delays", type=int, nargs="+", default=[2, 3], help="delays D [frames]")
    p.add_argument("--lag-frames", type=int, default=1, help="output lag L [frames]")
    p.add_argument("--frame-stride", type=int, default=2, help="score every n-th frame")
    p.add_argument("--cache-dir", default=None, help="rendered-frame cache")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    folder = args.checkpoints or SHIPPED_CHECKPOINT_DIR
    local = load_checkpoint(f"{folder}/local.pt", part="local").model
    loaded = load_checkpoint(args.dedelayed or f"{folder}/dedelayed.pt")
    dedelayed, cfg = loaded.model, loaded.config
    camera_hw = tuple(cfg.remote_hw) if args.camera_hw == "auto" else \
        tuple(int(v) for v in args.camera_hw.lower().split("x"))
    worlds = [WorldSequence(seed, num_frames=args.frames, motion=args.motion, fps=args.fps,
                            camera_hw=camera_hw) for seed in args.seeds]
    sources = [RenderedSource(world, local_hw=cfg.local_hw, remote_hw=cfg.remote_hw,
                              uplink_quality=WEBP_QUALITY, cache_dir=args.cache_dir) for world in worlds]
    dataset = eval_dataset(sources, cfg, max(args.delays) + args.lag_frames)
    pairs = lagged_pairs(dataset, args.lag_frames, args.frame_stride)
    print(f"{', '.join(w.name for w in worlds)}: {args.frames} frames each at {args.fps:g} fps, camera "
          f"{camera_hw[0]}x{camera_hw[1]}, lag {args.lag_frames} frame(s), {len(pairs)} scored frames",
          flush=True)
    results = output_lag_sweep(local, dedelayed, dataset, pairs, args.delays, args.lag_frames)
    for delay, row in results.items():
        gain_now = row["dedelayed now"] - row["local image now"]
        gain_lagged = row["dedelayed lagged"] - row["local image lagged"]
        gain_aware = row["dedelayed lag-aware"] - row["local image lagged"]
        # What the demo compares: Dedelayed against the same robot model without z.
        gain_robot = row["dedelayed lag-aware"] - row["fallback lagged"]
        print(json.dumps({"delay_frames": delay, "gain_now": round(gain_now, 2),
                          "gain_lagged": round(gain_lagged, 2), "gain_lag_aware": round(gain_aware, 2),
                          "gain_lag_aware_over_fallback": round(gain_robot, 2),
                          **{k: round(v, 2) for k, v in row.items()}}),
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"setup": vars(args), "scored_frames": len(pairs), "mIoU": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
