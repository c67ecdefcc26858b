"""How much a *perfect* label loses when it arrives late: the oracle bound of remote inference.

``stale_label_curve(labels, delays)`` scores label t-D against label t over a sequence (one
confusion matrix over all frames t >= max delay, so every delay sees the same frames).
"""

from .semseg import SemSegEvaluator


def stale_label_curve(label_at, num_frames: int, delays_frames, **evaluator_kwargs) -> dict:
    """label_at: callable t -> (H, W) trainIds. Returns {delay_frames: evaluate() dict}."""
    delays = sorted(int(d) for d in delays_frames)
    if num_frames <= delays[-1]:
        raise ValueError(f"{num_frames} frames cannot show a delay of {delays[-1]} frames")
    evaluators = {d: SemSegEvaluator(**evaluator_kwargs) for d in delays}
    for t in range(delays[-1], num_frames):
        current = label_at(t)
        for d in delays:
            evaluators[d].process(label_at(t - d), current)
    return {d: e.evaluate() for d, e in evaluators.items()}
