"""Data: the synthetic driving world, dataset loaders, delayed clips, the uplink codec.

Frame sources (one video each, random access; see ``sources.py``): ``WorldSequence``,
``BDDVideo`` (``open_bdd_split``), ``CityscapesSnippet`` (``open_cityscapes``),
``CamVidSequence``, ``FrameFolder``; labels are converted to trainIds at the edge
(``label_encoding.py``). ``DelayedClipDataset`` + ``DelayBatchSampler`` turn sources into training
samples; ``encode_uplink`` / ``decode_uplink`` is the WebP uplink shared with the robot.
``world_sources`` / ``RenderedSource`` (``world_sources.py``) render world sequences once for
training, evaluation and benchmarks; ``open_sources`` (``datasets.py``) opens the real source a
data config names; ``build_datasets`` is a training config's (train, val) pair, world or real.
"""

from .bdd import BDDVideo, open_bdd_split, write_clip
from .camvid import CamVidSequence, camvid_shared_root
from .cityscapes import CityscapesSnippet, labelids_to_trainids, open_cityscapes
from .datasets import SOURCES, build_datasets, open_sources
from .delayed import DelayBatchSampler, DelayedClipDataset
from .frames import FrameFolder
from .label_encoding import LABEL_ENCODINGS
from .paths import shared_data_dir
from .timing import DEFAULT_DELAY_FRAMES_RANGE, DEFAULT_FPS, delay_frames_to_ms, delay_ms_to_frames, frame_period_ms
from .uplink import WEBP_QUALITY, decode_uplink, encode_uplink, uplink_roundtrip
from .world import WorldSequence, world_seeds
from .world_sources import RenderedSource, world_sources

__all__ = [
    "BDDVideo", "open_bdd_split", "write_clip", "CamVidSequence", "camvid_shared_root", "CityscapesSnippet",
    "labelids_to_trainids", "open_cityscapes", "DelayBatchSampler", "DelayedClipDataset", "shared_data_dir",
    "DEFAULT_DELAY_FRAMES_RANGE", "DEFAULT_FPS", "delay_frames_to_ms", "delay_ms_to_frames", "frame_period_ms",
    "WEBP_QUALITY", "decode_uplink", "encode_uplink", "uplink_roundtrip", "WorldSequence", "world_seeds",
    "RenderedSource", "build_datasets", "world_sources", "SOURCES", "open_sources", "FrameFolder",
    "LABEL_ENCODINGS",
]
