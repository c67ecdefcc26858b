"""Uplink decoding off the executor: one decoder thread per robot with a newest-only slot.

The subscription callback only hands the payload over (``submit``), so a slow or hostile
payload never holds the executor. Each robot's thread decodes one payload at a time; a payload
that arrives while one is waiting replaces it (``superseded``), so a robot costs at most one
decode in progress plus one waiting payload, and each decode is bounded by the header check
(``max_uplink_pixels``) done before any pixel is allocated. Frames of one robot stay in order.

Plain Python (dedelayed_models.newest_only threads, numpy, cv2; no rclpy): the node passes
callables for decoded frames and for refusals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from typing import Callable, Dict, List, Tuple

import cv2
import numpy as np

from dedelayed_models.data.uplink import decode_uplink
from dedelayed_models.data.webp_header import UplinkRefused
from dedelayed_models.newest_only import NewestOnlyWorker


def prepare_uplink_frame(data: bytes, remote_hw: Tuple[int, int], max_pixels: int = 0
                         ) -> Tuple[np.ndarray, float, Tuple[int, int]]:
    """Still-WebP bytes -> ((Hr, Wr, 3) uint8 RGB, decode_ms, decoded (H, W)).

    The robot's uplink already resizes to the remote resolution; a frame of another size is
    resized here (area interpolation, as for a down-scale) so the model still gets its input size.
    Raises UplinkRefused (a ValueError, with ``kind``) for anything that is not a still WebP of
    at most ``max_pixels`` pixels (0 = no limit), before decoding it.
    """
    start = time.perf_counter()
    rgb = decode_uplink(bytes(data), max_pixels)
    decoded_hw = (int(rgb.shape[0]), int(rgb.shape[1]))
    height, width = int(remote_hw[0]), int(remote_hw[1])
    if decoded_hw != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb), (time.perf_counter() - start) * 1e3, decoded_hw


@dataclass(frozen=True)
class UplinkPayload:
    """What the callback saw of one uplink message (no pixels yet)."""

    data: bytes
    stamp: int                       # robot camera stamp [ns]
    frame_id: str
    receive_time_ns: int
    arrival_monotonic_ns: int


# on_decoded(robot, payload, pixels (Hr, Wr, 3) uint8, decode_ms, decoded (H, W))
OnDecoded = Callable[[str, UplinkPayload, np.ndarray, float, Tuple[int, int]], None]
OnRefused = Callable[[str, UplinkPayload, UplinkRefused], None]


class UplinkDecoder:
    """Per-robot decoder threads (``NewestOnlyWorker``); ``submit`` never blocks on decoding."""

    def __init__(self, robots: List[str], remote_hw: Tuple[int, int], max_pixels: int,
                 on_decoded: OnDecoded, on_refused: OnRefused,
                 on_error: Callable[[str, Exception], None]):
        self.remote_hw, self.max_pixels = tuple(remote_hw), int(max_pixels)
        self._on_decoded, self._on_refused = on_decoded, on_refused
        self._workers: Dict[str, NewestOnlyWorker] = {
            r: NewestOnlyWorker(partial(self._decode, r), on_error=partial(on_error, r),
                                name=f"uplink_decode{r.replace('/', '_') or '_own'}")
            for r in robots}

    def submit(self, robot: str, payload: UplinkPayload) -> bool:
        """Hand a payload to the robot's decoder; False if it replaced one still waiting."""
        return self._workers[robot].submit(payload)

    def counters(self, robot: str) -> Dict[str, int]:
        return {"decode_superseded": self._workers[robot].superseded}

    def _decode(self, robot: str, payload: UplinkPayload) -> None:
        try:
            pixels, decode_ms, decoded_hw = prepare_uplink_frame(
                payload.data, self.remote_hw, self.max_pixels)
        except UplinkRefused as refusal:
            self._on_refused(robot, payload, refusal)
            return
        self._on_decoded(robot, payload, pixels, decode_ms, decoded_hw)

    def stop(self, timeout_s: float = 5.0) -> None:
        for worker in self._workers.values():
            worker.stop(timeout_s)
