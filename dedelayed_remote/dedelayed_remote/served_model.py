"""The cloud's half of a Dedelayed model: remote weights, device, identity, K, remote input size.

Loaded from a checkpoint (``part="remote"`` of a remote or dedelayed checkpoint) or, for tests
and bring-up without weights, the remote half of ``dedelayed_models.modeling.random_model``, the
recipe the robot uses too, so the same preset and seed give the same remote identity on both hosts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional, Tuple

import torch

from dedelayed_models.data.context_timing import DEFAULT_LIVE_DELAY_MS_RANGE
from dedelayed_models.modeling import load_checkpoint, random_model
from dedelayed_models.modeling.config import DedelayedConfig

_LOG = logging.getLogger(__name__)


@dataclass
class ServedModel:
    """A remote model ready to serve: ``remote.features(frames, delay_ms, out_hw)``."""

    remote: torch.nn.Module          # RemoteModel, eval mode, on `device`
    config: DedelayedConfig
    identity: str                    # the remote identity every FeatureMap carries
    device: torch.device
    source: str                      # checkpoint path or "random:<preset>:<seed>"
    trained_delay_ms: Tuple[float, float] = DEFAULT_LIVE_DELAY_MS_RANGE  # (lo, hi) [ms]

    @property
    def num_frames(self) -> int:
        """K, the context length the model was built for [frames]."""
        return int(self.config.remote.num_frames)

    @property
    def remote_hw(self) -> Tuple[int, int]:
        """(H, W) the remote model expects its frames at [pixels]."""
        return (int(self.config.remote_hw[0]), int(self.config.remote_hw[1]))


def resolve_device(device: str) -> torch.device:
    """'cpu', 'cuda' or 'cuda:N' -> torch.device; a clear error when CUDA is asked but absent."""
    text = str(device).strip().lower()
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device '{device}' requested but torch {torch.__version__} sees no CUDA GPU "
                f"(torch.version.cuda={torch.version.cuda}); install a CUDA build of torch on the "
                "GPU host or set the parameter device:=cpu")
        dev = torch.device(text)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise RuntimeError(f"device '{device}' does not exist: this host has "
                               f"{torch.cuda.device_count()} CUDA device(s)")
        return dev
    raise ValueError(f"device '{device}' is not understood; use 'cpu', 'cuda' or 'cuda:N'")


def load_served_model(*, checkpoint: str = "", preset: str = "small", seed: int = 0,
                      device: str = "cpu", num_frames: int = 0,
                      logger: Optional[logging.Logger] = None) -> ServedModel:
    """Build the model the node serves.

    checkpoint: path of a remote or dedelayed checkpoint ("" -> random weights, loud warning);
        when given, its own config wins over `preset`.
    num_frames: K requested by the operator; 0 -> the model's. The model's time embedding fixes
        K, so any other value is an error rather than a silent mismatch.
    """
    log = logger or _LOG
    dev = resolve_device(device)
    if checkpoint:
        loaded = load_checkpoint(checkpoint, part="remote")
        remote, config, identity, source = loaded.model, loaded.config, loaded.identity["remote"], checkpoint
        trained_delay_ms = loaded.trained_delay_ms
        if preset and preset != config.name:
            log.info(f"checkpoint {checkpoint} holds preset '{config.name}'; the preset "
                     f"parameter '{preset}' is ignored")
    else:
        built = random_model(preset, seed)
        remote, config, identity, source = (built.model.remote, built.config,
                                            built.identity["remote"], built.source)
        trained_delay_ms = DEFAULT_LIVE_DELAY_MS_RANGE
        log.warning(
            f"NO CHECKPOINT: serving RANDOM remote weights (preset '{preset}', seed {seed}). "
            "Features are meaningless except for tests; set the parameter checkpoint:=<path>.")
    model_k = int(config.remote.num_frames)
    if num_frames and int(num_frames) != model_k:
        raise ValueError(f"num_frames={num_frames} requested but the remote model "
                         f"({source}) was built for K={model_k} context frames; set num_frames:=0 "
                         f"(use the model's K) or num_frames:={model_k}")
    remote = remote.to(dev).eval()
    return ServedModel(remote=remote, config=config, identity=identity, device=dev, source=source,
                       trained_delay_ms=trained_delay_ms)
