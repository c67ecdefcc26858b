"""Synthetic-world data for training, evaluation and benchmarks: rendered once, reused by every pass.

Rendering a world frame costs ~0.1-0.3 s on a shared CPU, so ``RenderedSource`` renders each
frame a sequence needs exactly once (fresh frame at local resolution, WebP-uplinked frame at
remote resolution, label at local resolution) and keeps them as uint8 arrays, optionally in an
``.npz`` under ``cache_dir`` shared by the three stage runs and the evaluation. ``DelayedClipDataset``
(``delayed.py``) then builds the usual samples from it with ``uplink_quality=None`` (the codec
already ran). ``build_datasets`` makes the (train, val) pair a training config describes.
"""

from __future__ import annotations

import hashlib
import os
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .context_timing import LiveTimingSampler
from .delayed import DelayedClipDataset
from .timing import DEFAULT_FPS
from .uplink import uplink_roundtrip
from .world import WorldSequence, world_seeds

HW = Tuple[int, int]


class RenderedSource:
    """Frame source (``sources.py`` protocol) over a pre-rendered ``WorldSequence``.

    ``frame(t, remote_hw)`` returns the uplinked (codec round-trip) frame, ``frame(t, local_hw)``
    the raw one; ``label(t, hw)`` any pre-rendered label size. Other sizes are an error.
    """

    def __init__(self, world: WorldSequence, *, local_hw: HW, remote_hw: HW,
                 uplink_quality: Optional[int], label_hws: Sequence[HW] = (),
                 cache_dir: Optional[str] = None):
        self.local_hw, self.remote_hw = tuple(local_hw), tuple(remote_hw)
        if self.local_hw == self.remote_hw:
            raise ValueError(f"local_hw and remote_hw are both {self.local_hw}; RenderedSource tells "
                             "the raw local frame from the uplinked remote frame by size")
        self.name, self.fps, self.num_frames = world.name, world.fps, world.num_frames
        self.motion = world.motion
        self.label_hws = [self.local_hw] + [tuple(h) for h in label_hws if tuple(h) != self.local_hw]
        fps_key = "" if world.fps == DEFAULT_FPS else f"-f{world.fps:g}"  # default-rate keys predate the rate
        key = f"{world.name}-m{world.motion}-n{world.num_frames}{fps_key}-{self.local_hw}-{self.remote_hw}-" \
              f"q{uplink_quality}-{self.label_hws}"
        path = None
        if cache_dir:
            os.makedirs(cache_dir, exist_ok=True)
            path = os.path.join(cache_dir, hashlib.sha1(key.encode()).hexdigest()[:16] + ".npz")
        if path and os.path.isfile(path):
            with np.load(path) as z:
                self.local, self.remote = z["local"], z["remote"]
                self.labels = {hw: z[f"label_{hw[0]}x{hw[1]}"] for hw in self.label_hws}
            return
        ts = range(world.num_frames)
        self.local = np.stack([world.frame(t, self.local_hw) for t in ts])
        remote = [world.frame(t, self.remote_hw) for t in ts]
        if uplink_quality is not None:
            remote = [uplink_roundtrip(f, uplink_quality) for f in remote]
        self.remote = np.stack(remote)
        self.labels = {hw: np.stack([world.label(t, hw) for t in ts]) for hw in self.label_hws}
        if path:
            tmp = path + f".tmp{os.getpid()}.npz"
            np.savez(tmp, local=self.local, remote=self.remote,
                     **{f"label_{hw[0]}x{hw[1]}": v for hw, v in self.labels.items()})
            os.replace(tmp, path)

    @property
    def labeled_frames(self) -> range:
        return range(self.num_frames)

    def frame(self, t: int, size_hw=None) -> np.ndarray:
        hw = tuple(size_hw) if size_hw is not None else self.local_hw
        if hw == self.local_hw:
            return self.local[t]
        if hw == self.remote_hw:
            return self.remote[t]
        raise ValueError(f"{self.name}: rendered at {self.local_hw} and {self.remote_hw}, not {hw}")

    def label(self, t: int, size_hw=None) -> np.ndarray:
        hw = tuple(size_hw) if size_hw is not None else self.local_hw
        if hw not in self.labels:
            raise ValueError(f"{self.name}: labels rendered at {list(self.labels)}, not {hw}")
        return self.labels[hw][t]


def sequence_motion(seed: int, motion_range: Sequence[float]) -> float:
    """The motion of world sequence ``seed`` when motions are drawn from ``motion_range``:
    uniform in it, a function of the seed only, rounded to 0.01 (it is part of cache keys)."""
    lo, hi = (float(v) for v in motion_range)
    return round(float(np.random.default_rng([seed, 17]).uniform(lo, hi)), 2)


def world_sources(split: str, count: int, num_frames: int, *, motion: float, local_hw: HW,
                  remote_hw: HW, uplink_quality: Optional[int], cache_dir: Optional[str] = None,
                  label_hws: Sequence[HW] = (), start: int = 0, fps: Optional[float] = None,
                  motion_range: Optional[Sequence[float]] = None) -> list:
    """``count`` pre-rendered world sequences of ``split`` ('train' / 'val'), at ``motion``, or
    each at its own motion drawn from ``motion_range``; ``fps`` None = the world's default."""
    extra = {} if fps is None else {"fps": float(fps)}
    return [RenderedSource(WorldSequence(seed, num_frames=num_frames,
                                         motion=sequence_motion(seed, motion_range) if motion_range
                                         else motion, **extra),
                           local_hw=local_hw, remote_hw=remote_hw, uplink_quality=uplink_quality,
                           label_hws=label_hws, cache_dir=cache_dir)
            for seed in world_seeds(split, count, start)]


def timing_sampler(data_cfg: Dict) -> Optional[LiveTimingSampler]:
    """The training config's context-timing sampler: None for the paper's regular timing."""
    if data_cfg["timing"] == "paper":
        return None
    if data_cfg["timing"] == "live":
        return LiveTimingSampler.from_config(data_cfg["live_timing"])
    raise ValueError(f"data.timing {data_cfg['timing']!r}: choose 'paper' or 'live'")


def build_datasets(cfg: Dict, model_cfg) -> Tuple[DelayedClipDataset, DelayedClipDataset]:
    """(train, val) delayed-clip datasets for a training config (``train/config.py`` schema)."""
    d = cfg["data"]
    common = dict(motion=d["motion"], local_hw=model_cfg.local_hw, remote_hw=model_cfg.remote_hw,
                  uplink_quality=d["uplink_quality"], cache_dir=d["cache_dir"])
    lo, hi = d["delay_frames_range"]
    kw = dict(local_hw=model_cfg.local_hw, remote_hw=model_cfg.remote_hw,
              num_remote_frames=model_cfg.remote.num_frames, delay_frames_range=(lo, hi),
              uplink_quality=None, timing=timing_sampler(d), seed=cfg["seed"])
    train = DelayedClipDataset(world_sources("train", d["train_sequences"], d["train_frames"],
                                             motion_range=d["train_motion_range"], **common), **kw)
    val = DelayedClipDataset(world_sources("val", d["val_sequences"], d["val_frames"], **common), **kw)
    return train, val
