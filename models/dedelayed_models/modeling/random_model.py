"""The one recipe for random weights, for tests, benchmarks and bring-up without a checkpoint.

Robot and cloud each build the random model of a preset and seed and keep their half. The
recipe seeds torch's global generator and builds the whole ``DedelayedModel`` (local first,
then remote): building only one half would draw different weights and a different identity, so
every host calls ``random_model`` and the same preset and seed give the same identities on both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Union

import torch

from .checkpoint import identities
from .config import DedelayedConfig, get_config
from .dedelayed import DedelayedModel, build_model

RANDOM_SOURCE_PREFIX = "random:"   # a model's ``source`` starts with it when its weights are random


@dataclass(frozen=True)
class RandomModel:
    model: DedelayedModel             # eval mode, CPU
    config: DedelayedConfig
    identity: Dict[str, str]          # {"local": ..., "remote": ...}
    source: str                       # "random:<preset>:<seed>"


def random_model(preset_or_config: Union[str, DedelayedConfig] = "tiny", seed: int = 0) -> RandomModel:
    """The random DedelayedModel of a preset name (or a config) and seed."""
    config = get_config(preset_or_config) if isinstance(preset_or_config, str) else preset_or_config
    torch.manual_seed(int(seed))
    model = build_model(config).eval()
    return RandomModel(model, config, identities(model, config),
                       f"{RANDOM_SOURCE_PREFIX}{config.name}:{int(seed)}")


def is_random_source(source: str) -> bool:
    """Whether a model ``source`` string names random weights rather than a checkpoint."""
    return str(source).startswith(RANDOM_SOURCE_PREFIX)
