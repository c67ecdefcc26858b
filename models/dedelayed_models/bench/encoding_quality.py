"""mIoU versus bytes per FeatureMap for each downlink encoding, on the synthetic validation set.

    python -m dedelayed_models.bench.encoding_quality --checkpoint dedelayed.pt --out bench_out/encodings.json

For every scored frame the remote features z (K frames ending at t - D, delay input D) are
computed once, then sent through each encoding exactly as the link does (``encode_features`` ->
``decode_features``) and fused by the local model; mIoU is scored against frame t's exact label.
float32 is the reference; the goal (deploy_bench.py budgets) is <= 1/16 of its bytes for <= 0.5 mIoU loss.
Needs a *trained* dedelayed checkpoint: on random weights the numbers mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Dict, Sequence

import torch

from ..data.uplink import WEBP_QUALITY
from ..data.world_sources import world_sources
from ..evaluation.semseg import SemSegEvaluator
from ..evaluation.sweeps import _batches, eval_dataset
from ..modeling import load_checkpoint
from ..transport.feature_codec import ENCODINGS, FLOAT32, decode_features, encode_features
from .deploy_bench import BUDGET_FEATURE_BYTES_FRACTION, BUDGET_FEATURE_MIOU_LOSS


def _through_link(z: torch.Tensor, encoding: str) -> torch.Tensor:
    """(B, C, h, w) -> the same after encode + decode per sample, as the robot receives it."""
    return torch.stack([torch.from_numpy(decode_features(encode_features(s.numpy(), encoding)))
                        for s in z])


@torch.no_grad()
def encoding_miou(model, dataset, indices: Sequence[int], delay_frames: int,
                  encodings: Sequence[str] = ENCODINGS, batch_size: int = 8) -> Dict[str, Dict]:
    """{encoding: {"mIoU", "bytes", "fraction_of_float32", "miou_loss"}} for a DedelayedModel."""
    evaluators = {e: SemSegEvaluator() for e in encodings}
    nbytes: Dict[str, int] = {}
    for batch in _batches(dataset, indices, delay_frames, batch_size):
        image, frames, label = batch["image"], batch["remote_frames"], batch["label"]
        grid = tuple(model.local.stage1_shape(tuple(image.shape[-2:]))[1:])
        z = model.remote.features(frames, batch["frame_ages_ms"], grid)
        for enc in encodings:
            nbytes[enc] = encode_features(z[0].numpy(), enc).nbytes
            logits = model.local(image, _through_link(z, enc))
            if tuple(logits.shape[-2:]) != tuple(label.shape[-2:]):
                logits = torch.nn.functional.interpolate(logits, size=tuple(label.shape[-2:]),
                                                         mode="bilinear", align_corners=False)
            evaluators[enc].process(logits.argmax(1), label)
    out = {e: {"mIoU": evaluators[e].evaluate()["mIoU"], "bytes": nbytes[e]} for e in encodings}
    ref = out.get(FLOAT32)
    for row in out.values():
        if ref is not None:
            row["fraction_of_float32"] = row["bytes"] / ref["bytes"]
            row["miou_loss"] = ref["mIoU"] - row["mIoU"]
            row["meets_goal"] = (row["fraction_of_float32"] <= BUDGET_FEATURE_BYTES_FRACTION
                                 and row["miou_loss"] <= BUDGET_FEATURE_MIOU_LOSS)
    return out


def run(checkpoint: str, sequences: int = 4, frames: int = 24, delay_frames: int = 3,
        frame_stride: int = 2, seed_start: int = 100, batch_size: int = 8) -> Dict:
    loaded = load_checkpoint(checkpoint)
    if loaded.kind != "dedelayed":
        raise ValueError(f"checkpoint {checkpoint} holds a '{loaded.kind}' model; the encoding "
                         "measurement needs a dedelayed (fusion-stage) checkpoint")
    model, cfg = loaded.model.eval(), loaded.config
    sources = world_sources("val", sequences, frames, motion=1.0, local_hw=cfg.local_hw,
                            remote_hw=cfg.remote_hw, uplink_quality=WEBP_QUALITY, start=seed_start)
    dataset = eval_dataset(sources, cfg, delay_frames)
    indices = list(range(0, len(dataset), frame_stride))
    rows = encoding_miou(model, dataset, indices, delay_frames, batch_size=batch_size)
    return {"checkpoint": os.path.abspath(checkpoint), "preset": cfg.name,
            "identity": loaded.identity, "delay_frames": delay_frames,
            "validation": f"{sequences} val world seeds from {seed_start}, {frames} frames each, "
                          f"{len(indices)} scored frames, WebP q{WEBP_QUALITY} uplink",
            "goal": {"bytes_fraction": BUDGET_FEATURE_BYTES_FRACTION,
                     "miou_loss": BUDGET_FEATURE_MIOU_LOSS},
            "encodings": rows,
            "any_meets_goal": any(r.get("meets_goal", False) for r in rows.values())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True, help="trained dedelayed (fusion-stage) .pt")
    ap.add_argument("--sequences", type=int, default=4)
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--delay-frames", type=int, default=3)
    ap.add_argument("--out", default="bench_out/encodings.json")
    args = ap.parse_args(argv)
    result = run(args.checkpoint, args.sequences, args.frames, args.delay_frames)
    for enc, row in result["encodings"].items():
        print(f"{enc:8s} {row['bytes']:9d} B  mIoU {row['mIoU']:6.2f}  "
              f"loss {row.get('miou_loss', 0):+.2f}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
