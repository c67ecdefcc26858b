"""Content-keyed memo of a frozen per-frame backbone, for training and offline evaluation.

A frozen backbone computes the same features for the same frame every time it sees it, and a
delayed-clip dataset shows each frame many times (as the newest frame, as context, at every
delay). Keyed by the frame's content (its 8-bit quantisation, which is all an uplinked frame
holds), each distinct frame is encoded once. The cloud keeps its own per-uplinked-frame cache
(``dedelayed_remote``); this one is for loops that see clips, not a stream.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import torch
import torch.nn as nn


class FrameFeatureCache:
    """Calls ``backbone`` only on frames it has not seen; holds at most ``max_frames`` outputs
    (least recently used go first). Not an ``nn.Module``: it is not checkpoint state."""

    def __init__(self, backbone: nn.Module, max_frames: int = 2048):
        self.backbone = backbone
        self.max_frames = int(max_frames)
        self._store: "OrderedDict[bytes, torch.Tensor]" = OrderedDict()
        self.hits = self.misses = 0

    @staticmethod
    def key(frame: torch.Tensor) -> bytes:
        q = (frame.detach() * 255).round().clamp(0, 255).to(torch.uint8).cpu().contiguous()
        return hashlib.blake2b(q.numpy().tobytes(), digest_size=16).digest() + bytes(str(tuple(q.shape)), "ascii")

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (N, 3, H, W) RGB in [0, 1] -> backbone output (N, C, h, w), as the backbone."""
        trains = torch.is_grad_enabled() and any(p.requires_grad for p in self.backbone.parameters())
        if trains or self.backbone.training:
            raise RuntimeError("FrameFeatureCache needs a frozen backbone in eval mode; the stage "
                               "trains it, so run without the cache")
        keys = [self.key(f) for f in frames]
        todo, pending = [], set()
        for i, k in enumerate(keys):
            if k not in self._store and k not in pending:
                pending.add(k)
                todo.append(i)
        if todo:
            with torch.no_grad():
                out = self.backbone(frames[todo])
            for i, feat in zip(todo, out):
                self._store[keys[i]] = feat.clone()
        self.misses += len(todo)
        self.hits += len(keys) - len(todo)
        result = torch.stack([self._store[k] for k in keys])
        for k in keys:
            self._store.move_to_end(k)
        while len(self._store) > self.max_frames:
            self._store.popitem(last=False)
        return result
