"""Shared building blocks of the local and remote networks (written for this project).

Everything here exports to ONNX opset 17 with static shapes and maps onto TensorRT layers:
convolutions with BatchNorm (folded at engine build), MatMul-based attention, LayerNorm, GELU.
Feature maps are NCHW; token sequences are (B, N, D).
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ImageNet statistics: the model normalises internally so ONNX/TensorRT consumers pass plain RGB in [0, 1].
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def dims(x: torch.Tensor) -> Tuple[int, ...]:
    """x.shape as plain ints: under ONNX tracing this freezes sizes into constants instead of
    recording Shape/Gather chains, so exported graphs have fully static, inferable shapes."""
    return tuple(int(v) for v in x.shape)


class InputNormalize(nn.Module):
    """(B, 3, H, W) RGB in [0, 1] -> ImageNet-normalised; constants are not checkpoint state."""

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("inv_std", 1.0 / torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias) + BatchNorm2d + optional Hardswish; 'same' padding, output ceil(H/stride)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, stride: int = 1,
                 groups: int = 1, act: bool = True):
        layers = [nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(out_ch)]
        if act:
            layers.append(nn.Hardswish())
        super().__init__(*layers)


class MBConv(nn.Module):
    """Inverted residual (MobileNetV2/EfficientViT): 1x1 expand, 3x3 depthwise (stride), 1x1 project.

    Residual only when the shape is kept (stride 1, in_ch == out_ch).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, expand_ratio: int = 4):
        super().__init__()
        hidden = in_ch * expand_ratio
        self.expand = ConvBNAct(in_ch, hidden, 1)
        self.depthwise = ConvBNAct(hidden, hidden, 3, stride, groups=hidden)
        self.project = ConvBNAct(hidden, out_ch, 1, act=False)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.depthwise(self.expand(x)))
        return x + y if self.residual else y


class LiteLinearAttention(nn.Module):
    """ReLU linear attention over a (B, C, H, W) map, EfficientViT style.

    softmax(QK^T) is replaced by relu(Q) (relu(K)^T V) / (relu(Q) sum relu(K)), so the cost is
    O(N d^2) rather than O(N^2 d): this is what lets the remote backbone attend at stride 8 on
    720x1280 frames (14 400 tokens).
    """

    def __init__(self, dim: int, head_dim: int = 16, eps: float = 1e-6):
        super().__init__()
        if dim % head_dim:
            raise ValueError(f"LiteLinearAttention: dim {dim} not divisible by head_dim {head_dim}")
        self.heads, self.head_dim, self.eps = dim // head_dim, head_dim, eps
        self.qkv = nn.Conv2d(dim, 3 * dim, 1, bias=False)
        self.proj = ConvBNAct(dim, dim, 1, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = dims(x)
        qkv = self.qkv(x).reshape(b, 3, self.heads, self.head_dim, h * w)
        q, k, v = F.relu(qkv[:, 0]), F.relu(qkv[:, 1]), qkv[:, 2]      # (B, heads, d, N)
        kv = torch.matmul(v, k.transpose(-1, -2))                       # (B, heads, d_v, d_k)
        num = torch.matmul(kv, q)                                       # (B, heads, d_v, N)
        den = torch.matmul(k.sum(dim=-1, keepdim=True).transpose(-1, -2), q)  # (B, heads, 1, N)
        out = (num / (den + self.eps)).reshape(b, c, h, w)
        return self.proj(out)


class EfficientViTBlock(nn.Module):
    """Linear-attention context mixing followed by an MBConv for local mixing, both residual."""

    def __init__(self, dim: int, head_dim: int = 16, expand_ratio: int = 4):
        super().__init__()
        self.context = LiteLinearAttention(dim, head_dim)
        self.local = MBConv(dim, dim, 1, expand_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.local(x + self.context(x))


class Mlp(nn.Module):
    """Token MLP: Linear -> GELU -> Linear, (..., dim) -> (..., dim)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class TransformerBlock(nn.Module):
    """Pre-norm multi-head self-attention + MLP on tokens (B, N, D) -> (B, N, D)."""

    def __init__(self, dim: int, head_dim: int = 32, mlp_ratio: float = 4.0):
        super().__init__()
        if dim % head_dim:
            raise ValueError(f"TransformerBlock: dim {dim} not divisible by head_dim {head_dim}")
        self.heads = dim // head_dim
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = dims(x)
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        # SDPA: a fused kernel on CPU/GPU keeps 14 400-token remote attention within memory.
        out = F.scaled_dot_product_attention(q, k, v)                   # (B, heads, N, hd)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class JointSpaceTimeBlock(TransformerBlock):
    """TransformerBlock over all K*h*w tokens of a clip at once (the paper's 3-D ViT block).

    forward(tokens (B, K*h*w, D), num_frames K) -> (B, K*h*w, D); cost grows with (K*h*w)^2.
    """

    def forward(self, x: torch.Tensor, num_frames: Optional[int] = None) -> torch.Tensor:
        return super().forward(x)


class DividedSpaceTimeBlock(nn.Module):
    """Divided space-time attention (TimeSformer-style): attention within each frame, then
    across the K frames at each token position, then the MLP.

    forward(tokens (B, K*h*w, D) frame-major, num_frames K) -> (B, K*h*w, D); cost grows with
    K*(h*w)^2 + h*w*K^2 instead of (K*h*w)^2.
    """

    def __init__(self, dim: int, head_dim: int = 32, mlp_ratio: float = 4.0):
        super().__init__()
        self.space = TransformerBlock(dim, head_dim, mlp_ratio)   # its MLP is the block's MLP
        self.norm_time = nn.LayerNorm(dim)
        self.time_qkv, self.time_proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        b, n, d = dims(x)
        k, s = num_frames, n // num_frames
        blk = self.space
        x = x + blk.attention(blk.norm1(x).reshape(b * k, s, d)).reshape(b, n, d)
        t = self.norm_time(x).reshape(b, k, s, d).transpose(1, 2).reshape(b * s, k, d)
        heads = blk.heads
        q, kk, v = self.time_qkv(t).reshape(b * s, k, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
        t = F.scaled_dot_product_attention(q, kk, v).transpose(1, 2).reshape(b * s, k, d)
        x = x + self.time_proj(t).reshape(b, s, k, d).transpose(1, 2).reshape(b, n, d)
        return x + blk.mlp(blk.norm2(x))


SPACE_TIME_BLOCKS = {"joint": JointSpaceTimeBlock, "divided": DividedSpaceTimeBlock}


class TransformerBlock2D(nn.Module):
    """TransformerBlock on a (B, C, H, W) map with a depthwise-conv position encoding.

    The convolutional position encoding (instead of a learned table) keeps the block valid at
    any input resolution, which the local model needs (120x216, 480x864, ...).
    """

    def __init__(self, dim: int, head_dim: int = 32, mlp_ratio: float = 4.0):
        super().__init__()
        self.pos = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)
        self.block = TransformerBlock(dim, head_dim, mlp_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.pos(x)
        b, c, h, w = dims(x)
        tokens = self.block(x.flatten(2).transpose(1, 2))
        return tokens.transpose(1, 2).reshape(b, c, h, w)


def adaptive_pool_matrix(in_size: int, out_size: int) -> np.ndarray:
    """(out_size, in_size) float32 averaging matrix with exactly F.adaptive_avg_pool1d's bins.

    Row i averages input cells [floor(i*in/out), ceil((i+1)*in/out)); when out > in this
    repeats cells (nearest-style up-sampling), as adaptive pooling does. Built in numpy so an
    ONNX trace records it as one constant rather than as indexing ops.
    """
    mat = np.zeros((out_size, in_size), dtype=np.float32)
    for i in range(out_size):
        start = (i * in_size) // out_size
        end = -((-(i + 1) * in_size) // out_size)
        mat[i, start:end] = 1.0 / (end - start)
    return mat


def adaptive_avg_pool2d_matmul(x: torch.Tensor, out_hw: Tuple[int, int]) -> torch.Tensor:
    """F.adaptive_avg_pool2d(x, out_hw) written as two MatMuls: (B, C, Hi, Wi) -> (B, C, Ho, Wo).

    ONNX's exporter rejects adaptive pooling whose output is not a divisor of the input
    (e.g. remote 45x80 -> local 60x108); with static shapes these matrices become constants.
    """
    h_in, w_in = dims(x)[-2:]
    ph = torch.from_numpy(adaptive_pool_matrix(h_in, int(out_hw[0]))).to(x.device, x.dtype)
    pw_t = torch.from_numpy(adaptive_pool_matrix(w_in, int(out_hw[1])).T.copy()).to(x.device, x.dtype)
    return torch.matmul(ph, torch.matmul(x, pw_t))


def _pool_bins(in_size: int, out_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of F.adaptive_avg_pool1d's bins, as int64 arrays."""
    i = np.arange(out_size)
    return (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)


def _adaptive_avg_pool_axis(x: torch.Tensor, out_size: int, dim: int) -> torch.Tensor:
    n = dims(x)[dim]
    if n == out_size:
        return x
    if n % out_size == 0:                      # equal bins: reshape and mean, exact
        shape = list(dims(x))
        shape[dim:dim + 1] = [out_size, n // out_size]
        return x.reshape(shape).mean(dim + 1)
    starts, ends = _pool_bins(n, out_size)
    pad = [0, 0] * (x.dim() - 1 - dim) + [1, 0]   # a zero before the first cell: sums from 0
    cum = F.pad(torch.cumsum(x, dim), pad)
    total = cum.index_select(dim, torch.from_numpy(ends).to(x.device)) \
        - cum.index_select(dim, torch.from_numpy(starts).to(x.device))
    lengths = torch.from_numpy((ends - starts).astype(np.float32)).to(x.device, x.dtype)
    return total / lengths.reshape([-1] + [1] * (x.dim() - 1 - dim))


def adaptive_avg_pool2d_cumsum(x: torch.Tensor, out_hw: Tuple[int, int]) -> torch.Tensor:
    """F.adaptive_avg_pool2d(x, out_hw) from running sums, one axis at a time: (B, C, Hi, Wi) ->
    (B, C, Ho, Wo), linear in the input size (the MatMul form is quadratic, which dominates a
    network that pools large grids), and exportable to ONNX (CumSum, Gather) at any size."""
    return _adaptive_avg_pool_axis(_adaptive_avg_pool_axis(x, int(out_hw[0]), 2), int(out_hw[1]), 3)
