"""Dedelayed networks (paper section 4.2, Table 2, appendix A.1).

Robot side:  ``LocalModel`` -- ``local(x, z=None)``; ``fuse``; ``stage1_grid``.
Cloud side:  ``RemoteModel`` -- ``remote.features(frames, delay_ms, out_hw)``.
Both:        ``DedelayedModel``, ``build_model``, ``random_model`` (the one random-weight recipe),
             the stage table (``stages.py``), identities and checkpoints.
"""

from .checkpoint import LoadedCheckpoint, identities, load_checkpoint, load_weights, save_checkpoint
from .config import (
    ARCH_VERSION,
    PRESETS,
    DedelayedConfig,
    LocalConfig,
    RemoteConfig,
    config_from_dict,
    config_to_dict,
    get_config,
)
from .dedelayed import DedelayedModel, build_model
from .fusion import LOCAL_STAGE1_STRIDE, fuse, scaled_local_hw, stage1_grid
from .identity import local_identity, model_identity, remote_identity
from .local_model import LocalModel
from .random_model import RandomModel, is_random_source, random_model
from .remote_model import DelayEmbedding, RemoteModel
from .stages import STAGE_TABLE, STAGES, Stage, prepare_stage, stage_logits, trainable_parameters

__all__ = [
    "ARCH_VERSION", "LOCAL_STAGE1_STRIDE", "PRESETS", "STAGES", "DedelayedConfig", "DedelayedModel", "DelayEmbedding",
    "LoadedCheckpoint", "LocalConfig", "LocalModel", "RandomModel", "RemoteConfig", "RemoteModel",
    "build_model", "is_random_source", "random_model",
    "config_from_dict", "config_to_dict", "fuse", "get_config", "identities", "load_checkpoint",
    "load_weights", "local_identity", "model_identity", "prepare_stage", "remote_identity",
    "save_checkpoint", "scaled_local_hw", "stage1_grid", "trainable_parameters",
    "STAGE_TABLE", "Stage", "stage_logits",
]
