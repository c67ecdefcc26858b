"""Delayed clips: the one sample type of every training stage, and per-batch delay sampling.

A sample (a dict, so ``torch.utils.data.default_collate`` batches it) for frame t and delay D:

- ``image``: (3, H, W) float32 in [0, 1], the fresh frame x_t at local resolution;
- ``remote_frames``: (K, 3, Hr, Wr) float32 in [0, 1], the context frames (oldest first; by
  default t-D-(K-1)*stride .. t-D) at remote resolution, passed through the WebP uplink when
  ``uplink_quality`` is set;
- ``delay_frames``: int D, the newest context frame's distance to t; ``delay_ms``: float, D frame
  periods of the source's fps;
- ``frame_ages_ms``: (K,) float32, each context frame's age at frame t [ms] (what the remote
  model is conditioned on; see ``context_timing.py``);
- ``label``: (H, W) int64 trainIds of frame t at local resolution (255 void);
- ``label_remote``: (Hr, Wr) int64 trainIds of frame t at remote resolution (only if
  ``with_remote_label``; the remote model's delay-aware target is the *present* frame t);
- ``source``: str name of the video, ``frame_index``: int t.

The paper draws D per batch (uniform over 0-5 frames at 30 fps). ``DelayBatchSampler`` yields
batches of ``(index, D)`` keys with one D per batch; indexing with a plain int draws D per
sample instead, deterministically from (seed, index). With a ``timing`` sampler (e.g.
``LiveTimingSampler``) the dataset draws a whole ``ContextTiming`` per sample instead (delay,
context spacing, skipped frames), and keys may be ``(index, ContextTiming)``; a target frame
with too little history for its drawn timing is moved, deterministically, to one that has it.
"""

import logging

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from .context_timing import ContextTiming
from .labels import resize_image
from .timing import DEFAULT_DELAY_FRAMES_RANGE, delay_frames_to_ms
from .uplink import WEBP_QUALITY, uplink_roundtrip

log = logging.getLogger(__name__)


def _to_tensor(image_rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image_rgb.transpose(2, 0, 1))).float().div_(255.0)


class DelayedClipDataset(Dataset):
    """Map-style dataset of delayed clips over frame sources (see ``sources.py``).

    Index space: every labelled frame t of every source that has K frames ending at t - D_max
    (and, for still-image sources, ``static_sources=True``: see below). Frames that cannot serve
    are skipped *and counted*: ``num_skipped_frames`` and one log line say how many.

    static_sources: for single labelled images (Cityscapes without ``leftImg8bit_sequence``)
    every frame is its own past: the K remote frames are copies of frame t and D is reported
    as 0 (still-image pretraining, no motion to predict).
    """

    def __init__(self, sources, *, local_hw, remote_hw, num_remote_frames: int = 2,
                 delay_frames_range=DEFAULT_DELAY_FRAMES_RANGE, remote_stride_frames: int = 1,
                 uplink_quality=WEBP_QUALITY, with_remote_label: bool = False, static_sources: bool = False,
                 timing=None, seed: int = 0):
        if num_remote_frames < 1 or remote_stride_frames < 1:
            raise ValueError(f"num_remote_frames ({num_remote_frames}) and remote_stride_frames "
                             f"({remote_stride_frames}) must be >= 1")
        lo, hi = (int(v) for v in delay_frames_range)
        if not 0 <= lo <= hi:
            raise ValueError(f"delay_frames_range must be 0 <= lo <= hi, got {delay_frames_range}")
        self.sources = list(sources)
        self.local_hw, self.remote_hw = tuple(local_hw), tuple(remote_hw)
        self.k, self.stride = int(num_remote_frames), int(remote_stride_frames)
        self.delay_frames_range = (lo, hi)
        self.uplink_quality = uplink_quality
        self.with_remote_label, self.static_sources, self.seed = with_remote_label, static_sources, seed
        self.timing = timing
        self.history_frames = 0 if static_sources else hi + (self.k - 1) * self.stride
        if timing is not None and not static_sources:
            # Any frame with one frame of history can serve; longer draws move the target.
            self.history_frames = self.k - 1
            for src in self.sources:
                need = timing.max_history_frames(self.k, src.fps)
                if need >= src.num_frames:
                    raise ValueError(f"{src.name}: {src.num_frames} frames at {src.fps} fps, but the "
                                     f"timing sampler can need {need} frames of history; render "
                                     f"longer sequences (data.train_frames) or narrow the timing")
        self.index = []
        self.num_skipped_frames = 0
        for i, src in enumerate(self.sources):
            usable = [t for t in src.labeled_frames if t >= self.history_frames]
            if not usable and not static_sources:
                raise ValueError(f"{src.name}: {src.num_frames} frames, none labelled at t >= "
                                 f"{self.history_frames}; K={self.k} remote frames at stride {self.stride} "
                                 f"with delays up to {hi} need a longer video")
            self.num_skipped_frames += len(src.labeled_frames) - len(usable)
            self.index.extend((i, t) for t in usable)
        if self.num_skipped_frames:
            log.info("DelayedClipDataset: skipped %d labelled frames with fewer than %d frames of history",
                     self.num_skipped_frames, self.history_frames)

    def __len__(self) -> int:
        return len(self.index)

    def draw_delay(self, idx: int) -> int:
        lo, hi = self.delay_frames_range
        return int(np.random.default_rng([self.seed, idx]).integers(lo, hi + 1))

    def draw_timing(self, idx: int, epoch: int = 0) -> ContextTiming:
        """The context timing of sample ``idx`` (deterministic in seed, epoch and idx)."""
        if self.timing is None:
            return ContextTiming.regular(self.draw_delay(idx), self.k, self.stride)
        src = self.sources[self.index[idx][0]]
        return self.timing.draw(np.random.default_rng([self.seed, epoch, idx]), self.k, src.fps)

    def _timing_of(self, idx: int, spec) -> ContextTiming:
        if spec is None:
            return self.draw_timing(idx)
        if isinstance(spec, ContextTiming):
            if spec.num_frames != self.k:
                raise ValueError(f"timing {spec} has {spec.num_frames} frames; this dataset has K={self.k}")
            return spec
        lo, hi = self.delay_frames_range
        if not lo <= spec <= hi:
            raise ValueError(f"delay {spec} frames outside this dataset's range {self.delay_frames_range}")
        return ContextTiming.regular(int(spec), self.k, self.stride)

    def __getitem__(self, key) -> dict:
        idx, spec = (key if isinstance(key, tuple) else (key, None))
        timing = self._timing_of(idx, spec)
        src_i, t = self.index[idx]
        src = self.sources[src_i]
        if self.static_sources:
            timing = ContextTiming.regular(0, self.k, 0)
        elif timing.history_frames > t:
            usable = [f for f in src.labeled_frames if f >= timing.history_frames]
            if not usable:
                raise ValueError(f"{src.name}: no labelled frame has the {timing.history_frames} "
                                 f"frames of history that timing {timing} needs")
            t = usable[t % len(usable)]
        delay = timing.delay_frames
        times = timing.frame_indices(t)
        remote = []
        for tr in times:
            frame = src.frame(tr, self.remote_hw)
            if self.uplink_quality is not None:
                frame = uplink_roundtrip(frame, self.uplink_quality)
            remote.append(_to_tensor(frame))
        sample = {
            "image": _to_tensor(resize_image(src.frame(t - timing.image_lag_frames, self.local_hw),
                                             self.local_hw)),
            "remote_frames": torch.stack(remote),
            "delay_frames": int(delay),
            "delay_ms": float(delay_frames_to_ms(delay, src.fps)),
            "frame_ages_ms": torch.tensor(timing.ages_ms(src.fps), dtype=torch.float32),
            "label": torch.from_numpy(src.label(t, self.local_hw).astype(np.int64)),
            "source": src.name,
            "frame_index": int(t),
        }
        if self.with_remote_label:
            sample["label_remote"] = torch.from_numpy(src.label(t, self.remote_hw).astype(np.int64))
        return sample


class DelayBatchSampler(Sampler):
    """Batches of ``(index, delay_frames)`` with one delay per batch, uniform over the range.

    Use as ``DataLoader(dataset, batch_sampler=DelayBatchSampler(len(dataset), 8))``. The order
    and delays are a function of ``seed`` and the epoch (call ``set_epoch``).
    """

    def __init__(self, dataset_len: int, batch_size: int, delay_frames_range=DEFAULT_DELAY_FRAMES_RANGE,
                 shuffle: bool = True, drop_last: bool = False, seed: int = 0):
        if batch_size < 1 or dataset_len < 1:
            raise ValueError(f"need batch_size >= 1 and a non-empty dataset, got {batch_size}, {dataset_len}")
        self.n, self.batch_size = int(dataset_len), int(batch_size)
        self.delay_frames_range = tuple(int(v) for v in delay_frames_range)
        self.shuffle, self.drop_last, self.seed, self.epoch = shuffle, drop_last, seed, 0

    def set_epoch(self, epoch: int):
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n // self.batch_size if self.drop_last else -(-self.n // self.batch_size)

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        lo, hi = self.delay_frames_range
        for b in range(len(self)):
            chunk = order[b * self.batch_size:(b + 1) * self.batch_size]
            delay = int(rng.integers(lo, hi + 1))
            yield [(int(i), delay) for i in chunk]
