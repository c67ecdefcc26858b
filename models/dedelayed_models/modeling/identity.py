"""Model identity: the one definition of "same model" that robot and cloud compare.

An identity is ``dedelayed-<part>-<preset>-v<version>-<12 hex>``, where the hex digits are a
sha256 over the canonical JSON of the part's config and, for every state_dict entry in name
order, its name, shape, dtype and raw bytes. The readable prefix is for logs; equality of the
whole string is what counts. The remote identity covers only what shapes z (the predictive head
is excluded), so a FeatureMap stamped with it says exactly which features the robot receives.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Iterable, Mapping

import numpy as np
import torch
import torch.nn as nn

from .config import DedelayedConfig, config_to_dict

HASH_CHARS = 12
REMOTE_IDENTITY_EXCLUDES = ("head.",)  # pretraining-only; never changes z


def state_digest(state_dict: Mapping[str, torch.Tensor], *, config: Any,
                 exclude_prefixes: Iterable[str] = ()) -> str:
    """Hex sha256 of canonical config JSON + every tensor's name/shape/dtype/bytes."""
    excludes = tuple(exclude_prefixes)
    cfg = config_to_dict(config) if dataclasses.is_dataclass(config) else config
    h = hashlib.sha256(json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode())
    for name in sorted(state_dict):
        if name.startswith(excludes):
            continue
        t = state_dict[name].detach().cpu().contiguous()
        h.update(f"\n{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        # Raw bytes via numpy; bfloat16 has no numpy dtype, so view it as int16 bits.
        arr = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy()
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def model_identity(module: nn.Module, config: Any, *, name: str,
                   exclude_prefixes: Iterable[str] = ()) -> str:
    """``dedelayed-<name>-<hash>`` for any module + the config it was built from."""
    digest = state_digest(module.state_dict(), config=config, exclude_prefixes=exclude_prefixes)
    return f"dedelayed-{name}-{digest[:HASH_CHARS]}"


def local_identity(local: nn.Module, config: DedelayedConfig) -> str:
    """Identity of the robot-side local model (its architecture config + weights)."""
    return model_identity(local, {"version": config.version, "local": config_to_dict(config.local)},
                          name=f"local-{config.name}-v{config.version}")


def remote_identity(remote: nn.Module, config: DedelayedConfig) -> str:
    """Identity of the remote features model, the string a FeatureMap carries."""
    return model_identity(remote, {"version": config.version,
                                   "remote": config_to_dict(config.remote)},
                          name=f"remote-{config.name}-v{config.version}",
                          exclude_prefixes=REMOTE_IDENTITY_EXCLUDES)
