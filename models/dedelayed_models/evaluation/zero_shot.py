"""Zero-shot scoring of a Cityscapes network on CamVid: the pretrained weights' reference check.

Protocol (the one the shared ESPNetv2 weights were measured with): every frame resized to the
network input (bilinear), logits bilinearly resized to the label size, argmax over all outputs;
Cityscapes classes merged onto CamVid's 11 (road->Road, sidewalk->Pavement, building+wall->
Building, fence->Fence, pole->Pole, traffic light+sign->SignSymbol, vegetation+terrain->Tree,
sky->Sky, person->Pedestrian, rider+motorcycle+bicycle->Bicyclist, car+truck+bus+train->Car);
any other output (the authors' background) counts as a miss. One confusion matrix over all
frames, CamVid void ignored, mIoU over the 11 classes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..data.labels import read_label_file, read_rgb_png

CAMVID_CLASSES = ("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence",
                  "Car", "Pedestrian", "Bicyclist")
CAMVID_VOID = 11
_MISS = len(CAMVID_CLASSES)   # a predicted class CamVid has no name for

# Cityscapes trainId -> CamVid id (the protocol's merge); anything else is a miss.
CITYSCAPES_TO_CAMVID = {0: 3, 1: 4, 2: 1, 3: 1, 4: 7, 5: 2, 6: 6, 7: 6, 8: 5, 9: 5, 10: 0,
                        11: 9, 12: 10, 17: 10, 18: 10, 13: 8, 14: 8, 15: 8, 16: 8}


def _lut(num_outputs: int) -> np.ndarray:
    lut = np.full(num_outputs, _MISS, np.int64)
    for cs, cv in CITYSCAPES_TO_CAMVID.items():
        if cs < num_outputs:
            lut[cs] = cv
    return lut


@torch.no_grad()
def zero_shot_camvid(model: nn.Module, root, input_hw: Tuple[int, int]) -> Dict:
    """Score ``model`` ((B, 3, H, W) RGB [0, 1] -> (B, outputs, H, W) Cityscapes logits) on the
    CamVid folder ``root`` (``frames/`` + ``labels/``) at ``input_hw`` (H, W).
    Returns {"mIoU", "pixel_accuracy", "per_class": {name: IoU}, "frames"} in %."""
    frames = sorted((Path(root) / "frames").glob("*.png"))
    if not frames:
        raise FileNotFoundError(f"{root}/frames: no PNG frames (CamVid layout: frames/ + labels/)")
    model.eval()
    n = len(CAMVID_CLASSES) + 1
    confusion = np.zeros((n, n), np.int64)
    lut = None
    for path in frames:
        label = read_label_file(Path(root) / "labels" / path.name).astype(np.int64)
        image = cv2.resize(read_rgb_png(path), (int(input_hw[1]), int(input_hw[0])),
                           interpolation=cv2.INTER_LINEAR)
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0
        logits = F.interpolate(model(x), size=label.shape, mode="bilinear", align_corners=False)
        lut = _lut(logits.shape[1]) if lut is None else lut
        pred = lut[logits.argmax(1)[0].numpy()]
        keep = label != CAMVID_VOID
        confusion += np.bincount(label[keep] * n + pred[keep], minlength=n * n).reshape(n, n)
    k = len(CAMVID_CLASSES)
    tp = np.diag(confusion)[:k].astype(float)
    iou = tp / np.maximum(confusion[:k].sum(1) + confusion[:, :k].sum(0) - tp, 1)
    return {"mIoU": float(iou.mean() * 100), "pixel_accuracy": float(tp.sum() / confusion[:k].sum() * 100),
            "per_class": {c: float(v * 100) for c, v in zip(CAMVID_CLASSES, iou)}, "frames": len(frames)}
