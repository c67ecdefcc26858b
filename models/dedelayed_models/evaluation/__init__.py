"""Evaluation: mIoU (``SemSegEvaluator``), streaming pairing, stale-label curves."""

from .semseg import SemSegEvaluator, subset_miou
from .staleness import stale_label_curve
from .streaming import StreamingEvaluator, pair_streaming

__all__ = ["SemSegEvaluator", "subset_miou", "StreamingEvaluator", "pair_streaming", "stale_label_curve"]
