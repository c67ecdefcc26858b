"""Evaluation: mIoU (``SemSegEvaluator``), streaming pairing, stale-label curves."""

from .semseg import SemSegEvaluator
from .staleness import stale_label_curve
from .streaming import StreamingEvaluator, pair_streaming

__all__ = ["SemSegEvaluator", "StreamingEvaluator", "pair_streaming", "stale_label_curve"]
