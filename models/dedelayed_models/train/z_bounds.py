"""Measure the plausibility bounds of z for a trained checkpoint and store them beside it.

    python -m dedelayed_models.train.z_bounds --checkpoint models/dedelayed_models/checkpoints/dedelayed.pt

Runs the checkpoint's remote model on training-split world drives (or, with ``--dataset SOURCE
--data KEY=VALUE ...``, the training frames of real video, e.g. ``--dataset camvid --data
"train_frame_range=[0,60]" resize=squash``) at every delay of 0 to ``--max-delay-frames`` and
writes the per-channel minimum and maximum of z to
``<checkpoint stem>.z_bounds.json`` (``transport.z_bounds``). No training; a few seconds on CPU.
"""

from __future__ import annotations

import argparse
from typing import Sequence

import numpy as np
import torch

from ..data import world_sources
from ..data.datasets import SOURCES, prepared_sources
from ..data.uplink import WEBP_QUALITY
from ..evaluation.sweeps import _batches, eval_dataset
from ..modeling import load_checkpoint
from ..transport.z_bounds import ZBounds, save_z_bounds, sidecar_path
from .config import data_section


@torch.no_grad()
def measure_z_bounds(checkpoint: str, sequences: int = 4, frames: int = 24,
                     max_delay_frames: int = 6, batch_size: int = 8, dataset: str = "world",
                     data: Sequence[str] = ()) -> ZBounds:
    loaded = load_checkpoint(checkpoint)
    if loaded.kind != "dedelayed":
        raise ValueError(f"{checkpoint} holds a '{loaded.kind}' model; z bounds need the "
                         "dedelayed (fusion-stage) checkpoint the robot and cloud share")
    model, cfg = loaded.model.eval(), loaded.config
    model.remote.use_frame_cache()   # every frame is seen at every delay; the backbone is frozen
    if dataset == "world":
        sources = world_sources("train", sequences, frames, motion=1.0, local_hw=cfg.local_hw,
                                remote_hw=cfg.remote_hw, uplink_quality=WEBP_QUALITY)
        source = f"{sequences} train world drives x {frames} frames"
    else:
        sources, _ = prepared_sources(data_section(dataset, data), "train", cfg, WEBP_QUALITY)
        source = f"{dataset} training frames ({', '.join(s.name for s in sources[:3])})"
    dataset = eval_dataset(sources, cfg, max_delay_frames)
    low = high = None
    for delay in range(max_delay_frames + 1):
        for batch in _batches(dataset, list(range(len(dataset))), delay, batch_size):
            grid = tuple(model.local.stage1_shape(tuple(batch["image"].shape[-2:]))[1:])
            z = model.remote.features(batch["remote_frames"], batch["frame_ages_ms"], grid)
            per_channel = z.transpose(0, 1).reshape(z.shape[1], -1)
            b_low, b_high = per_channel.min(1).values.numpy(), per_channel.max(1).values.numpy()
            low = b_low if low is None else np.minimum(low, b_low)
            high = b_high if high is None else np.maximum(high, b_high)
    source += f", delays 0-{max_delay_frames} frames, WebP q85"
    return ZBounds(loaded.identity["remote"], low.astype(np.float32), high.astype(np.float32),
                   source)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--sequences", type=int, default=4)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--max-delay-frames", type=int, default=6)
    parser.add_argument("--dataset", default="world", choices=SOURCES,
                        help="world drives, or the training frames of a real source")
    parser.add_argument("--data", nargs="*", default=[], metavar="KEY=VALUE",
                        help="real source: training config data keys without 'data.'")
    args = parser.parse_args(argv)
    bounds = measure_z_bounds(args.checkpoint, args.sequences, args.frames, args.max_delay_frames,
                              dataset=args.dataset, data=args.data)
    path = sidecar_path(args.checkpoint)
    save_z_bounds(path, bounds)
    print(f"{path}: {len(bounds.low)} channels, low {bounds.low.min():.3g}..{bounds.low.max():.3g}, "
          f"high {bounds.high.min():.3g}..{bounds.high.max():.3g} ({bounds.source})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
