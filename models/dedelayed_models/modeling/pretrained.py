"""Pretrained weights: a file plus a loader, with the facts that belong beside them.

Weights are never downloaded. Each entry names a file under the shared data folder
(``data/paths.py``: ``$DEDELAYED_SHARED_DATA`` or ``<repo>/../shared/data``), where it came from,
its licence, its checksum, the network it fits and what it is known to score; a training config
starts a model from one with ``init.local_pretrained`` / ``init.remote_pretrained`` (an entry
name, a path to a file of the same layout, or a project checkpoint whose local model is a
fine-tuned network of that family and width).

ESPNetv2 Cityscapes weights (``sacmehta/EdgeNets`` commit 2b232d3f7fb6, MIT licence; trained on
Cityscapes fine annotations, whose terms are non-commercial research use): 20 outputs (trainIds
0-18, then the authors' background), input RGB / 255 normalised with the ImageNet mean and std
(``layers.InputNormalize``, applied inside the networks), height and width multiples of 16.
Measured here: s=2.0 (1024x512 file) scores 59.2 mIoU over CamVid's 11 classes on the 0016E5
clip at 640x480 with no CamVid training (``test/test_pretrained_espnetv2.py`` reproduces it).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional

import torch
import torch.nn as nn

from ..data.paths import shared_data_dir
from .checkpoint import load_weights
from .espnetv2 import ESPNetv2Segmentation

ESPNETV2_FOLDER = "pretrained/espnetv2-cityscapes"


@dataclass(frozen=True)
class PretrainedWeights:
    name: str
    family: str                  # "espnetv2": fits ESPNetv2Local / ESPNetv2Features
    width: float                 # width multiplier the file was trained at
    relative_path: str           # under the shared data folder
    sha256_prefix: str           # first 16 hex digits of the file's sha256
    trained_hw: tuple            # (H, W) it was trained at
    source: str = "sacmehta/EdgeNets@2b232d3f7fb6 model/segmentation/model_zoo/espnetv2"
    licence: str = "MIT (weights); Cityscapes: non-commercial research use"
    expected: str = ""           # a measured score, where one is known

    @property
    def path(self) -> Path:
        return shared_data_dir() / self.relative_path


def _espnetv2(width: float, trained: str, sha: str, expected: str = "") -> PretrainedWeights:
    w, h = (int(v) for v in trained.split("x"))
    return PretrainedWeights(name=f"espnetv2_s{width}_cityscapes_{trained}", family="espnetv2",
                             width=width,
                             relative_path=f"{ESPNETV2_FOLDER}/espnetv2_s_{width}_city_{trained}.pth",
                             sha256_prefix=sha, trained_hw=(h, w), expected=expected)


PRETRAINED: Dict[str, PretrainedWeights] = {p.name: p for p in (
    _espnetv2(0.5, "512x256", "63e398dec148f63c"),
    _espnetv2(1.0, "512x256", "002121eee40c31c8"),
    _espnetv2(1.5, "512x256", "711c76f0f8146429"),
    _espnetv2(2.0, "512x256", "6b6f26b567c82bb4"),
    _espnetv2(0.5, "1024x512", "9412a86a30f13754", "39.4 mIoU (CamVid 11 classes, 0016E5, 320x240)"),
    _espnetv2(1.0, "1024x512", "0918c833fed889e3", "46.7 mIoU (CamVid 11 classes, 0016E5, 320x240)"),
    _espnetv2(1.5, "1024x512", "0dbbda9126583d62"),
    _espnetv2(2.0, "1024x512", "a72d59699801c7ce", "59.2 mIoU (CamVid 11 classes, 0016E5, 640x480)"),
)}


def sha256_prefix(path: Path, chars: int = 16) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:chars]


def resolve(name_or_path: str) -> tuple:
    """(file path, registry entry or None) for an entry name or a file path; a clear error
    naming the entries and the shared folder when neither exists."""
    if name_or_path in PRETRAINED:
        entry = PRETRAINED[name_or_path]
        if not entry.path.is_file():
            raise FileNotFoundError(
                f"pretrained weights {name_or_path}: {entry.path} not found; weights are never "
                f"downloaded: put the file there (source: {entry.source}) or point "
                f"$DEDELAYED_SHARED_DATA at the folder that holds {ESPNETV2_FOLDER}")
        return entry.path, entry
    path = Path(os.path.expanduser(name_or_path))
    if path.is_file():
        return path, None
    raise FileNotFoundError(f"pretrained weights {name_or_path!r}: neither a registered name "
                            f"({sorted(PRETRAINED)}) nor a file")


def load_pretrained(module: nn.Module, name_or_path: str, *, verify_checksum: bool = True
                    ) -> Optional[PretrainedWeights]:
    """Load pretrained weights into ``module`` (an ``ESPNetv2Local`` or ``ESPNetv2Features``) with
    a strict state-dict load; checks the family, width and (for registry entries) the checksum."""
    path, entry = resolve(name_or_path)
    if entry is not None:
        if not isinstance(module, ESPNetv2Segmentation):
            raise ValueError(f"pretrained weights {entry.name} are {entry.family}; "
                             f"{type(module).__name__} is another family")
        if abs(float(module.width) - entry.width) > 1e-9:
            raise ValueError(f"pretrained weights {entry.name} have width s={entry.width} but the "
                             f"model was built with s={module.width}; set the config's width to "
                             f"{entry.width} or pick the s={module.width} file")
        if verify_checksum and sha256_prefix(path) != entry.sha256_prefix:
            raise ValueError(f"{path}: sha256 starts {sha256_prefix(path)}, expected "
                             f"{entry.sha256_prefix}; the file is corrupt or another version")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and "kind" in state:
        state = _local_weights_of_checkpoint(state, module, path)
    load_weights(module, state, source=str(path))
    return entry


def _local_weights_of_checkpoint(payload: dict, module: nn.Module, path: Path) -> dict:
    """The local model's state dict of a ``save_checkpoint`` file (a fine-tuned network of this
    family), checked to be the same family and width as ``module``."""
    local = payload.get("config", {}).get("local", {})
    family, width = local.get("family", "world"), float(local.get("width", 1.0))
    if payload["kind"] not in ("local", "dedelayed") or family != "espnetv2" \
            or not isinstance(module, ESPNetv2Segmentation) or abs(width - module.width) > 1e-9:
        raise ValueError(f"{path}: a {payload['kind']} checkpoint whose local model is {family} "
                         f"s={width}; starting {type(module).__name__} s={getattr(module, 'width', '?')} "
                         "needs an ESPNetv2 local model of that width")
    prefix = "local." if payload["kind"] == "dedelayed" else ""
    return {k[len(prefix):]: v for k, v in payload["state_dict"].items() if k.startswith(prefix)}
