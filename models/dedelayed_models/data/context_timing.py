"""When the remote's context frames were taken, relative to the target instant: how training draws it.

A live link does not deliver the paper's regular 30 fps context with a delay of 0-5 frames. The
robot's camera runs at whatever rate it runs, the cloud's newest-only policy skips frames when it
is busy, and the round trip is hundreds of milliseconds. The remote model is therefore
conditioned on each context frame's *age* at the target instant (target time minus the frame's
stamp, ms; see ``modeling.remote_model``), and training draws contexts the way a live link makes
them:

* ``ContextTiming``: one drawn context, in whole frames of the source video (the only instants
  that exist), newest frame ``delay_frames`` before the target, older frames ``gaps_frames``
  apart. ``ages_ms(fps)`` gives the exact ages the model sees.
* ``LiveTimingSampler``: delay uniform over ``delay_ms_range`` (continuous, then the source frame
  nearest to it), context rate uniform over ``context_fps_range`` (5-30 fps: the source frames
  nearest to that spacing), and each gap skips ``max_skips`` more context frames with
  probability ``skip_prob`` each (the cloud answered late and dropped one).
* Output lag (``output_lag_prob``): a running robot answers frame t after t, so its output is
  used until the next frame's replaces it, and streaming scoring pairs each camera instant with
  the previous frame's output. With this probability a draw moves the local image one camera
  frame (one context spacing) before the target: the fusion learns to segment the instant its
  output is used from the previous frame plus remote features predicted for that instant.
* The paper's configuration (``timing: paper`` in the training configs) is the special case of
  a regular context one source frame apart and an integer delay of 0-5 frames drawn per batch:
  ``ContextTiming.regular(D, K)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from .timing import frame_period_ms

DEFAULT_LIVE_DELAY_MS_RANGE = (0.0, 600.0)


def delay_bound_ms(configured_ms: float, trained_delay_ms: Tuple[float, float]) -> float:
    """A delay bound a user sets [ms] (the robot's ``max_feature_age_ms``, the cloud's
    ``max_delay_ms``, the demo's ``--max-feature-age-ms``): ``configured_ms`` when above 0,
    else 0 means the largest delay the checkpoint was trained for (``trained_delay_ms`` = (lo, hi))."""
    return float(configured_ms) if configured_ms > 0 else float(trained_delay_ms[1])
DEFAULT_LIVE_CONTEXT_FPS_RANGE = (5.0, 30.0)
DEFAULT_LIVE_SKIP_PROB = 0.25


@dataclass(frozen=True)
class ContextTiming:
    """A context of K = len(gaps_frames) + 1 frames: newest one ``delay_frames`` source frames
    before the target frame t, each older one ``gaps_frames[i]`` frames before the next
    (gaps oldest first). The local image is ``image_lag_frames`` before t (0: the target frame
    itself; never before the newest context frame)."""

    delay_frames: int
    gaps_frames: Tuple[int, ...]
    image_lag_frames: int = 0

    def __post_init__(self):
        if not 0 <= self.image_lag_frames <= self.delay_frames:
            raise ValueError(f"image_lag_frames must be in 0..delay_frames ({self.delay_frames}), "
                             f"got {self.image_lag_frames}: the local image is never older than "
                             f"the newest context frame")

    @classmethod
    def regular(cls, delay_frames: int, num_frames: int, stride_frames: int = 1) -> "ContextTiming":
        return cls(int(delay_frames), (int(stride_frames),) * (num_frames - 1))

    @property
    def num_frames(self) -> int:
        return len(self.gaps_frames) + 1

    @property
    def history_frames(self) -> int:
        """How many frames before t the oldest context frame lies."""
        return self.delay_frames + sum(self.gaps_frames)

    def frame_indices(self, t: int) -> List[int]:
        """Source frame indices of the context for target frame t, oldest first."""
        idx = [t - self.delay_frames]
        for gap in reversed(self.gaps_frames):
            idx.append(idx[-1] - gap)
        return idx[::-1]

    def ages_ms(self, fps: float) -> List[float]:
        """Age of each context frame at the target instant [ms], oldest first: (K,)."""
        period = frame_period_ms(fps)
        ages = [self.delay_frames * period]
        for gap in reversed(self.gaps_frames):
            ages.append(ages[-1] + gap * period)
        return ages[::-1]


@dataclass(frozen=True)
class LiveTimingSampler:
    """Draws ``ContextTiming`` as a live link makes them (see the module docstring)."""

    delay_ms_range: Tuple[float, float] = DEFAULT_LIVE_DELAY_MS_RANGE
    context_fps_range: Tuple[float, float] = DEFAULT_LIVE_CONTEXT_FPS_RANGE
    skip_prob: float = DEFAULT_LIVE_SKIP_PROB
    max_skips: int = 1
    output_lag_prob: float = 0.0

    def __post_init__(self):
        lo, hi = self.delay_ms_range
        flo, fhi = self.context_fps_range
        if not 0 <= lo <= hi:
            raise ValueError(f"delay_ms_range must be 0 <= lo <= hi [ms], got {self.delay_ms_range}")
        if not 0 < flo <= fhi:
            raise ValueError(f"context_fps_range must be 0 < lo <= hi [Hz], got {self.context_fps_range}")
        if not 0 <= self.output_lag_prob <= 1:
            raise ValueError(f"output_lag_prob must be in [0, 1], got {self.output_lag_prob}")
        if not 0 <= self.skip_prob <= 1 or self.max_skips < 0:
            raise ValueError(f"skip_prob must be in [0, 1] and max_skips >= 0, got "
                             f"{self.skip_prob}, {self.max_skips}")

    def _gap_frames(self, context_fps: float, source_fps: float) -> int:
        return max(1, int(round(source_fps / context_fps)))

    def max_history_frames(self, num_frames: int, source_fps: float) -> int:
        """The oldest context frame any draw can need, in source frames before t."""
        period = frame_period_ms(source_fps)
        delay = int(round(self.delay_ms_range[1] / period))
        base = self._gap_frames(self.context_fps_range[0], source_fps)
        if self.output_lag_prob > 0:
            delay = max(delay, base)          # a lagged draw's newest frame is >= one spacing old
        return delay + (num_frames - 1) * base * (1 + self.max_skips)

    def draw(self, rng: np.random.Generator, num_frames: int, source_fps: float) -> ContextTiming:
        delay_ms = rng.uniform(*self.delay_ms_range)
        delay = int(round(delay_ms / frame_period_ms(source_fps)))
        base = self._gap_frames(rng.uniform(*self.context_fps_range), source_fps)
        gaps = tuple(base * (1 + int(rng.binomial(self.max_skips, self.skip_prob)))
                     for _ in range(num_frames - 1))
        if self.output_lag_prob > 0 and rng.uniform() < self.output_lag_prob:
            # One camera frame of output lag; the newest context frame is at least that old.
            return ContextTiming(max(delay, base), gaps, image_lag_frames=base)
        return ContextTiming(delay, gaps)

    @classmethod
    def from_config(cls, cfg: dict) -> "LiveTimingSampler":
        return cls(delay_ms_range=tuple(float(v) for v in cfg["delay_ms_range"]),
                   context_fps_range=tuple(float(v) for v in cfg["context_fps_range"]),
                   skip_prob=float(cfg["skip_prob"]), max_skips=int(cfg["max_skips"]),
                   output_lag_prob=float(cfg.get("output_lag_prob", 0.0)))

