"""Remote (cloud-side) delay-conditioned video model (paper section 4.2, Fig. 5, appendix A.1).

    frames (B, K, 3, Hr, Wr) RGB [0,1], K context frames, oldest first
      -> encode_frames, once per frame (the cloud caches it per uplinked frame, paper 4.2):
         image_backbone (``families.py``): the world's conv stem + MBConv + ReLU linear
         attention, or a pretrained network (ESPNetv2), stride 8
         -> patch_merge 2x2 (stride 16, d_model)          (B, K, d, Hr/16, Wr/16)
         (merge_size is configurable: 4x4 keeps joint attention affordable on two cores)
      -> forward_encoded, once per answer:
         + time_embedding (learned, per frame slot) + depthwise 3-D conv position encoding
         + delay_embedding(frame_ages_ms[k]) on frame k's tokens: the age of each context frame
           at the target instant, target time minus that frame's stamp, continuous float ms
         -> vit3d: space-time attention blocks (joint, or divided space / time) -> norm
                                                                      = forward_features

Time conditioning: the paper embeds one delay tau for a regular 30 fps context; here every
frame carries its own age, so a context at any frame rate, with skipped frames, is described
exactly. For a regular context the K ages are tau + (K-1-k) * frame period
(``context_ages_ms``): the paper's delay embedding is that special case.
      -> fold time into channels (B, d*K, h16, w16)
         -> features: pre_pool MLP -> adaptive average pool to T1's grid -> post_pool MLP -> z (B, C, h, w)
         -> forward (pretraining only): predictive head -> logits for frame t

Time is folded into channels before pooling (as in the paper's A.1 code, where the temporal
pool keeps all K slots), so the pooling resamples space only and no frame's motion cue is averaged
away. The adaptive pool goes to whatever grid the local model has, so one remote model serves
any local resolution.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import RemoteConfig
from .families import build_image_backbone
from .frame_cache import FrameFeatureCache
from .fusion import stage1_grid
from .layers import SPACE_TIME_BLOCKS, adaptive_avg_pool2d_matmul, dims

DelayLike = Union[float, int, Sequence[float], torch.Tensor]
AgesLike = Union[Sequence[float], Sequence[Sequence[float]], torch.Tensor]


def context_ages_ms(delay_ms: DelayLike, frame_period_ms: float, num_frames: int) -> torch.Tensor:
    """Ages (B, K) [ms] of a regular context of K frames, frame_period_ms apart, whose newest
    frame is delay_ms (B,) or a scalar before the target instant; oldest first."""
    d = torch.as_tensor(delay_ms, dtype=torch.float32).reshape(-1, 1)
    steps = torch.arange(num_frames - 1, -1, -1, dtype=torch.float32) * float(frame_period_ms)
    return d + steps


class DelayEmbedding(nn.Module):
    """Learned continuous embedding of the delay tau: (B,) float ms -> (B, dim).

    Sinusoidal features at geometrically spaced periods (min_period_ms .. max_period_ms) followed
    by an MLP, so any real-valued delay (between training delays, or beyond them) has an embedding.
    """

    def __init__(self, dim: int, num_freqs: int = 16, min_period_ms: float = 8.0,
                 max_period_ms: float = 4000.0):
        super().__init__()
        periods = torch.logspace(math.log10(min_period_ms), math.log10(max_period_ms), num_freqs)
        # Derived from the config, so not checkpoint state.
        self.register_buffer("angular_freq", 2 * math.pi / periods, persistent=False)
        self.mlp = nn.Sequential(nn.Linear(2 * num_freqs, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(self, delay_ms: torch.Tensor) -> torch.Tensor:
        phase = delay_ms.reshape(-1, 1).to(self.angular_freq.dtype) * self.angular_freq
        return self.mlp(torch.cat([torch.sin(phase), torch.cos(phase)], dim=-1))


class RemoteModel(nn.Module):
    """EfficientViT-like per-frame backbone + 3-D ViT, conditioned on delay_ms."""

    def __init__(self, cfg: RemoteConfig, *, local_hw: Optional[Tuple[int, int]] = None):
        """cfg: every size (its defaults are the paper's); local_hw, if given, fixes the default
        output grid of ``features`` to T1's grid for a local input of that (H, W)."""
        super().__init__()
        d_model = cfg.d_model
        self.num_frames, self.d_model, self.out_channels = cfg.num_frames, d_model, cfg.out_channels
        self.merge_size = cfg.merge_size
        self.default_grid_hw = stage1_grid(local_hw) if local_hw else None
        self.image_backbone = build_image_backbone(cfg)                      # stride 8, any family
        self.frame_cache: Optional[FrameFeatureCache] = None                 # see use_frame_cache
        self.patch_merge = nn.Conv2d(self.image_backbone.out_channels, d_model,          # stride
                                     cfg.merge_size, cfg.merge_size)                      # 8*merge_size
        self.time_embedding = nn.Parameter(torch.zeros(1, d_model, cfg.num_frames, 1, 1))
        nn.init.trunc_normal_(self.time_embedding, std=0.02)
        self.pos = nn.Conv3d(d_model, d_model, 3, 1, 1, groups=d_model)
        self.delay_embedding = DelayEmbedding(d_model, cfg.delay_num_freqs, cfg.delay_min_period_ms,
                                              cfg.delay_max_period_ms)
        if cfg.vit_attention not in SPACE_TIME_BLOCKS:
            raise ValueError(f"vit_attention {cfg.vit_attention!r}: choose one of "
                             f"{sorted(SPACE_TIME_BLOCKS)}")
        block = SPACE_TIME_BLOCKS[cfg.vit_attention]
        self.vit3d = nn.ModuleList([block(d_model, cfg.vit_head_dim, cfg.vit_mlp_ratio)
                                    for _ in range(cfg.vit_depth)])
        self.norm = nn.LayerNorm(d_model)
        folded = d_model * cfg.num_frames
        self.pre_pool = nn.Sequential(nn.Conv2d(folded, cfg.pool_hidden, 1), nn.GELU())
        self.post_pool = nn.Sequential(nn.Conv2d(cfg.pool_hidden, cfg.pool_hidden, 1), nn.GELU(),
                                       nn.Conv2d(cfg.pool_hidden, cfg.out_channels, 1))
        self.head = nn.Sequential(nn.Conv2d(folded, cfg.pool_hidden, 1), nn.GELU(),
                                  nn.Conv2d(cfg.pool_hidden, cfg.num_classes, 1))

    @classmethod
    def from_config(cls, cfg: RemoteConfig, *, local_hw: Optional[Tuple[int, int]] = None
                    ) -> "RemoteModel":
        """``RemoteModel(cfg, local_hw=local_hw)``, named like ``LocalModel.from_config``."""
        return cls(cfg, local_hw=local_hw)

    def _ages_tensor(self, frame_ages_ms: AgesLike, batch: int, device) -> torch.Tensor:
        a = torch.as_tensor(frame_ages_ms, dtype=torch.float32, device=device)
        if a.dim() == 1 and a.numel() == self.num_frames:
            a = a.reshape(1, -1)
        if a.dim() != 2 or a.shape[1] != self.num_frames:
            raise ValueError(f"frame_ages_ms has shape {tuple(a.shape)}; pass (B, {self.num_frames}) "
                             "ages in milliseconds, target time minus each context frame's stamp, "
                             "oldest first (context_ages_ms builds them for a regular context)")
        if a.shape[0] == 1 and batch != 1:
            a = a.expand(batch, -1)
        if a.shape[0] != batch:
            raise ValueError(f"frame_ages_ms has {a.shape[0]} rows for a batch of {batch}")
        return a

    def use_frame_cache(self, max_frames: int = 2048) -> None:
        """Memoise the frozen image backbone per distinct frame (``frame_cache.py``): for training
        stages and offline sweeps that keep the backbone frozen; 0 turns it off."""
        self.frame_cache = FrameFeatureCache(self.image_backbone, max_frames) if max_frames else None

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame part, independent of time: frames (B, K, 3, Hr, Wr) RGB in [0, 1]
        (any K; the cloud encodes each uplinked frame once, K = 1) -> (B, K, d, h, w),
        (h, w) = ceil(ceil((Hr, Wr) / 8) / merge_size)."""
        if frames.dim() != 5 or frames.shape[2] != 3:
            raise ValueError(f"frames must be (B, K, 3, Hr, Wr) RGB in [0, 1], got {tuple(frames.shape)}")
        b, k, _, hr, wr = dims(frames)
        backbone = self.frame_cache or self.image_backbone
        x = backbone(frames.reshape(b * k, 3, hr, wr))                    # (B*K, w2, Hr/8, Wr/8)
        m = self.merge_size
        pad_h, pad_w = (-dims(x)[2]) % m, (-dims(x)[3]) % m
        if pad_h or pad_w:                                                # ragged grids merge with ceil
            x = F.pad(x, (0, pad_w, 0, pad_h))
        x = self.patch_merge(x)                                           # (B*K, d, h, w)
        return x.reshape(b, k, *dims(x)[1:])

    def forward_encoded(self, encoded: torch.Tensor, frame_ages_ms: AgesLike) -> torch.Tensor:
        """Per-answer part: encoded (B, K, d, h, w) from ``encode_frames`` (oldest first) and
        frame_ages_ms (B, K) [ms] -> (B, d_model, K, h, w)."""
        if encoded.dim() != 5 or encoded.shape[1] != self.num_frames or encoded.shape[2] != self.d_model:
            raise ValueError(f"encoded must be (B, {self.num_frames}, {self.d_model}, h, w), "
                             f"got {tuple(encoded.shape)}")
        b, k = dims(encoded)[:2]
        ages = self._ages_tensor(frame_ages_ms, b, encoded.device)
        # One memory layout whatever made `encoded` (a batch, or cached frames stacked), so the
        # kernels below, and their rounding, are the same on both paths.
        x = encoded.transpose(1, 2).contiguous()                          # (B, d, K, h, w)
        x = x + self.time_embedding
        x = x + self.pos(x)
        x = x + self.delay_embedding(ages).reshape(b, k, -1).transpose(1, 2)[..., None, None]
        shape = dims(x)
        tokens = x.flatten(2).transpose(1, 2)                             # (B, K*h*w, d)
        for block in self.vit3d:
            tokens = block(tokens, k)
        return self.norm(tokens).transpose(1, 2).reshape(shape)

    def forward_features(self, frames: torch.Tensor, frame_ages_ms: AgesLike) -> torch.Tensor:
        """frames (B, K, 3, Hr, Wr) RGB in [0, 1], oldest first; frame_ages_ms (B, K) [ms].
        Returns (B, d_model, K, h, w)."""
        if frames.dim() != 5 or frames.shape[1] != self.num_frames:
            raise ValueError(f"frames must be (B, {self.num_frames}, 3, Hr, Wr) RGB in [0, 1], "
                             f"got {tuple(frames.shape)}")
        return self.forward_encoded(self.encode_frames(frames), frame_ages_ms)

    @staticmethod
    def _fold_time(v: torch.Tensor) -> torch.Tensor:
        """(B, d, K, h, w) -> (B, d*K, h, w), channel index = c*K + k as in the paper's einops."""
        return v.flatten(1, 2)

    def features(self, frames: torch.Tensor, frame_ages_ms: AgesLike,
                 out_hw: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """Remote features z sent to the robot: (B, C, *out_hw); frame_ages_ms (B, K) [ms].

        out_hw: T1's grid of the robot's local model, (ceil(H/8), ceil(W/8)) for a local input of
        H x W (see ``fusion.stage1_grid``); defaults to the grid of the preset's local resolution.
        """
        grid = out_hw or self.default_grid_hw
        if grid is None:
            raise ValueError("RemoteModel.features needs out_hw (the local T1 grid, see "
                             "stage1_grid) since this model was built without local_hw")
        return self.pool_features(self.forward_features(frames, frame_ages_ms), grid)

    def features_from_encoded(self, encoded: torch.Tensor, frame_ages_ms: AgesLike,
                              out_hw: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """``features`` from cached ``encode_frames`` output (B, K, d, h, w): the cloud's answer."""
        grid = out_hw or self.default_grid_hw
        if grid is None:
            raise ValueError("RemoteModel.features_from_encoded needs out_hw (the local T1 grid)")
        return self.pool_features(self.forward_encoded(encoded, frame_ages_ms), grid)

    def pool_features(self, v: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """(B, d, K, h, w) -> MLP-pool-MLP -> z (B, C, *grid)."""
        v = self.pre_pool(self._fold_time(v))
        return self.post_pool(adaptive_avg_pool2d_matmul(v, grid))

    def forward(self, frames: torch.Tensor, frame_ages_ms: AgesLike,
                label_hw: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """Predictive segmentation (pretraining / remote-only baselines): logits for frame t.

        Returns (B, num_classes, *label_hw), bilinearly up-sampled from stride 16; label_hw
        defaults to the remote input size (Hr, Wr). Train against the labels of the target
        instant, frame_ages_ms[:, -1] after the newest input frame.
        """
        size = tuple(label_hw) if label_hw else tuple(frames.shape[-2:])
        return self.segment_encoded(self.encode_frames(frames), frame_ages_ms, size)

    def segment_encoded(self, encoded: torch.Tensor, frame_ages_ms: AgesLike,
                        label_hw: Tuple[int, int]) -> torch.Tensor:
        """``forward`` from cached ``encode_frames`` output (B, K, d, h, w): logits
        (B, num_classes, *label_hw)."""
        return self.segment_tokens(self.forward_encoded(encoded, frame_ages_ms), label_hw)

    def segment_tokens(self, v: torch.Tensor, label_hw: Tuple[int, int]) -> torch.Tensor:
        """Predictive head on ``forward_encoded`` output (B, d, K, h, w): logits
        (B, num_classes, *label_hw). The same pass can also give z (``pool_features``)."""
        logits = self.head(self._fold_time(v))
        return F.interpolate(logits, size=tuple(label_hw), mode="bilinear", align_corners=False)
