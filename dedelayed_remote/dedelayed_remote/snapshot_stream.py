"""Snapshots as a live robot makes them, for the cloud's tests and benchmarks.

One new frame per robot per batch, stamps 1/rate apart, through the node's own RobotContext
(history, padding): the steady state where the cloud keeps up with the camera.
"""

from typing import Iterator, List

import numpy as np

from .remote_server import RemoteServer
from .robot_context import ContextSnapshot, RobotContext, UplinkFrame


def snapshot_stream(server: RemoteServer, robots: int, *, rate_hz: float = 10.0, delay_ms: float = 300.0,
                    seed: int = 0) -> Iterator[List[ContextSnapshot]]:
    """Batches of one snapshot per robot; each batch adds one new frame per robot, as at steady
    state where the cloud keeps up with the camera. Snapshots come from the node's own
    ``RobotContext`` (history, padding), fed random frames stamped 1/rate_hz apart."""
    rng = np.random.default_rng(seed)
    k, (hr, wr) = server.served.num_frames, server.served.remote_hw
    period_ns = int(1e9 / rate_hz)
    contexts = [RobotContext(f"robot{r}", num_frames=k, default_delay_ms=delay_ms, max_frame_age_ms=0)
                for r in range(robots)]
    n = 0
    while True:
        stamp = n * period_ns
        for ctx in contexts:
            ctx.push(UplinkFrame(pixels=rng.integers(0, 256, (hr, wr, 3), dtype=np.uint8), stamp=stamp,
                                 frame_id="camera", receive_time_ns=0, arrival_monotonic_ns=0))
        n += 1
        yield [ctx.take(0) for ctx in contexts]
