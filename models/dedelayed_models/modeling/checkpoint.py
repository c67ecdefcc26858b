"""Checkpoint files: one format for local, remote and fused models; loads from local disk only.

A checkpoint is a ``torch.save`` dict (loadable with ``weights_only=True``)::

    {"format_version": 1,
     "kind": "dedelayed" | "local" | "remote",   # which module the state_dict belongs to
     "preset": "small",                          # readable; "config" is authoritative
     "config": {...},                            # config_to_dict(DedelayedConfig)
     "state_dict": {...},
     "identity": {"local": "...", "remote": "..."},  # the parts the file holds
     "extra": {...}}                             # free-form (stage, step, metrics)

A "dedelayed" checkpoint (after the fusion stage) pairs a local model with the remote model it
was fused with: the robot loads ``part="local"`` and expects FeatureMaps carrying
``identity["remote"]``; the cloud loads ``part="remote"``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple, Union

import torch
import torch.nn as nn

from ..data.context_timing import DEFAULT_LIVE_DELAY_MS_RANGE
from .config import ARCH_VERSION, DedelayedConfig, config_from_dict, config_to_dict
from .dedelayed import DedelayedModel
from .families import LOCAL_CLASSES, build_local
from .identity import local_identity, remote_identity
from .remote_model import RemoteModel

FORMAT_VERSION = 1
PARTS = ("local", "remote")


@dataclass
class LoadedCheckpoint:
    model: nn.Module                  # DedelayedModel, a local model (families.py) or RemoteModel (eval mode)
    config: DedelayedConfig
    identity: Dict[str, str]          # {"local": ..., "remote": ...} for the parts held
    kind: str                         # what the file held
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def trained_delay_ms(self) -> Tuple[float, float]:
        """(lo, hi) newest-frame ages the model was trained for [ms], as the trainer recorded
        them; files without the record: the default live training range."""
        lo, hi = self.extra.get("trained_delay_ms", DEFAULT_LIVE_DELAY_MS_RANGE)
        return (float(lo), float(hi))


def _kind_of(model: nn.Module) -> str:
    for kind, cls in (("dedelayed", DedelayedModel), ("local", LOCAL_CLASSES), ("remote", RemoteModel)):
        if isinstance(model, cls):
            return kind
    raise TypeError(f"cannot checkpoint a {type(model).__name__}; expected DedelayedModel, "
                    "LocalModel or RemoteModel")


def identities(model: nn.Module, config: DedelayedConfig) -> Dict[str, str]:
    """Identities of the parts ``model`` holds."""
    kind = _kind_of(model)
    local = model.local if kind == "dedelayed" else model if kind == "local" else None
    remote = model.remote if kind == "dedelayed" else model if kind == "remote" else None
    out = {}
    if local is not None:
        out["local"] = local_identity(local, config)
    if remote is not None:
        out["remote"] = remote_identity(remote, config)
    return out


def save_checkpoint(path: Union[str, os.PathLike], model: nn.Module, config: DedelayedConfig,
                    *, extra: Optional[Dict[str, Any]] = None) -> Dict[str, str]:
    """Write ``model`` (with the config it was built from) to ``path``; returns its identities."""
    ident = identities(model, config)
    payload = {"format_version": FORMAT_VERSION, "kind": _kind_of(model), "preset": config.name,
               "config": config_to_dict(config),
               "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
               "identity": ident, "extra": dict(extra or {})}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save(payload, path)
    return ident


def load_weights(module: nn.Module, state_dict: Dict[str, torch.Tensor], *, source: str) -> None:
    """Strict load with an error that names the file, the missing/unexpected keys and the fix."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    wrong = sorted(k for k in set(own) & set(state_dict) if own[k].shape != state_dict[k].shape)
    if missing or unexpected or wrong:
        def show(keys):
            return ", ".join(keys[:8]) + (f" ... ({len(keys)} in all)" if len(keys) > 8 else "")
        lines = [f"checkpoint {source} does not fit {type(module).__name__}:"]
        if missing:
            lines.append(f"  missing keys: {show(missing)}")
        if unexpected:
            lines.append(f"  unexpected keys: {show(unexpected)}")
        if wrong:
            lines.append("  shape mismatches: " + show(
                [f"{k} file {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}" for k in wrong]))
        lines.append("  fix: build the model from the checkpoint's own config (load_checkpoint does), "
                     "or re-export the file from a model of this preset and code version")
        raise ValueError("\n".join(lines))
    module.load_state_dict(state_dict, strict=True)


def warm_start(module: nn.Module, path: Union[str, os.PathLike], *, part: str) -> Dict[str, list]:
    """Copy into ``module`` every tensor of checkpoint ``path``'s ``part`` ('local' / 'remote')
    whose name and shape match, whatever architecture version wrote the file: a fine-tuning
    start when the architecture changed around unchanged layers. Returns
    {"copied": [...], "fresh": [...] (kept at init), "dropped": [...] (in the file only)}."""
    source = os.fspath(path)
    if not os.path.isfile(source):
        raise FileNotFoundError(f"warm-start checkpoint {source} not found; put it there (the "
                                "stage config says where it comes from) or set "
                                "init.remote_warm_start=null to start from scratch")
    payload = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise ValueError(f"warm-start checkpoint {source} is not a save_checkpoint file")
    prefix = f"{part}." if payload.get("kind") == "dedelayed" else ""
    theirs = {k[len(prefix):]: v for k, v in payload["state_dict"].items() if k.startswith(prefix)}
    own = module.state_dict()
    copied = sorted(k for k in own if k in theirs and theirs[k].shape == own[k].shape)
    module.load_state_dict({**own, **{k: theirs[k] for k in copied}}, strict=True)
    return {"copied": copied, "fresh": sorted(set(own) - set(copied)),
            "dropped": sorted(set(theirs) - set(own))}


def load_checkpoint(path: Union[str, os.PathLike], *, part: Optional[str] = None,
                    verify_identity: bool = True) -> LoadedCheckpoint:
    """Build the model a checkpoint describes and load its weights (CPU, eval mode).

    part: None -> the whole stored module; "local" / "remote" -> that part of it.
    verify_identity: recompute identities and refuse a file whose stored ones differ
    (corrupted file, or code whose architecture changed under the same version).
    """
    source = os.fspath(path)
    if not os.path.isfile(source):
        raise FileNotFoundError(f"checkpoint {source} not found (weights are never downloaded; "
                                "train one or copy it to this path)")
    payload = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        found = payload.get("format_version") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"checkpoint {source}: format_version {found!r}, this code reads "
                         f"{FORMAT_VERSION}; save it again with dedelayed_models.modeling.save_checkpoint")
    config = config_from_dict(payload["config"])
    if config.version != ARCH_VERSION:
        raise ValueError(f"checkpoint {source} was made for architecture v{config.version}; this "
                         f"code builds v{ARCH_VERSION}")
    kind = payload["kind"]
    model = {"dedelayed": lambda: DedelayedModel.from_config(config),
             "local": lambda: build_local(config.local),
             "remote": lambda: RemoteModel.from_config(config.remote, local_hw=config.local_hw),
             }[kind]()
    load_weights(model, payload["state_dict"], source=source)
    model.eval()
    ident = dict(payload.get("identity", {}))
    if verify_identity:
        actual = identities(model, config)
        if actual != ident:
            raise ValueError(f"checkpoint {source}: stored identity {ident} but its weights hash to "
                             f"{actual}; the file is corrupted or was written by different code")
    if part is not None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS} or None, got {part!r}")
        if kind == "dedelayed":
            model = getattr(model, part)
        elif kind != part:
            raise ValueError(f"checkpoint {source} holds a {kind} model, not a {part} model")
    return LoadedCheckpoint(model=model, config=config, identity=ident, kind=kind,
                            extra=dict(payload.get("extra", {})))
