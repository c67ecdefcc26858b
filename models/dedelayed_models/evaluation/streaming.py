"""Streaming evaluation (Li et al. 2020, "Towards Streaming Perception").

Each ground-truth instant is scored against the *latest output finished at or before it*, no
matter which input frame that output was computed from: an answer computed from an old frame
describes an old world, which is exactly the cost of delay that streaming accuracy measures.
Ground-truth instants before the first output are, by default, scored as all-wrong (every valid
pixel a miss) and also counted in ``num_unanswered``; ``unanswered="skip"`` leaves them out.
"""

import bisect

import numpy as np

from .semseg import SemSegEvaluator


def pair_streaming(gt_times_s, output_finished_s) -> list:
    """For each ground-truth time, the index of the latest output with finished <= it, else None.

    ``output_finished_s`` need not be sorted; ties at the same finish time go to the output
    given last.
    """
    order = sorted(range(len(output_finished_s)), key=lambda i: (output_finished_s[i], i))
    finished = [output_finished_s[i] for i in order]
    result = []
    for t in gt_times_s:
        k = bisect.bisect_right(finished, t)
        result.append(order[k - 1] if k > 0 else None)
    return result


class StreamingEvaluator:
    """Streaming mIoU over one or more streams; same numbers as ``SemSegEvaluator``."""

    def __init__(self, unanswered: str = "wrong", **evaluator_kwargs):
        if unanswered not in ("wrong", "skip"):
            raise ValueError(f"unanswered must be 'wrong' or 'skip', got {unanswered!r}")
        self.unanswered = unanswered
        self.evaluator = SemSegEvaluator(**evaluator_kwargs)
        self.reset()

    def reset(self):
        self.evaluator.reset()
        self.num_instants = 0
        self.num_unanswered = 0

    def process_stream(self, gt_times_s, gts, output_finished_s, preds):
        """gt_times_s: (N,) s; gts: N label maps (H, W); output_finished_s: (M,) s; preds: M maps."""
        if len(gt_times_s) != len(gts) or len(output_finished_s) != len(preds):
            raise ValueError("each time needs exactly one label map")
        for gt, j in zip(gts, pair_streaming(gt_times_s, output_finished_s)):
            self.num_instants += 1
            if j is None:
                self.num_unanswered += 1
                if self.unanswered == "skip":
                    continue
                pred = np.full(np.shape(gt), -1, dtype=np.int64)   # invalid everywhere: all misses
            else:
                pred = preds[j]
            self.evaluator.process(pred, gt)

    def evaluate(self) -> dict:
        result = self.evaluator.evaluate()
        result.update(num_instants=self.num_instants, num_unanswered=self.num_unanswered)
        return result
