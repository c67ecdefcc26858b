"""Architecture presets: the one commented place for widths, depths and resolutions.

Four presets, all with the same code:

* ``tiny``  -- random-weight CPU tests (well under 1 M parameters, 64x128 local / 128x256 remote).
* ``small`` -- trainable on a CPU on the synthetic world (128x256 local / 256x512 remote).
* ``camvid`` -- real cameras: pretrained Cityscapes ESPNetv2 networks (``espnetv2.py``), s=0.5 at
  240x320 on the robot, s=2.0 at 480x640 as the cloud's frozen per-frame backbone.
* ``paper`` -- paper section 4.2 / Table 2 sizes: local C = 96 at 480x864, remote
  EfficientViT-L1-like stride-8 backbone + 12 3-D ViT blocks of width 256 at 720x1280. Its
  3-D blocks use divided space-time attention: with joint attention over 4 x 3600 tokens the
  3-D encoder costs 1.41 T multiply-accumulates per answer, divided 0.50 T
  (``python -m dedelayed_bringup.bench.cloud_answer --paper-macs``).

Resolutions are (height, width) in pixels. Delays are in milliseconds everywhere.
``config_to_dict`` / ``config_from_dict`` give the canonical JSON form that checkpoints
store and that the model identity hashes (see ``identity.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Tuple

from ..classes import NUM_CLASSES
from .espnetv2 import encoder_widths

ARCH_VERSION = 2  # bump when a code change alters what a given config + state_dict computes


@dataclass(frozen=True)
class LocalConfig:
    """Local multi-stage segmenter (the paper's MSTransformer2D role)."""

    channels: Tuple[int, int, int] = (96, 160, 256)  # widths of T1 (= C), T2, T3
    t1_depth: int = 1            # stride-8 MBConv blocks after T1's stem
    t2_depth: int = 2            # transformer blocks at stride 16
    t3_depth: int = 2            # transformer blocks at stride 32
    head_dim: int = 32           # attention head width in T2/T3
    mlp_ratio: float = 4.0       # transformer MLP hidden = mlp_ratio * width
    expand_ratio: int = 4        # MBConv expansion in T1 and the down-samplers
    num_classes: int = NUM_CLASSES
    family: str = "world"        # network family (modeling/families.py): "world" = the fields above;
                                 # "espnetv2" = ESPNetv2 split at level 3 (only `width` applies)
    width: float = 1.0           # ESPNetv2 width multiplier s (family "espnetv2" only)


@dataclass(frozen=True)
class RemoteConfig:
    """Remote delay-conditioned video model (EfficientViT-like 2-D backbone + 3-D ViT)."""

    stem_width: int = 32                     # stride-2 stem
    stem_depth: int = 1                      # residual depthwise blocks at stride 2 (EfficientViT-L1: 1)
    stage_widths: Tuple[int, int] = (64, 128)  # MBConv stages at stride 4 and stride 8
    stage_depths: Tuple[int, int] = (1, 2)
    backbone_expand_ratio: int = 4           # MBConv expansion in the per-frame backbone
    attn_depth: int = 4          # ReLU linear-attention blocks at stride 8 (per frame)
    attn_head_dim: int = 16
    d_model: int = 256           # token width after the patch merge
    merge_size: int = 2          # patch merge of stride-8 features: 2 -> 16x16-pixel tokens (paper)
    vit_depth: int = 12          # 3-D ViT blocks (joint space-time attention)
    vit_head_dim: int = 32
    vit_mlp_ratio: float = 4.0
    num_frames: int = 4          # K, context frames ending at t - tau
    pool_hidden: int = 256       # MLP-pool-MLP hidden width
    out_channels: int = 96       # C of z; must equal the local T1 width
    vit_attention: str = "joint"  # 3-D ViT blocks: "joint" space-time or "divided" (space, then time)
    delay_num_freqs: int = 16    # sinusoidal features of each context frame's age [ms]
    delay_min_period_ms: float = 8.0
    delay_max_period_ms: float = 4000.0
    num_classes: int = NUM_CLASSES
    backbone: str = "world"      # per-frame image backbone family (modeling/families.py): "world" =
                                 # the stem/stage fields above; "espnetv2" = a whole ESPNetv2 network
    backbone_width: float = 2.0  # ESPNetv2 width multiplier s of that backbone ("espnetv2" only)


@dataclass(frozen=True)
class DedelayedConfig:
    """A named pair of local + remote configs with their default input resolutions."""

    name: str = "paper"
    version: int = ARCH_VERSION
    local: LocalConfig = field(default_factory=LocalConfig)
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    local_hw: Tuple[int, int] = (480, 864)   # robot camera frames as the local model sees them
    remote_hw: Tuple[int, int] = (720, 1280)  # uplinked frames as the remote model sees them

    def __post_init__(self):
        c = local_stage1_channels(self.local)
        if self.remote.out_channels != c:
            raise ValueError(
                f"preset '{self.name}': remote.out_channels={self.remote.out_channels} must equal "
                f"the local model's stage-1 width {c} (z is added to T1's output)")


def local_stage1_channels(cfg: LocalConfig) -> int:
    """C of the local model's stage-1 output, where z is added."""
    if cfg.family == "espnetv2":
        return encoder_widths(cfg.width)[2]
    return cfg.channels[0]


PRESETS: Dict[str, DedelayedConfig] = {
    "tiny": DedelayedConfig(
        name="tiny",
        local=LocalConfig(channels=(16, 32, 48), t1_depth=1, t2_depth=1, t3_depth=1,
                          head_dim=16, mlp_ratio=2.0, expand_ratio=2),
        remote=RemoteConfig(stem_width=8, stage_widths=(16, 24), stage_depths=(1, 1),
                            backbone_expand_ratio=2, attn_depth=1, attn_head_dim=8, d_model=32,
                            vit_depth=2,
                            vit_head_dim=16, vit_mlp_ratio=2.0, pool_hidden=32,
                            out_channels=16, delay_num_freqs=8),
        local_hw=(64, 128), remote_hw=(128, 256)),
    "small": DedelayedConfig(
        name="small",
        local=LocalConfig(channels=(64, 96, 160), t1_depth=1, t2_depth=1, t3_depth=2,
                          head_dim=32, mlp_ratio=3.0, expand_ratio=3),
        # Sized for CPU training: 32 frames of 256x512 per batch of 8 dominate the cost, so the
        # per-frame backbone is narrow with no stride-2 block, and 4x4 merging keeps joint
        # attention at 512 tokens.
        remote=RemoteConfig(stem_width=8, stem_depth=0, stage_widths=(16, 32), stage_depths=(1, 1),
                            backbone_expand_ratio=2, attn_depth=1, attn_head_dim=8, d_model=128,
                            merge_size=4, vit_depth=4, vit_head_dim=32, vit_mlp_ratio=2.0,
                            pool_hidden=128, out_channels=64, delay_num_freqs=16),
        local_hw=(128, 256), remote_hw=(256, 512)),
    "paper": DedelayedConfig(name="paper", remote=RemoteConfig(vit_attention="divided")),
    # Real cameras: pretrained Cityscapes ESPNetv2 on both sides (modeling/pretrained.py). The
    # robot runs s=0.5 at 240x320 (about 0.09 G multiply-accumulates); the cloud's per-frame
    # backbone is s=2.0 at 480x640 (about 1.6 G), frozen, and its temporal encoder works on
    # 16-pixel tokens (30x40 per frame) with divided space-time attention.
    "camvid": DedelayedConfig(
        name="camvid",
        local=LocalConfig(family="espnetv2", width=0.5),
        remote=RemoteConfig(backbone="espnetv2", backbone_width=2.0, d_model=128, merge_size=2,
                            vit_depth=2, vit_head_dim=32, vit_mlp_ratio=2.0, vit_attention="divided",
                            num_frames=2, pool_hidden=128, out_channels=64, delay_num_freqs=16),
        local_hw=(240, 320), remote_hw=(480, 640)),
}


def get_config(preset: str) -> DedelayedConfig:
    """The named preset ('tiny', 'small' or 'paper')."""
    if preset not in PRESETS:
        raise KeyError(f"unknown model preset '{preset}'; choose one of {sorted(PRESETS)}")
    return PRESETS[preset]


# Fields added after files of this architecture version were written: they are left out of the
# canonical dict while they hold their default, so the identities (hashes of that dict) of
# those files stay what they were. config_from_dict fills them in again.
_LATER_FIELDS = {"family": "world", "width": 1.0, "backbone": "world", "backbone_width": 2.0}


def config_to_dict(config: Any) -> Dict[str, Any]:
    """Plain JSON-able dict (tuples become lists) of any config dataclass."""
    return _drop_default_later_fields(json_ready(dataclasses.asdict(config)))


def _drop_default_later_fields(d: Any) -> Any:
    if not isinstance(d, dict):
        return d
    return {k: _drop_default_later_fields(v) for k, v in d.items()
            if not (k in _LATER_FIELDS and v == _LATER_FIELDS[k])}


def json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def config_from_dict(data: Dict[str, Any]) -> DedelayedConfig:
    """Inverse of ``config_to_dict`` for a ``DedelayedConfig``; unknown keys are an error."""
    data = dict(data)
    local = _dataclass_from_dict(LocalConfig, data.pop("local", {}))
    remote = _dataclass_from_dict(RemoteConfig, data.pop("remote", {}))
    top = _dataclass_from_dict(DedelayedConfig, data, local=local, remote=remote)
    return top


def _dataclass_from_dict(cls, data: Dict[str, Any], **fixed):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {sorted(unknown)}; "
                         f"known keys are {sorted(names)}")
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    kwargs.update(fixed)
    return cls(**kwargs)
