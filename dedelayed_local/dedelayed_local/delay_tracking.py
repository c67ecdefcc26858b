"""Delay statistics the robot reports to the cloud, and once-per-episode mode logging."""

from collections import deque
from typing import Optional, Tuple

import numpy as np

from dedelayed_local.feature_store import FusionDecision

MAD_TO_SIGMA = 1.4826  # median absolute deviation of a Gaussian -> its standard deviation


class DelayEstimator:
    """Robust running estimate of tau over the last ``window`` fused frames [ms]."""

    def __init__(self, window: int = 30):
        self._tau_ms = deque(maxlen=window)

    def add(self, tau_ms: float) -> None:
        self._tau_ms.append(float(tau_ms))

    def estimate(self) -> Tuple[float, float, int]:
        """(median tau [ms], jitter = 1.4826 * MAD [ms], samples); (0, 0, 0) when empty."""
        if not self._tau_ms:
            return 0.0, 0.0, 0
        taus = np.fromiter(self._tau_ms, dtype=np.float64)
        median = float(np.median(taus))
        return median, float(MAD_TO_SIGMA * np.median(np.abs(taus - median))), len(taus)


class ModeEpisodes:
    """Tracks fused / local-only episodes so a reason is logged once per episode, not per frame."""

    def __init__(self):
        self.mode: Optional[str] = None
        self.reason: Optional[str] = None
        self.episodes = 0
        self.frames_by_mode = {"fused": 0, "local_only": 0}

    def update(self, decision: FusionDecision) -> Optional[str]:
        """Count the frame; return a log line when the mode or its reason changed."""
        self.frames_by_mode[decision.mode] = self.frames_by_mode.get(decision.mode, 0) + 1
        if (decision.mode, decision.reason) == (self.mode, self.reason):
            return None
        first = self.mode is None
        self.mode, self.reason = decision.mode, decision.reason
        self.episodes += 1
        if decision.mode == "fused":
            return f"fusing remote features (tau {decision.tau_ms:.0f} ms)"
        prefix = "local-only" if first else "switching to local-only"
        return f"{prefix}: {decision.reason}: {decision.detail}"
