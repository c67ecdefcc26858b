"""World benchmark: ``python -m dedelayed_models.bench.world_bench --out bench_out/world.json``.

Measures, on one CPU thread:
- frames/s of ``WorldSequence.render`` (image + exact label) at 256x512 and 128x256;
- the stale-label curve: mIoU of a perfect label delivered D frames late, for D = 0..5 at
  30 fps, at motion 0.5 / 1 / 2 (the oracle bound of remote-only inference);
- the same curve seen through the local T1 grid (stride 8) at 64x128 and 96x192 (the bound of models
  whose logits live on the local T1 grid, as the shipped ones do), D = 0 and 3;
- the same curve at CamVid's delays (0-333 ms) for the world at motion 1 and, when
  ``../shared/data`` is present, for the real CamVid sequence, side by side;
- uplink WebP bytes per frame at quality 85 for 256x512 and 720x1280 world frames.
"""

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..data.camvid import CamVidSequence, camvid_shared_root
from ..data.timing import DEFAULT_FPS, delay_ms_to_frames, frame_period_ms
from ..data.uplink import WEBP_QUALITY, encode_uplink
from ..data.world import WorldSequence, world_seeds
from ..evaluation import stale_label_curve
from ..modeling import LOCAL_STAGE1_STRIDE

CAMVID_FPS_DELAYS_MS = [0.0, 66.7, 133.3, 200.0, 266.7, 333.3]


def render_fps(height_px: int, width_px: int, num_frames: int = 90, seed: int = None) -> float:
    seq = WorldSequence(world_seeds("val", 1)[0] if seed is None else seed, num_frames=num_frames + 1)
    seq.render(0, height_px, width_px)                       # builds the per-size noise once
    start = time.perf_counter()
    for t in range(1, num_frames + 1):
        seq.render(t, height_px, width_px)
    return num_frames / (time.perf_counter() - start)


def world_stale_curve(motion: float, delays_frames, num_seeds: int, num_frames: int, size_hw,
                      output_stride_px: int = 1) -> dict:
    """Mean over ``num_seeds`` validation clips of the stale-label mIoU per delay (frames)."""
    per_seed = []
    for seed in world_seeds("val", num_seeds):
        seq = WorldSequence(seed, num_frames=num_frames, motion=motion)
        curve = stale_label_curve(lambda t: seq.label(t, size_hw), num_frames, delays_frames,
                                  output_stride_px)
        per_seed.append([curve[d]["mIoU"] for d in sorted(curve)])
    return {int(d): round(float(v), 1) for d, v in zip(sorted(delays_frames), np.mean(per_seed, axis=0))}


def uplink_bytes(height_px: int, width_px: int, num_frames: int = 10) -> float:
    seq = WorldSequence(world_seeds("val", 1)[0], num_frames=num_frames * 10, camera_hw=(height_px, width_px))
    return float(np.mean([len(encode_uplink(seq.frame(t), WEBP_QUALITY)) for t in range(0, num_frames * 10, 10)]))


def run(quick: bool = False) -> dict:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    n_seeds, n_frames = (1, 40) if quick else (3, 120)
    result = {"threads": 1, "video_fps": DEFAULT_FPS, "webp_quality": WEBP_QUALITY}
    result["render_fps"] = {"256x512": round(render_fps(256, 512, 30 if quick else 150), 1),
                            "128x256": round(render_fps(128, 256, 30 if quick else 150), 1)}
    result["stale_label_miou_vs_delay_frames"] = {
        str(m): world_stale_curve(m, range(6), n_seeds, n_frames, (256, 512)) for m in (0.5, 1.0, 2.0)}
    result[f"stale_label_miou_on_stride{LOCAL_STAGE1_STRIDE}_grid"] = {
        f"{h}x{w}": world_stale_curve(1.0, [0, 3], n_seeds, n_frames, (h, w),
                                      output_stride_px=LOCAL_STAGE1_STRIDE)
        for h, w in ((64, 128), (96, 192))}
    world_ms = {}
    world_frames = [delay_ms_to_frames(ms) for ms in CAMVID_FPS_DELAYS_MS]
    curve = world_stale_curve(1.0, world_frames, n_seeds, n_frames, (256, 512))
    for ms, d in zip(CAMVID_FPS_DELAYS_MS, world_frames):
        world_ms[f"{round(d * frame_period_ms()):d}"] = curve[d]
    result["stale_label_miou_vs_delay_ms"] = {"world_motion_1": world_ms}
    root = camvid_shared_root()
    if root.is_dir():
        camvid = CamVidSequence(root)
        real = stale_label_curve(camvid.label, camvid.num_frames, range(6))
        result["stale_label_miou_vs_delay_ms"]["camvid_0016E5_real"] = {
            f"{round(d * frame_period_ms(camvid.fps)):d}": round(real[d]["mIoU"], 1) for d in range(6)}
    else:
        result["stale_label_miou_vs_delay_ms"]["camvid_0016E5_real"] = f"absent: {root}"
    result["uplink_webp_bytes_per_frame"] = {"256x512": round(uplink_bytes(256, 512)),
                                             "720x1280": round(uplink_bytes(720, 1280, 3))}
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description="Synthetic world speed, staleness and uplink size.")
    ap.add_argument("--out", default="bench_out/world.json")
    ap.add_argument("--quick", action="store_true", help="fewer frames and seeds (for smoke tests)")
    args = ap.parse_args(argv)
    result = run(args.quick)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
