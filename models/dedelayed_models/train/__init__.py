"""Training of the Table-2 stages (remote predictive, local, fusion) on the synthetic world
or on real video (``data.source``, ``data/datasets.py``).

CLI: ``python -m dedelayed_models.train --config remote_predictive [--out DIR] [--resume]``;
all three stages in order: ``python -m dedelayed_models.train.pipeline``.
"""

from .config import DEFAULTS, load_config, model_config
from .solver import build_optimizer, build_scheduler, layer_ids, param_groups, trapezoidal_cosine
from .trainer import StageModule, train, validate

__all__ = ["DEFAULTS", "load_config", "model_config", "build_optimizer", "build_scheduler",
           "layer_ids", "param_groups", "trapezoidal_cosine", "StageModule", "train", "validate"]
