"""Semantic-segmentation evaluator: integer confusion matrix, mIoU, per-class IoU, pixel accuracy.

Conventions (all numbers in percent, like the paper and Cityscapes):
- ground-truth pixels equal to ``ignore_id`` (255) are not counted at all;
- a prediction outside 0..num_classes-1 (e.g. 255, "no answer") on a counted pixel is a miss for
  the ground-truth class: it adds to that class's false negatives and to no class's false positives;
- a class absent from both ground truth and prediction (IoU 0/0) is reported as NaN and left out
  of the mean; a class predicted but absent from the ground truth has IoU 0 and is in the mean.
"""

import numpy as np
import torch

from ..classes import CLASS_NAMES, IGNORE_ID, NUM_CLASSES


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


class SemSegEvaluator:
    """``reset() / process(pred, gt) / evaluate()`` over trainId label maps."""

    def __init__(self, num_classes: int = NUM_CLASSES, ignore_id: int = IGNORE_ID,
                 class_names=CLASS_NAMES):
        if len(class_names) != num_classes:
            raise ValueError(f"{len(class_names)} class names for {num_classes} classes")
        self.num_classes, self.ignore_id, self.class_names = num_classes, ignore_id, tuple(class_names)
        self.reset()

    def reset(self):
        # Rows: ground truth 0..C-1. Columns: prediction 0..C-1, plus column C for "invalid".
        self.confusion = np.zeros((self.num_classes, self.num_classes + 1), dtype=np.int64)

    def process(self, pred, gt):
        """Add one or a batch of images. pred, gt: (H, W) or (B, H, W) integer trainIds."""
        pred, gt = _as_numpy(pred).astype(np.int64), _as_numpy(gt).astype(np.int64)
        if pred.shape != gt.shape:
            raise ValueError(f"prediction shape {pred.shape} does not match ground truth {gt.shape}")
        valid_gt = gt != self.ignore_id
        bad = valid_gt & ((gt < 0) | (gt >= self.num_classes))
        if bad.any():
            raise ValueError(f"ground truth holds values {np.unique(gt[bad])[:5].tolist()} outside "
                             f"0..{self.num_classes - 1} and {self.ignore_id}")
        g = gt[valid_gt]
        p = pred[valid_gt]
        p = np.where((p >= 0) & (p < self.num_classes), p, self.num_classes)
        k = self.num_classes + 1
        self.confusion += np.bincount(g * k + p, minlength=self.num_classes * k).reshape(self.num_classes, k)

    def evaluate(self) -> dict:
        """{'mIoU', 'pixel_accuracy', 'IoU': {name: value or NaN}, 'num_pixels'} in percent."""
        conf = self.confusion
        tp = np.diag(conf[:, :self.num_classes]).astype(np.float64)
        gt_count = conf.sum(axis=1).astype(np.float64)
        pred_count = conf[:, :self.num_classes].sum(axis=0).astype(np.float64)
        union = gt_count + pred_count - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            iou = np.where(union > 0, tp / union, np.nan)
        total = conf.sum()
        return {
            "mIoU": float(np.nanmean(iou) * 100) if np.any(union > 0) else float("nan"),
            "pixel_accuracy": float(tp.sum() / total * 100) if total else float("nan"),
            "IoU": {name: float(v * 100) for name, v in zip(self.class_names, iou)},
            "num_pixels": int(total),
        }


def subset_miou(result: dict, class_names) -> float:
    """mIoU (%) over ``class_names`` only, from an ``evaluate()`` dict (NaN classes left out): a
    dataset's own metric, where a class it never labels must not count as IoU 0. Pixels predicted
    as another class still count as misses of their true class."""
    values = [result["IoU"][n] for n in class_names if not np.isnan(result["IoU"][n])]
    return float(np.mean(values)) if values else float("nan")
