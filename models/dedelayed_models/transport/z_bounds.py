"""Plausibility bounds of remote features z: per-channel ranges seen in training.

Defence in depth behind signatures: even an authentic FeatureMap from a buggy or hostile cloud
must not wreck the local result. The bounds are measured once per trained remote model
(``python -m dedelayed_models.train.z_bounds --checkpoint dedelayed.pt``) and stored beside the
checkpoint as ``<checkpoint stem>.z_bounds.json``, tagged with the remote identity they belong
to. A map is refused when any channel leaves [low - MARGIN * span, high + MARGIN * span],
span = high - low: a full training range beyond either end ("far outside"), so what the
model legitimately produces on new scenes passes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional

import numpy as np

MARGIN = 1.0  # allowed excursion beyond the training range, in units of that channel's span
FORMAT = "dedelayed-z-bounds-v1"


@dataclass(frozen=True)
class ZBounds:
    """low, high: (C,) float32 per-channel minimum / maximum of z in training."""

    remote_identity: str
    low: np.ndarray
    high: np.ndarray
    source: str = ""  # what the bounds were measured on

    def limits(self):
        span = np.maximum(self.high - self.low, 1e-6)
        return self.low - MARGIN * span, self.high + MARGIN * span

    def violation(self, z: np.ndarray) -> Optional[str]:
        """None if z (C, H, W) is plausible, else a sentence naming the worst channel."""
        if z.shape[0] != len(self.low):
            return (f"FeatureMap has {z.shape[0]} channels, the plausibility bounds "
                    f"{len(self.low)}")
        flat = z.reshape(z.shape[0], -1)
        lowest, highest = flat.min(axis=1), flat.max(axis=1)
        floor, ceiling = self.limits()
        excess = np.maximum(floor - lowest, highest - ceiling)
        channel = int(np.argmax(excess))
        if excess[channel] <= 0:
            return None
        return (f"FeatureMap channel {channel} spans [{lowest[channel]:.4g}, "
                f"{highest[channel]:.4g}], far outside the [{self.low[channel]:.4g}, "
                f"{self.high[channel]:.4g}] seen in training (limit [{floor[channel]:.4g}, "
                f"{ceiling[channel]:.4g}]): a buggy or hostile cloud")


def sidecar_path(checkpoint: str) -> str:
    """'…/dedelayed.pt' -> '…/dedelayed.z_bounds.json'."""
    return os.path.splitext(checkpoint)[0] + ".z_bounds.json"


def save_z_bounds(path: str, bounds: ZBounds) -> None:
    with open(path, "w") as handle:
        json.dump({"format": FORMAT, "remote_identity": bounds.remote_identity,
                   "margin": MARGIN, "source": bounds.source,
                   "low": [float(v) for v in bounds.low],
                   "high": [float(v) for v in bounds.high]}, handle, indent=1)
        handle.write("\n")


def load_z_bounds(path: str) -> ZBounds:
    with open(path) as handle:
        data = json.load(handle)
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a z bounds file ({FORMAT}); regenerate it with "
                         "python -m dedelayed_models.train.z_bounds --checkpoint <.pt>")
    low = np.asarray(data["low"], np.float32)
    high = np.asarray(data["high"], np.float32)
    if low.shape != high.shape or not np.all(high >= low):
        raise ValueError(f"{path}: low/high must be equal-length lists with high >= low")
    return ZBounds(str(data["remote_identity"]), low, high, str(data.get("source", "")))


def bounds_for_checkpoint(checkpoint: str, remote_identity: str) -> Optional[ZBounds]:
    """The bounds stored beside ``checkpoint`` for ``remote_identity``, or None if none are.

    Bounds of another remote model (the checkpoint was replaced) are an error, not ignored.
    """
    path = sidecar_path(checkpoint)
    if not os.path.isfile(path):
        return None
    bounds = load_z_bounds(path)
    if bounds.remote_identity != remote_identity:
        raise ValueError(f"{path} holds z bounds of remote model {bounds.remote_identity}, but "
                         f"{checkpoint} fuses {remote_identity}; regenerate them with python -m "
                         f"dedelayed_models.train.z_bounds --checkpoint {checkpoint}")
    return bounds
