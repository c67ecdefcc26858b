"""Which video a run uses: the ``data.source`` table and the frame sources a data config opens.

``data.source`` (training configs' ``data`` section, ``train/config.py``; ``evaluate --dataset``):

| source | layout under ``data.root`` | frame rate | label encoding |
|---|---|---|---|
| ``world`` | none: the procedural driving world (``data/world``) | 30 fps (``timing.py``) | rendered trainIds |
| ``bdd100k`` | ``videos/<split>/<name>.mp4`` + ``labels/<split>/<name>/<frame:06d>.png`` (``bdd.py``) | each video's header | ``trainid`` |
| ``cityscapes`` | ``leftImg8bit[_sequence]/<split>/<city>/...`` + ``gtFine/...`` (``cityscapes.py``) | 17 fps | by file name: ``_labelIds`` or ``_labelTrainIds`` |
| ``camvid`` | ``frames/`` + ``labels/`` (``camvid.py``); no root = the shared 0016E5 clip | 15 fps | ``camvid11`` |
| ``frames`` | ``frames/`` + optional ``labels/`` (``frames.py``) | stated (``data.fps`` / dataset.yaml) | ``trainid`` |

A ``dataset.yaml`` in the root may state ``fps``, ``label_encoding`` and ``classes`` (the class
names the labels use, ``classes.py`` spelling); ``data.fps`` and ``data.label_encoding`` override
it. The class set the dataset labels is ``classes`` if given, else every class its encoding maps
to (``label_encoding.py``): evaluation reports the mIoU over it beside the 19-class mIoU.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from ..classes import CLASS_NAMES
from .bdd import open_bdd_split
from .camvid import DEFAULT_CAMVID_FPS, CamVidSequence, camvid_shared_root
from .cityscapes import CITYSCAPES_FPS, open_cityscapes
from .delayed import DelayedClipDataset
from .frames import FrameFolder
from .label_encoding import class_ids_from_names, label_encoding
from .paths import shared_data_dir
from .prepared import FrameMemo, FrameRange, PreparedSource
from .resize import check_policy
from .world_sources import build_datasets as build_world_datasets
from .world_sources import timing_sampler

log = logging.getLogger(__name__)
SOURCES = ("world", "bdd100k", "cityscapes", "camvid", "frames")
NATIVE_ENCODING = {"bdd100k": "trainid", "cityscapes": "by file name", "camvid": "camvid11", "frames": "trainid"}
NATIVE_FPS = {"cityscapes": CITYSCAPES_FPS, "camvid": DEFAULT_CAMVID_FPS}
DATASET_YAML = "dataset.yaml"
DATASET_YAML_KEYS = ("fps", "label_encoding", "classes")


@dataclass(frozen=True)
class DataSpec:
    """What a real data config resolves to (the report's description of the data)."""

    source: str
    root: str
    split: str
    encoding: str
    class_ids: Tuple[int, ...]   # trainIds the dataset labels, sorted
    resize: str

    @property
    def class_names(self) -> List[str]:
        return [CLASS_NAMES[i] for i in self.class_ids]


def read_dataset_yaml(root: Path) -> Dict:
    """``<root>/dataset.yaml`` as a dict ({} if absent); unknown keys are an error."""
    path = Path(root) / DATASET_YAML
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    unknown = sorted(set(data) - set(DATASET_YAML_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown keys {unknown}; known: {list(DATASET_YAML_KEYS)}")
    return data


SHARED_PREFIX = "shared:"   # data.root "shared:<folder>" = that folder of the shared data (data/paths.py)


def _root(d: Dict) -> Path:
    if d["root"] and str(d["root"]).startswith(SHARED_PREFIX):
        root = shared_data_dir() / str(d["root"])[len(SHARED_PREFIX):]
    elif d["root"]:
        root = Path(os.path.expanduser(str(d["root"])))
    elif d["source"] == "camvid":
        root = camvid_shared_root()
    else:
        raise ValueError(f"data.source={d['source']} needs data.root: the dataset folder "
                         f"(e.g. --set data.root=/data/{d['source']})")
    if not root.is_dir():
        raise FileNotFoundError(f"data.root {root}: no such folder")
    return root


def _split(d: Dict, role: str) -> str:
    return d[f"{role}_split"]


def _select(sources: list, selectors, where: str) -> list:
    """Sources whose name equals a selector or starts with ``selector_`` (a Cityscapes city)."""
    if not selectors:
        return sources
    keep = [s for s in sources if any(s.name == x or s.name.startswith(f"{x}_") for x in selectors)]
    if not keep:
        raise ValueError(f"data.sequences {list(selectors)} match none of the {len(sources)} sequences "
                         f"in {where} (e.g. {[s.name for s in sources[:3]]})")
    return keep


def open_sources(d: Dict, role: str) -> Tuple[list, DataSpec]:
    """The native frame sources of data config ``d`` for ``role`` ('train' or 'val'): split,
    sequence selection, frame range and fps override applied; and the ``DataSpec``."""
    source = d["source"]
    if source not in SOURCES or source == "world":
        raise ValueError(f"data.source {source!r}: open_sources reads real data; choose one of {SOURCES[1:]}")
    root, split = _root(d), _split(d, role)
    declared = read_dataset_yaml(root)
    fps = d["fps"] or declared.get("fps")
    encoding = d["label_encoding"] or declared.get("label_encoding")
    if source == "bdd100k":
        sources = open_bdd_split(root, split, label_encoding_name=encoding or "trainid")
        where = root / "videos" / split
    elif source == "cityscapes":
        if encoding:
            raise ValueError(f"data.label_encoding={encoding}: Cityscapes label file names say their "
                             f"encoding (_labelIds / _labelTrainIds); leave it unset")
        sources, where = open_cityscapes(root, split), root / "leftImg8bit" / split
    elif source == "camvid":
        sources, where = [CamVidSequence(root, fps or DEFAULT_CAMVID_FPS, encoding or "camvid11")], root
    else:
        if not fps:
            raise ValueError(f"data.source=frames: a folder of frames does not say its frame rate; set "
                             f"data.fps (e.g. --set data.fps=15) or write 'fps: 15' in {root / DATASET_YAML}")
        sources, where = [FrameFolder(root, fps, encoding or "trainid")], root
    if not sources:
        raise FileNotFoundError(f"{where}: no labelled sequences")
    if fps:
        for s in sources:
            s.fps = float(fps)
    sources = _select(sources, d["sequences"], str(where))
    frame_range = d[f"{role}_frame_range"]
    if frame_range is not None:
        if len(frame_range) != 2:
            raise ValueError(f"data.{role}_frame_range {frame_range}: give [start, stop) frame indices")
        sources = [FrameRange(s, *frame_range) for s in sources]
    if "classes" in declared:
        class_ids = class_ids_from_names(declared["classes"], str(root / DATASET_YAML))
    elif source == "cityscapes":
        class_ids = label_encoding("cityscapes_labelid").class_ids
    else:
        class_ids = label_encoding(encoding or NATIVE_ENCODING[source]).class_ids
    spec = DataSpec(source, str(root), split, encoding or NATIVE_ENCODING[source], class_ids,
                    check_policy(d["resize"]))
    return sources, spec


def dataset_class_names(d: Dict) -> Optional[List[str]]:
    """Names of the classes a real data config's dataset labels; None for the world (all 19)."""
    return None if d["source"] == "world" else open_sources(d, "val")[1].class_names


def prepared_sources(d: Dict, role: str, model_cfg, uplink_quality: Optional[int]) -> Tuple[list, DataSpec]:
    """``open_sources`` wrapped for the model: resize policy, uplink at ``remote_hw``, memo."""
    sources, spec = open_sources(d, role)
    memo = FrameMemo()
    return [PreparedSource(s, remote_hw=model_cfg.remote_hw, uplink_quality=uplink_quality,
                           resize=spec.resize, memo=memo) for s in sources], spec


def is_still_images(sources) -> bool:
    """Cityscapes without its sequence package: every source is one labelled image."""
    return all(s.num_frames == 1 for s in sources)


def frame_rate(sources) -> float:
    """The one frame rate of ``sources`` [Hz]; an error naming both when they differ."""
    rates = sorted({round(float(s.fps), 3) for s in sources})
    if len(rates) > 1:
        raise ValueError(f"sequences play at {rates} fps; delays in ms need one rate: select sequences "
                         f"of one rate (data.sequences) or set data.fps")
    return float(sources[0].fps)


def _overlap(a, b) -> bool:
    lo_a, hi_a = a if a is not None else (0, float("inf"))
    lo_b, hi_b = b if b is not None else (0, float("inf"))
    return max(lo_a, lo_b) < min(hi_a, hi_b)


def build_datasets(cfg: Dict, model_cfg):
    """(train, val) delayed-clip datasets for a training config (``train/config.py`` schema):
    the world's (``world_sources.py``), or the real source's train and val role."""
    d = cfg["data"]
    if d["source"] not in SOURCES:
        raise ValueError(f"data.source {d['source']!r} unknown; choose one of {list(SOURCES)}")
    if d["source"] == "world":
        return build_world_datasets(cfg, model_cfg)
    if d["source"] in ("camvid", "frames") and _overlap(d["train_frame_range"], d["val_frame_range"]):
        log.warning("data.source=%s: training and validation read overlapping frames of one folder "
                    "(train_frame_range %s, val_frame_range %s); set both to disjoint [start, stop) "
                    "ranges to validate on unseen frames", d["source"], d["train_frame_range"],
                    d["val_frame_range"])
    lo, hi = d["delay_frames_range"]
    out = []
    for role in ("train", "val"):
        sources, _ = prepared_sources(d, role, model_cfg, d["uplink_quality"])
        out.append(DelayedClipDataset(
            sources, local_hw=model_cfg.local_hw, remote_hw=model_cfg.remote_hw,
            num_remote_frames=model_cfg.remote.num_frames, delay_frames_range=(lo, hi), uplink_quality=None,
            static_sources=is_still_images(sources), timing=timing_sampler(d), seed=cfg["seed"]))
    return tuple(out)
