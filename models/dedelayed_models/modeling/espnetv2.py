"""ESPNetv2 for semantic segmentation, written for this project from the paper's description.

Mehta, Rastegari, Shapiro, Hajishirzi, "ESPNetv2: A Light-weight, Power Efficient, and General
Purpose Convolutional Neural Network", CVPR 2019 (arXiv:1811.11431). Module and parameter names
follow the authors' released Cityscapes state dicts (MIT licence, ``pretrained.py`` lists them),
so those files load with a strict ``load_state_dict``; the code itself is this project's own.

    x (B, 3, H, W) RGB in [0, 1], H and W multiples of 16; ImageNet normalisation inside
    level1     3x3 conv, stride 2                              (B, c0, H/2,  W/2)
    level2_0   EESP down-sampler, stride 4                     (B, c1, H/4,  W/4)
    level3_0 + level3 (3 EESP units), stride 8                 (B, c2, H/8,  W/8)   <- T1: z is added here
    level4_0 + level4 (7 EESP units), stride 16                (B, c3, H/16, W/16)
    decoder: pyramid pooling at strides 16, 8, 4, 2, each merged with the encoder level of its
    stride, then logits (20 channels: Cityscapes trainIds 0-18 and the authors' background)
    bilinearly up-sampled to H x W.

Widths c0..c3 follow from the width multiplier s (``encoder_widths``): s=0.5 gives
16/32/64/128, s=2.0 gives 32/128/256/512. The decoder is the same at every width.

Two users of this network:
* ``ESPNetv2Local`` -- the robot's local model family: ``split`` stops at level 3 (stride 8,
  the paper's T1), ``fuse`` adds z, ``finish`` runs level 4 and the decoder. With z absent it is
  exactly the pretrained network's function.
* ``ESPNetv2Features`` -- the cloud's per-frame image backbone: the whole network, returning its
  stride-8 decoder features and its class scores average-pooled to stride 8.

Adaptive average pooling uses ``adaptive_avg_pool2d_cumsum`` (the same function from running
sums), so the graphs export to ONNX at sizes that are not multiples of the pooled sizes.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..classes import NUM_CLASSES
from .fusion import fuse
from .layers import InputNormalize, adaptive_avg_pool2d_cumsum, dims

ESPNET_OUT_CLASSES = NUM_CLASSES + 1      # trainIds 0-18 and the authors' "background" (19)
STRIDE_MULTIPLE = 16                      # input H and W must be multiples of the level-4 stride
_DECODER_PLANES = (64, 48, 32)            # decoder widths at strides 16, 8, 4 (Cityscapes models)
_PYRAMID_PROJ = 10                        # pyramid projection width: min(classes // 2, 16)
_PYRAMID_SCALES = (2.0, 1.5, 1.0, 0.5, 0.1)
_LEVEL3_UNITS, _LEVEL4_UNITS = 3, 7
_RECEPTIVE_LIMITS = (13, 11, 9, 7)        # largest effective kernel of the EESP branches per level
_BRANCHES = 4                             # K: parallel dilated branches per EESP unit


def encoder_widths(width: float) -> Tuple[int, int, int, int]:
    """Channels of levels 1-4 for width multiplier ``width`` (the authors' rule: the base width
    32*s rounded up to a multiple of 4, level 1 capped at 32, doubling per level after it)."""
    base = math.ceil(int(32 * width) / _BRANCHES) * _BRANCHES
    return (min(base, 32), base * 2, base * 4, base * 8)


def check_input_hw(image_hw: Tuple[int, int], what: str) -> None:
    h, w = (int(v) for v in image_hw)
    if h % STRIDE_MULTIPLE or w % STRIDE_MULTIPLE:
        raise ValueError(f"{what} {h}x{w}: ESPNetv2 needs height and width that are multiples of "
                         f"{STRIDE_MULTIPLE}; e.g. {h - h % 16 or 16}x{w - w % 16 or 16}")


class ConvBNPReLU(nn.Module):
    """conv -> BatchNorm -> PReLU, 'same' padding (keys conv / bn / act)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=False, groups=groups)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.PReLU(cout)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class ConvBN(nn.Module):
    """conv -> BatchNorm (keys conv / bn)."""

    def __init__(self, cin: int, cout: int, k: int, groups: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, 1, (k - 1) // 2, bias=False, groups=groups)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class BNPReLU(nn.Module):
    """BatchNorm -> PReLU (keys bn / act)."""

    def __init__(self, c: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.PReLU(c)

    def forward(self, x):
        return self.act(self.bn(x))


class DilatedDepthwise(nn.Module):
    """3x3 depthwise conv with dilation, 'same' padding (key conv)."""

    def __init__(self, c: int, stride: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride, dilation, dilation=dilation, groups=c, bias=False)

    def forward(self, x):
        return self.conv(x)


class EESP(nn.Module):
    """Extremely Efficient Spatial Pyramid unit (paper Fig. 1c / 3): grouped 1x1 reduction to
    cout/K channels, K depthwise 3x3 branches of growing dilation summed hierarchically (each
    branch adds the previous one's output), concatenated, grouped 1x1 expansion. Stride 1 adds
    the input (residual) and activates; stride 2 (inside a down-sampler) returns the expansion."""

    def __init__(self, cin: int, cout: int, stride: int, receptive_limit: int):
        super().__init__()
        reduced = cout // _BRANCHES
        self.stride = stride
        self.proj_1x1 = ConvBNPReLU(cin, reduced, 1, groups=_BRANCHES)
        kernels = sorted(k if k <= receptive_limit else 3 for k in (3 + 2 * i for i in range(_BRANCHES)))
        self.spp_dw = nn.ModuleList(DilatedDepthwise(reduced, stride, (k - 1) // 2) for k in kernels)
        self.conv_1x1_exp = ConvBN(cout, cout, 1, groups=_BRANCHES)
        self.br_after_cat = BNPReLU(cout)
        self.module_act = nn.PReLU(cout)

    def forward(self, x):
        reduced = self.proj_1x1(x)
        branches = [self.spp_dw[0](reduced)]
        for branch in self.spp_dw[1:]:
            branches.append(branch(reduced) + branches[-1])
        out = self.conv_1x1_exp(self.br_after_cat(torch.cat(branches, 1)))
        if self.stride == 2:
            return out
        if out.shape == x.shape:
            out = out + x
        return self.module_act(out)


class DownSampler(nn.Module):
    """Stride-2 block: [3x3 average pool of x, strided EESP of x] concatenated, plus the image
    itself pooled to this stride and projected ("input reinforcement")."""

    def __init__(self, cin: int, cout: int, receptive_limit: int):
        super().__init__()
        self.eesp = EESP(cin, cout - cin, 2, receptive_limit)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1)
        self.inp_reinf = nn.Sequential(ConvBNPReLU(3, 3, 3), ConvBN(3, cout, 1))
        self.act = nn.PReLU(cout)

    def forward(self, x, image):
        pooled = self.avg(x)
        out = torch.cat([pooled, self.eesp(x)], 1)
        target_w = dims(pooled)[3]
        while dims(image)[3] != target_w:
            image = F.avg_pool2d(image, 3, stride=2, padding=1)
        return self.act(out + self.inp_reinf(image))


class Encoder(nn.Module):
    """Levels 1-4 of the EESPNet encoder (the classification levels 5+ are not used)."""

    def __init__(self, width: float):
        super().__init__()
        c0, c1, c2, c3 = encoder_widths(width)
        r = _RECEPTIVE_LIMITS
        self.level1 = ConvBNPReLU(3, c0, 3, stride=2)
        self.level2_0 = DownSampler(c0, c1, r[0])
        self.level3_0 = DownSampler(c1, c2, r[1])
        self.level3 = nn.ModuleList(EESP(c2, c2, 1, r[2]) for _ in range(_LEVEL3_UNITS))
        self.level4_0 = DownSampler(c2, c3, r[2])
        self.level4 = nn.ModuleList(EESP(c3, c3, 1, r[3]) for _ in range(_LEVEL4_UNITS))


class _Shuffle(nn.Module):
    """Channel shuffle across ``groups`` groups (no parameters)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        b, c, h, w = dims(x)
        return x.reshape(b, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class _CBR(nn.Module):
    """The decoder's conv -> BatchNorm -> PReLU, held in one Sequential (key cbr)."""

    def __init__(self, cin: int, cout: int, k: int, groups: int = 1):
        super().__init__()
        self.cbr = nn.Sequential(nn.Conv2d(cin, cout, k, 1, (k - 1) // 2, bias=False, groups=groups),
                                 nn.BatchNorm2d(cout), nn.PReLU(cout))

    def forward(self, x):
        return self.cbr(x)


class _BR(nn.Module):
    """The decoder's BatchNorm -> PReLU (key br)."""

    def __init__(self, c: int):
        super().__init__()
        self.br = nn.Sequential(nn.BatchNorm2d(c), nn.PReLU(c))

    def forward(self, x):
        return self.br(x)


def _resize(x: torch.Tensor, hw: Tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=tuple(hw), mode="bilinear", align_corners=True)


class PyramidPool(nn.Module):
    """Efficient pyramid pooling: project, then one depthwise 3x3 per scale (2, 1.5, 1, 0.5, 0.1
    times the grid, at least 5 cells) resampled back, concatenated, shuffled and merged."""

    def __init__(self, cin: int, cout: int, out_norm: bool = True):
        super().__init__()
        p, n = _PYRAMID_PROJ, len(_PYRAMID_SCALES)
        self.projection_layer = _CBR(cin, p, 1)
        self.stages = nn.ModuleList(nn.Conv2d(p, p, 3, 1, 1, groups=p, bias=False) for _ in range(n))
        self.merge_layer = nn.Sequential(_BR(p * n), _Shuffle(n), _CBR(p * n, p, 3, groups=p),
                                         nn.Conv2d(p, cout, 1, bias=not out_norm))
        self.br = _BR(cout) if out_norm else None

    def forward(self, x):
        x = self.projection_layer(x)
        h, w = dims(x)[-2:]
        outs = []
        for scale, stage in zip(_PYRAMID_SCALES, self.stages):
            hs, ws = max(5, math.ceil(h * scale)), max(5, math.ceil(w * scale))
            if scale < 1.0:
                outs.append(_resize(stage(adaptive_avg_pool2d_cumsum(x, (hs, ws))), (h, w)))
            elif scale > 1.0:
                outs.append(adaptive_avg_pool2d_cumsum(stage(_resize(x, (hs, ws))), (h, w)))
            else:
                outs.append(stage(x))
        out = self.merge_layer(torch.cat(outs, 1))
        return self.br(out) if self.br is not None else out


class GatedMerge(nn.Module):
    """Projects an encoder level for the decoder: grouped 3x3 conv, scaled per channel by a
    sigmoid gate computed from the level's global average."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.wt_layer = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(cin, cout, 1, bias=False),
                                      nn.Sigmoid())
        self.expansion_layer = _CBR(cin, cout, 3, groups=math.gcd(cin, cout))

    def forward(self, x):
        return self.expansion_layer(x) * self.wt_layer(x)


class ESPNetv2Segmentation(nn.Module):
    """The whole segmentation network; ``split`` / ``finish`` cut it at level 3 (stride 8)."""

    def __init__(self, width: float, num_outputs: int = ESPNET_OUT_CLASSES):
        super().__init__()
        c0, c1, c2, c3 = encoder_widths(width)
        d16, d8, d4 = _DECODER_PLANES
        self.width = float(width)
        self.stage1_channels = c2
        self.normalize = InputNormalize()
        self.base_net = Encoder(width)
        self.bu_dec_l1 = PyramidPool(c3, d16)
        self.bu_dec_l2 = PyramidPool(d16, d8)
        self.bu_dec_l3 = PyramidPool(d8, d4)
        self.bu_dec_l4 = PyramidPool(d4, num_outputs, out_norm=False)
        self.merge_enc_dec_l2 = GatedMerge(c2, d16)
        self.merge_enc_dec_l3 = GatedMerge(c1, d8)
        self.merge_enc_dec_l4 = GatedMerge(c0, d4)
        self.bu_br_l2 = nn.Sequential(nn.BatchNorm2d(d16), nn.PReLU(d16))
        self.bu_br_l3 = nn.Sequential(nn.BatchNorm2d(d8), nn.PReLU(d8))
        self.bu_br_l4 = nn.Sequential(nn.BatchNorm2d(d4), nn.PReLU(d4))

    def split(self, x: torch.Tensor) -> Tuple[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Levels 1-3: x (B, 3, H, W) RGB in [0, 1] -> (h (B, c2, H/8, W/8), skips for ``finish``)."""
        image = self.normalize(x)
        enc = self.base_net
        l1 = enc.level1(image)
        l2 = enc.level2_0(l1, image)
        h = enc.level3_0(l2, image)
        for unit in enc.level3:
            h = unit(h)
        return h, (image, l1, l2)

    def decode8(self, h: torch.Tensor, skips: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Level 4 and the decoder up to stride 8: (B, 48, H/8, W/8)."""
        image = skips[0]
        enc = self.base_net
        l4 = enc.level4_0(h, image)
        for unit in enc.level4:
            l4 = unit(l4)
        out = self.bu_dec_l1(l4)
        out = self.bu_br_l2(self.merge_enc_dec_l2(h) + _resize(out, dims(h)[-2:]))
        return self.bu_dec_l2(out)

    def decode_rest(self, d8: torch.Tensor, skips: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Decoder from stride 8 to the stride-2 logits (B, outputs, H/2, W/2)."""
        _, l1, l2 = skips
        out = self.bu_br_l3(self.merge_enc_dec_l3(l2) + _resize(d8, dims(l2)[-2:]))
        out = self.bu_dec_l3(out)
        out = self.bu_br_l4(self.merge_enc_dec_l4(l1) + _resize(out, dims(l1)[-2:]))
        return self.bu_dec_l4(out)

    def finish(self, h: torch.Tensor, skips: Tuple[torch.Tensor, ...], out_hw: Tuple[int, int]
               ) -> torch.Tensor:
        """Levels 4+ and the decoder on (possibly fused) h: logits (B, outputs, *out_hw)."""
        return _resize(self.decode_rest(self.decode8(h, skips), skips), out_hw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 3, H, W) RGB in [0, 1] -> logits (B, outputs, H, W)."""
        check_input_hw(dims(x)[-2:], "ESPNetv2 input")
        h, skips = self.split(x)
        return self.finish(h, skips, dims(x)[-2:])


class ESPNetv2Local(ESPNetv2Segmentation):
    """The robot's local model, ESPNetv2 family: z is added to level 3's output (stride 8).

    The same interface as ``LocalModel``: ``channels`` (C of z), ``stage1_shape``, ``split`` /
    ``finish`` around the fusion point and ``forward(x, z=None, remote_valid=None)``. Logits have
    the 19 trainId channels; the pretrained networks' 20th "background" output is dropped, so a
    local model computes exactly the pretrained function restricted to the 19 classes.
    """

    def __init__(self, width: float, num_classes: int = NUM_CLASSES):
        super().__init__(width, num_outputs=ESPNET_OUT_CLASSES)
        self.channels = self.stage1_channels
        self.num_classes = num_classes

    def stage1_shape(self, image_hw: Tuple[int, int]) -> Tuple[int, int, int]:
        """(C, h, w) of level 3's output, the exact shape remote features z must have."""
        check_input_hw(image_hw, "local input")
        return (self.channels, int(image_hw[0]) // 8, int(image_hw[1]) // 8)

    def finish(self, h, skips, out_hw):
        return super().finish(h, skips, out_hw)[:, :self.num_classes]

    def forward(self, x: torch.Tensor, z: Optional[torch.Tensor] = None,
                remote_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        """x (B, 3, H, W) RGB in [0, 1]; z None or (B, C, H/8, W/8); remote_valid None or (B,)
        0/1. Returns logits (B, 19, H, W)."""
        check_input_hw(dims(x)[-2:], "local input")
        h, skips = self.split(x)
        if z is not None:
            h = fuse(h, z, remote_valid)
        return self.finish(h, skips, dims(x)[-2:])


class ESPNetv2Features(ESPNetv2Segmentation):
    """The cloud's per-frame image backbone, ESPNetv2 family: (B, 3, H, W) -> (B, 48 + 20,
    H/8, W/8), the decoder's stride-8 features beside the class scores (log-softmax of the 20
    outputs) average-pooled to stride 8: what the network sees and what it concluded."""

    def __init__(self, width: float):
        super().__init__(width, num_outputs=ESPNET_OUT_CLASSES)
        self.out_channels = _DECODER_PLANES[1] + ESPNET_OUT_CLASSES

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input_hw(dims(x)[-2:], "remote input")
        h, skips = self.split(x)
        d8 = self.decode8(h, skips)
        scores = F.log_softmax(self.decode_rest(d8, skips), dim=1)
        return torch.cat([d8, F.avg_pool2d(scores, 4)], 1)
