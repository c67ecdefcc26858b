"""Training configs: defaults, YAML loading, dotted overrides, and the model config they describe.

A training config is a nested dict; ``DEFAULTS`` below is its one commented schema. A YAML file
(``dedelayed_models/configs/*.yaml``) overrides any subset; an unknown key is an error naming the
known ones. A file may name ``base: <yaml>`` (relative to its own folder): that file's keys apply
first, so stages that must agree (the model, the data) share one place
(``configs/base/*.yaml``). ``--set solver.max_iters=20`` style overrides apply last (values
parsed as YAML).
"""

from __future__ import annotations

import copy
import dataclasses
import os
from typing import Any, Dict, Iterable, Optional, Tuple

import yaml

from ..data.context_timing import DEFAULT_LIVE_CONTEXT_FPS_RANGE, DEFAULT_LIVE_DELAY_MS_RANGE, DEFAULT_LIVE_SKIP_PROB
from ..data.timing import DEFAULT_DELAY_FRAMES_RANGE
from ..data.uplink import WEBP_QUALITY
from ..modeling import STAGES, DedelayedConfig, config_from_dict, config_to_dict, get_config
from ..modeling.config import LocalConfig, RemoteConfig

CONFIG_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")

DEFAULTS: Dict[str, Any] = {
    "stage": "local",            # a row of the stage table (modeling/stages.py): what it trains and computes
    "seed": 0,                   # fixes init, data order, per-batch delays: same seed -> same run
    "model": {
        "preset": "tiny",        # modeling preset the overrides below start from
        "local_hw": None,        # [H, W] local input; None keeps the preset's
        "remote_hw": None,       # [H, W] uplinked remote input; None keeps the preset's
        "local": {},             # LocalConfig field overrides
        "remote": {},            # RemoteConfig field overrides (num_frames = K, merge_size, ...)
    },
    "init": {
        "local": None,           # checkpoint whose local.* weights start this run (fusion: the local stage)
        "remote": None,          # checkpoint whose remote.* weights start this run (fusion: the remote stage)
        "remote_warm_start": None,  # checkpoint (any architecture version) whose remote tensors of
                                    # matching name and shape start the remote; the rest stay fresh
        "local_pretrained": None,   # pretrained weights (modeling/pretrained.py name or file) that
                                    # start the local model; applied before `local`
        "remote_pretrained": None,  # pretrained weights that start the remote's image backbone
    },
    "data": {
        "source": "world",       # world | bdd100k | cityscapes | camvid | frames (data/datasets.py)
        "root": None,            # dataset folder of a real source; camvid: None = the shared 0016E5 clip;
                                 # "shared:<name>" = that folder of the shared data (data/paths.py)
        "train_split": "train",  # split folder training reads (bdd100k, cityscapes)
        "val_split": "val",      # split folder validation and evaluation read (bdd100k, cityscapes)
        "sequences": None,       # names to use (BDD video, Cityscapes city or image, folder); None = all
        "train_frame_range": None,  # [start, stop) frames of each real sequence for training; None = all
        "val_frame_range": None,    # [start, stop) frames of each real sequence for validation and
                                    # evaluation; None = all
        "fps": None,             # real frame rate [Hz]; None = the source's own (video header,
                                 # dataset.yaml, or the table in data/datasets.py)
        "label_encoding": None,  # trainid | camvid11 | cityscapes_labelid (data/label_encoding.py);
                                 # None = the source's own, or dataset.yaml's
        "resize": "crop",        # crop | squash | pad: how real frames fit the model's size (data/resize.py)
        "train_sequences": 8,    # world seeds from the train range
        "train_frames": 48,      # frames per train sequence (30 fps)
        "val_sequences": 2,      # world seeds from the disjoint val range
        "val_frames": 24,        # frames per val world sequence
        "val_frame_stride": 2,   # validate on every n-th usable frame
        "motion": 1.0,           # the world's motion knob (1 = calibrated default) for val sequences
        "train_motion_range": None,  # [lo, hi]: each world train sequence's motion uniform in it; None = motion
        "timing": "paper",       # context timing: "paper" (regular context, D frames per batch)
                                 # or "live" (per-sample ages drawn as a live link makes them)
        # paper timing: D drawn per batch, uniform, in frames of the source (the paper's 0-5 at 30 fps)
        "delay_frames_range": list(DEFAULT_DELAY_FRAMES_RANGE),
        "live_timing": {         # live timing (data/context_timing.py LiveTimingSampler)
            # newest frame's age at the target, uniform [ms]
            "delay_ms_range": list(DEFAULT_LIVE_DELAY_MS_RANGE),
            # spacing of the context frames, uniform [Hz]
            "context_fps_range": list(DEFAULT_LIVE_CONTEXT_FPS_RANGE),
            "skip_prob": DEFAULT_LIVE_SKIP_PROB,  # chance a gap skips one more context frame
            "max_skips": 1,                     # most extra frames skipped per gap
            "output_lag_prob": 0.0,             # chance the local image is one camera frame before
                                                # the target (the robot's output lag; fusion stage)
        },
        "uplink_quality": WEBP_QUALITY,  # WebP quality of remote frames; null = no codec
        "static_clip_prob": 0.0, # remote stage: share of batches whose K frames are copies of t-D
        "remote_dropout_prob": 0.0,  # fused stages: share of samples trained without z, i.e. as
                                     # the robot's local-only fallback (the streaming stage)
        "cache_dir": None,       # rendered frames are stored here and reused; None = in memory only
    },
    "solver": {
        "batch_size": 8,         # global batch (split over DDP ranks)
        "max_iters": 100,        # optimizer steps
        "lr": 2.0e-3,            # peak learning rate (Adan)
        "betas": [0.98, 0.92, 0.99],  # Adan betas
        "weight_decay": 0.02,    # decoupled weight decay (not on norms/biases/embeddings)
        "warmup_frac": 0.05,     # linear warm-up share of max_iters
        "decay_start_frac": 0.5, # the plateau ends here; cosine decay to the end
        "min_lr_ratio": 0.01,    # final lr / peak lr
        "grad_clip_norm": 1.0,   # global L2 norm clip; 0 = off
        "layer_decay": 1.0,      # layer-wise LR decay factor per block (paper: 0.9 for local); 1 = off
    },
    "train": {
        "eval_period": 50,       # iterations between validations (and at the end); 0 = only at the end
        "checkpoint_period": 50, # iterations between last.pt / last_state.pt writes
        "log_period": 10,        # iterations between metrics.jsonl lines
        "num_threads": 2,        # torch CPU threads per process
        "progress": True,        # tqdm bar on rank 0
        "frame_cache_frames": 2048,  # distinct frames whose frozen-backbone features are kept
                                     # (modeling/frame_cache.py) when the stage freezes the
                                     # remote image backbone; 0 = encode every time
    },
}


# Sections that hold field overrides of a model dataclass: their keys are that dataclass's
# fields, whichever of them a base YAML already sets (so ``--set model.remote.stem_width=16``
# works on top of ``configs/base/world.yaml``).
FIELD_OVERRIDE_SECTIONS = {"model.local.": LocalConfig, "model.remote.": RemoteConfig}


def _known_keys(base: Dict[str, Any], where: str):
    fields_of = FIELD_OVERRIDE_SECTIONS.get(where)
    if fields_of is None:
        return set(base)
    return {f.name for f in dataclasses.fields(fields_of)}


def _merge(base: Dict[str, Any], new: Dict[str, Any], where: str = "") -> Dict[str, Any]:
    out = copy.deepcopy(base)
    known = _known_keys(base, where)
    for key, value in (new or {}).items():
        if key not in known:
            raise KeyError(f"unknown config key '{where}{key}'; known keys: {sorted(known)}")
        nested = f"{where}{key}."
        if isinstance(value, dict) and (nested in FIELD_OVERRIDE_SECTIONS
                                        or (isinstance(base.get(key), dict) and base[key])):
            out[key] = _merge(base.get(key) or {}, value, nested)
        else:
            out[key] = copy.deepcopy(value)
    return out


def resolve_config_path(path: str) -> str:
    """A path as given, or a bare name inside the packaged ``configs/`` folder."""
    if os.path.isfile(path):
        return path
    packaged = os.path.join(CONFIG_DIR, path if path.endswith(".yaml") else path + ".yaml")
    if os.path.isfile(packaged):
        return packaged
    raise FileNotFoundError(f"config {path} not found (nor {packaged}); "
                            f"packaged configs: {sorted(os.listdir(CONFIG_DIR))}")


def _apply_yaml(cfg: Dict[str, Any], path: str, chain: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """cfg <- the file's ``base`` chain (root first) <- the file itself."""
    path = os.path.abspath(path)
    if path in chain:
        raise ValueError(f"config base loop: {' -> '.join(chain + (path,))}")
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    base = data.pop("base", None)
    if base:
        base_path = os.path.join(os.path.dirname(path), base)
        if not os.path.isfile(base_path):
            raise FileNotFoundError(f"{path}: base {base!r} not found ({base_path}); "
                                    "give a YAML path relative to this file's folder")
        cfg = _apply_yaml(cfg, base_path, chain + (path,))
    return _merge(cfg, data)


def load_config(path: Optional[str] = None, overrides: Iterable[str] = ()) -> Dict[str, Any]:
    """DEFAULTS <- base YAML(s) <- YAML file <- ``key.sub=value`` overrides."""
    cfg = copy.deepcopy(DEFAULTS)
    if path:
        cfg = _apply_yaml(cfg, resolve_config_path(path))
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override '{item}' must look like section.key=value")
        dotted, raw = item.split("=", 1)
        patch: Dict[str, Any] = {}
        node = patch
        keys = dotted.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = yaml.safe_load(raw)
        cfg = _merge(cfg, patch)
    if cfg["stage"] not in STAGES:
        raise ValueError(f"stage must be one of {STAGES} (modeling/stages.py), got {cfg['stage']!r}")
    return cfg


def data_section(source: str = "world", overrides: Iterable[str] = ()) -> Dict[str, Any]:
    """A ``data`` section (DEFAULTS["data"] <- ``source`` <- ``key=value`` overrides, the same
    keys as a training config's ``data.``): what ``evaluate --dataset`` reads."""
    return load_config(None, [f"data.source={source}"] + [f"data.{o}" for o in overrides])["data"]


def model_config(cfg: Dict[str, Any]) -> DedelayedConfig:
    """The DedelayedConfig a training config describes (preset + overrides)."""
    base = config_to_dict(get_config(cfg["model"]["preset"]))
    m = cfg["model"]
    base["name"] = m["preset"] if not (m["local"] or m["remote"] or m["local_hw"] or m["remote_hw"]) \
        else m["preset"] + "-custom"
    base["local"].update(m["local"] or {})
    base["remote"].update(m["remote"] or {})
    if m["local_hw"]:
        base["local_hw"] = list(m["local_hw"])
    if m["remote_hw"]:
        base["remote_hw"] = list(m["remote_hw"])
    return config_from_dict(base)


def dump_config(cfg: Dict[str, Any], path: str) -> None:
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)


__all__ = ["CONFIG_DIR", "DEFAULTS", "load_config", "data_section", "model_config", "dump_config",
           "resolve_config_path"]
