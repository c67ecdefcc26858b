"""``python -m dedelayed_models.pseudo_label --frames DIR --out DIR [--teacher NAME_OR_PATH]
[--input-hw HxW] [--min-confidence P] [--fps F] [--limit N]``.

Labels a folder of unlabelled frames with a pretrained teacher, as the Dedelayed paper labelled
BDD100K, so that a robot's own video trains like labelled video::

    python -m dedelayed_models.pseudo_label --frames my_drive_raw --out my_drive --fps 10
    python -m dedelayed_models.train --config fusion --set data.source=frames data.root=my_drive

Input: ``DIR/frames/`` or ``DIR`` itself, PNG/JPG frames whose names sort in time order.
Teacher: an ESPNetv2 Cityscapes entry of ``modeling/pretrained.py`` (default
``espnetv2_s2.0_cityscapes_1024x512``, 59.2 mIoU zero-shot on the CamVid clip at 480x640), or a
file holding such a state dict (its width is read from the tensor shapes). Each frame is squashed
whole to ``--input-hw`` (H x W, multiples of 16; pick the frames' aspect ratio), the 20 logits
are resized bilinearly back to the frame's own size and the argmax is the label.

Output, the ``frames`` layout of ``data/frames.py``::

    OUT/frames/<name>.<ext>    the frames (hard-linked where possible, else copied)
    OUT/labels/<name>.png      uint8 Cityscapes trainIds 0-18 at the frame's resolution; 255 where
                               the teacher's softmax confidence is below --min-confidence or
                               its argmax is its "background" output (19)
    OUT/dataset.yaml           label_encoding: trainid, and fps [Hz] if --fps is given
    OUT/pseudo_label.json      teacher, its sha256 prefix, input size, threshold, and the share
                               of pixels kept (labelled, not 255) per frame and in all, 0-1

Why 0.9 by default: 255 is void, which the training loss ignores, so dropping a pixel costs only
supervision, while keeping a wrong label teaches the student the teacher's mistake. The
teacher's unsure pixels are mostly class borders, thin objects and what Cityscapes lacks.
Measured on the CamVid clip (all 101 frames, s=2.0 teacher at 480x640, Cityscapes classes merged
into CamVid's 11): of the pixels CamVid labels, 0.9 keeps 76 % and 98.1 % of those agree with
CamVid, against 89.5 % of all of them (0.8: 83 % kept, 96.6 %; 0.95: 71 %, 98.8 %); errors fall
five-fold for a quarter fewer labels. ``test/test_pseudo_label.py`` checks it on a few frames.

Resumable: frames whose label exists are skipped, and every file is written to a temporary name
and renamed, so an interrupted run continues where it stopped; resuming with another teacher,
input size or threshold is refused, so one folder never mixes two teachers' labels.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import yaml

from .classes import IGNORE_ID, NUM_CLASSES
from .data.datasets import DATASET_YAML, read_dataset_yaml
from .data.frames import FRAME_SUFFIXES
from .data.labels import read_label_file, read_rgb_png
from .data.resize import fit_image
from .modeling.espnetv2 import ESPNetv2Segmentation, check_input_hw
from .modeling.pretrained import PRETRAINED, load_pretrained, resolve, sha256_prefix

DEFAULT_TEACHER = "espnetv2_s2.0_cityscapes_1024x512"
DEFAULT_INPUT_HW = (480, 640)
DEFAULT_MIN_CONFIDENCE = 0.9
REPORT = "pseudo_label.json"


def find_frames(frames_dir, limit: int | None = None) -> list[Path]:
    """The frame images of ``frames_dir/frames/`` or else ``frames_dir``, sorted by name."""
    root = Path(frames_dir)
    folder = root / "frames" if (root / "frames").is_dir() else root
    if not folder.is_dir():
        raise FileNotFoundError(f"--frames {root}: no such folder")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES)
    if not paths:
        raise FileNotFoundError(f"--frames {root}: no {'/'.join(FRAME_SUFFIXES)} images in {folder}; "
                                f"point --frames at the folder that holds them or their frames/ folder")
    stems = [p.stem for p in paths]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise ValueError(f"--frames {folder}: names {twice[:3]} occur with two extensions; a label is "
                         f"named by the frame's name without extension, so keep one file per name")
    return paths[:limit] if limit else paths


def load_teacher(name_or_path: str, device: str = "cpu"):
    """(ESPNetv2Segmentation in eval mode, sha256 prefix of its file) for a registry name or a file."""
    try:
        path, entry = resolve(name_or_path)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"--teacher: {e}") from None
    if entry is not None:
        width, sha = entry.width, entry.sha256_prefix
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
        widths = sorted({e.width for e in PRETRAINED.values()})
        fits = [w for w in widths if _fits(ESPNetv2Segmentation(w).state_dict(), state)]
        if not fits:
            raise ValueError(f"--teacher {path}: not an ESPNetv2Segmentation state dict of width "
                             f"{widths} with {NUM_CLASSES + 1} outputs; pass one of {sorted(PRETRAINED)} "
                             f"or such a file")
        width, sha = fits[0], sha256_prefix(path)
    model = ESPNetv2Segmentation(width)
    load_pretrained(model, str(path) if entry is None else name_or_path)
    return model.eval().to(device), sha


def _fits(own: dict[str, torch.Tensor], state) -> bool:
    return (isinstance(state, dict) and own.keys() == state.keys()
            and all(own[k].shape == state[k].shape for k in own))


@torch.inference_mode()
def label_frame(model, rgb: np.ndarray, input_hw, min_confidence: float) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) uint8 trainIds, 255 where unsure or background."""
    device = next(model.parameters()).device
    x = torch.from_numpy(fit_image(rgb, input_hw, "squash")).to(device)
    x = x.permute(2, 0, 1)[None].float() / 255.0
    logits = F.interpolate(model(x), size=rgb.shape[:2], mode="bilinear", align_corners=False)
    confidence, label = F.softmax(logits[0], dim=0).max(0)
    label[(confidence < min_confidence) | (label >= NUM_CLASSES)] = IGNORE_ID
    return label.to(torch.uint8).cpu().numpy()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")        # not *.png: a reader never lists it
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _place_frame(src: Path, dst: Path) -> None:
    if dst.exists() or (dst.parent.resolve() == src.parent.resolve()):
        return
    tmp = dst.with_name(dst.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:                                 # another file system, or not permitted
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _kept(label: np.ndarray) -> float:
    return float(np.count_nonzero(label != IGNORE_ID)) / label.size


def pseudo_label(frames_dir, out_dir, teacher: str = DEFAULT_TEACHER, input_hw=DEFAULT_INPUT_HW,
                 min_confidence: float = DEFAULT_MIN_CONFIDENCE, fps: float | None = None,
                 limit: int | None = None, progress: bool = True) -> dict:
    """Label the frames of ``frames_dir`` into ``out_dir`` (layout above); returns the report."""
    check_input_hw(input_hw, "--input-hw")
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"--min-confidence {min_confidence}: a softmax probability in [0, 1], e.g. 0.9")
    paths = find_frames(frames_dir, limit)
    model, sha = load_teacher(teacher, "cuda" if torch.cuda.is_available() else "cpu")
    out = Path(out_dir)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    (out / "labels").mkdir(exist_ok=True)
    settings = {"teacher": teacher if teacher in PRETRAINED else str(Path(teacher).resolve()),
                "teacher_sha256_prefix": sha, "input_hw": [int(v) for v in input_hw],
                "min_confidence": float(min_confidence)}
    if (out / REPORT).is_file():
        before = {k: json.loads((out / REPORT).read_text()).get(k) for k in settings}
        if before != settings:
            raise ValueError(f"{out}: labelled before with {before}, now {settings}; use another --out, "
                             f"or delete {out / 'labels'} and {out / REPORT} to relabel")
    _write_atomic(out / REPORT, json.dumps({**settings, "complete": False}, indent=1).encode())
    declared = read_dataset_yaml(out)
    declared.update({"label_encoding": "trainid", **({"fps": float(fps)} if fps else {})})
    _write_atomic(out / DATASET_YAML, yaml.safe_dump(declared, sort_keys=False).encode())

    done = [p for p in paths if (out / "labels" / f"{p.stem}.png").is_file()]
    if done:
        print(f"skipping {len(done)} of {len(paths)} frames already labelled in {out / 'labels'}")
    kept = {}
    pixels = kept_pixels = 0
    if progress:
        from tqdm import tqdm
        paths = tqdm(paths, desc="pseudo-label", unit="frame", dynamic_ncols=True)
    for src in paths:
        _place_frame(src, out / "frames" / src.name)
        label_path = out / "labels" / f"{src.stem}.png"
        if label_path.is_file():
            label = read_label_file(label_path)
        else:
            label = label_frame(model, read_rgb_png(src), input_hw, min_confidence)
            ok, png = cv2.imencode(".png", label)
            if not ok:
                raise OSError(f"{label_path}: PNG encoding failed")
            _write_atomic(label_path, png.tobytes())
        kept[src.stem] = round(_kept(label), 4)
        pixels += label.size
        kept_pixels += np.count_nonzero(label != IGNORE_ID)
    report = {**settings, "complete": True, "frames": len(kept), "skipped": len(done),
              "kept_share_total": round(kept_pixels / pixels, 4), "kept_share": kept}
    _write_atomic(out / REPORT, json.dumps(report, indent=1).encode())
    return report


def _hw(text: str):
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HxW, e.g. 480x640") from None
    return h, w


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="dedelayed-pseudo-label", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", required=True, help="folder of frames, or holding frames/")
    p.add_argument("--out", required=True, help="output folder (frames layout); rerun to resume")
    p.add_argument("--teacher", default=DEFAULT_TEACHER,
                   help=f"pretrained entry ({', '.join(sorted(PRETRAINED))}) or a state-dict file")
    p.add_argument("--input-hw", type=_hw, default=DEFAULT_INPUT_HW, metavar="HxW",
                   help="teacher input size, multiples of 16 (default 480x640)")
    p.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE, metavar="P",
                   help="softmax probability below which a pixel is void, 255 (default 0.9)")
    p.add_argument("--fps", type=float, default=None, help="frame rate [Hz] for dataset.yaml")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="label the first N frames only")
    args = p.parse_args(argv)
    if args.fps is not None and args.fps <= 0:
        p.error(f"--fps {args.fps}: a positive frame rate [Hz], e.g. 15")
    if args.limit is not None and args.limit <= 0:
        p.error(f"--limit {args.limit}: a positive number of frames")
    try:
        report = pseudo_label(args.frames, args.out, args.teacher, args.input_hw, args.min_confidence,
                              args.fps, args.limit)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    print(f"{report['frames']} frames ({report['skipped']} already labelled) in {args.out}; "
          f"{100 * report['kept_share_total']:.1f} % of pixels labelled, the rest void (255)")
    if not args.fps and "fps" not in read_dataset_yaml(Path(args.out)):
        print("no --fps: training needs the frame rate, --set data.fps=F (or rerun with --fps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
