"""ROS-free pieces of the deployment benchmark (docs/ARCHITECTURE.md, "How results are measured").

The whole benchmark (robot with real rclpy publishers, cloud, memory of real processes) is
``python -m dedelayed_bringup.bench --out bench_out/``; this module holds what needs no ROS:

* ``network_stages``: one robot frame through the local model split at the fusion point
  (T1 -> fuse -> rest of the network), each stage timed, so the fusion's own cost is visible;
* ``link_bytes``: uplink WebP bytes per frame at the remote resolution, downlink bytes per
  FeatureMap for every payload encoding, and the Mbit/s both make at 30 fps;
* the budgets, stated once here, and ``verdict`` which every report uses.
"""

from __future__ import annotations

import time
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from ..data.timing import DEFAULT_FPS
from ..data.uplink import WEBP_QUALITY
from ..modeling import get_config, stage1_grid
from ..modeling.config import local_stage1_channels
from ..modeling.fusion import fuse
from ..transport.feature_codec import ENCODINGS, FLOAT32, encode_features
from .models_bench import BUDGET_RATIO
from .world_bench import uplink_bytes

BUDGET_FUSED_OVER_LOCAL = BUDGET_RATIO  # fused / local-only robot latency per frame
BUDGET_ROS_PLUMBING_MS = 2.0            # image conversion + publish per frame [ms] ...
ROS_PLUMBING_CAMERA_HW = (256, 512)     # ... for camera frames of this size (H, W) [px]
BUDGET_FEATURE_BYTES_FRACTION = 1 / 16  # goal: compact z at <= 1/16 of float32's bytes ...
BUDGET_FEATURE_MIOU_LOSS = 0.5          # ... losing at most this many mIoU points


def verdict(value: float, limit: float) -> Dict[str, object]:
    """A budget check as every report stores it: value, limit and whether it is met."""
    return {"value": float(value), "limit": float(limit), "met": bool(value <= limit)}


def _no_sync() -> None:
    pass


def network_stages(local: torch.nn.Module, image: torch.Tensor, z: Optional[torch.Tensor],
                   sync: Callable[[], None] = _no_sync) -> Tuple[torch.Tensor, Dict[str, float]]:
    """Run the robot network on one frame with each stage timed [ms].

    image: (1, 3, H, W) float RGB in [0, 1]; z: (1, C, H/8, W/8) or None (local-only: no fuse
    stage, exactly what the robot runs without features). ``sync`` waits for the device
    (``torch.cuda.synchronize`` on CUDA) so each stage's time is its own.
    Returns ((H, W) int32 class ids, {"T1", "fuse", "rest"} ms); "rest" includes the argmax.
    """
    with torch.inference_mode():
        t0 = time.perf_counter()
        h, skips = local.split(image)
        sync()
        t1 = time.perf_counter()
        if z is not None:
            h = fuse(h, z)
            sync()
        t2 = time.perf_counter()
        ids = local.finish(h, skips, tuple(image.shape[-2:])).argmax(1).to(torch.int32)[0]
        sync()
        t3 = time.perf_counter()
    return ids, {"T1": (t1 - t0) * 1e3, "fuse": (t2 - t1) * 1e3, "rest": (t3 - t2) * 1e3}


def mbit_per_s(bytes_per_message: float, rate_hz: float = DEFAULT_FPS) -> float:
    return bytes_per_message * 8 * rate_hz / 1e6


def token_grid_values(preset: str) -> int:
    """Values per request if the cloud sent z before its pooling MLP, at the token grid
    (pool_hidden x Hr/(8*merge) x Wr/(8*merge)) and the robot finished pool + MLP itself."""
    cfg = get_config(preset)
    stride = 8 * cfg.remote.merge_size
    h, w = (-(-n // stride) for n in cfg.remote_hw)
    return int(cfg.remote.pool_hidden * h * w)


def link_bytes(preset: str, encodings: Sequence[str] = ENCODINGS, uplink_frames: int = 5,
               rate_hz: float = DEFAULT_FPS, seed: int = 0) -> Dict[str, object]:
    """Bytes per message on both link directions for ``preset`` and the Mbit/s at ``rate_hz``.

    Uplink: mean WebP (quality 85) size of world validation frames at the remote resolution.
    Downlink: ``EncodedFeatures.nbytes`` (payload + int8 scale/offset) of z at the local T1
    grid; the size does not depend on the values, so random z stands in for real features.
    """
    cfg = get_config(preset)
    hr, wr = cfg.remote_hw
    up = uplink_bytes(hr, wr, uplink_frames)
    shape = (local_stage1_channels(cfg.local), *stage1_grid(cfg.local_hw))
    z = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    down = {}
    for enc in encodings:
        nbytes = encode_features(z, enc).nbytes
        down[enc] = {"bytes": nbytes, "mbit_per_s": mbit_per_s(nbytes, rate_hz)}
    for enc in down:
        down[enc]["fraction_of_float32"] = down[enc]["bytes"] / down[FLOAT32]["bytes"]
    token_values = token_grid_values(preset)
    return {
        "preset": preset, "rate_hz": rate_hz,
        "uplink": {"remote_hw": [hr, wr], "webp_quality": WEBP_QUALITY, "frames": uplink_frames,
                   "bytes_per_frame": up, "mbit_per_s": mbit_per_s(up, rate_hz)},
        "downlink": {"z_shape": list(shape), "per_encoding": down},
        # Why the token-resolution option is not implemented: it is only smaller when the token
        # grid times pool_hidden is smaller than z (true for 'small', false for 'paper').
        "token_resolution_option": {
            "values": token_values, "z_values": int(np.prod(shape)),
            "ratio_to_z": token_values / float(np.prod(shape)), "implemented": False},
    }
