"""How fast the cloud serves B robots with one batched forward pass (hook for issue 7's bench).

    python -m dedelayed_remote.remote_bench --preset small --batch-sizes 1,2,4 --device cpu

Times ``RemoteServer.forward_batch`` (host->device copy, forward, device->host copy) on random
uint8 frames, each robot with its own delay; decode and encode are per robot and not included.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Dict, List, Sequence

import numpy as np
import torch

from .remote_server import RemoteServer
from .served_model import load_served_model


def time_batched_forward(server: RemoteServer, batch_size: int, *, repeats: int = 5,
                         warmup: int = 1, seed: int = 0) -> Dict[str, float]:
    """Median/min forward time of one batch of `batch_size` robots [ms] and robots answered per s."""
    rng = np.random.default_rng(seed)
    k, (hr, wr) = server.served.num_frames, server.served.remote_hw
    frames = rng.integers(0, 256, (batch_size, k, hr, wr, 3), dtype=np.uint8)
    delays_ms = np.linspace(0.0, 200.0, batch_size)
    for _ in range(warmup):
        server.forward_batch(frames, delays_ms)
    times_ms = [server.forward_batch(frames, delays_ms)[1] for _ in range(repeats)]
    median_ms = statistics.median(times_ms)
    return {"batch_size": batch_size, "forward_ms_median": median_ms, "forward_ms_min": min(times_ms),
            "features_per_s": batch_size * 1000.0 / median_ms}


def bench(preset: str = "small", batch_sizes: Sequence[int] = (1, 2, 4), *, device: str = "cpu",
          checkpoint: str = "", repeats: int = 5) -> List[Dict[str, float]]:
    served = load_served_model(checkpoint=checkpoint, preset=preset, device=device)
    server = RemoteServer(served, local_hw=served.config.local_hw)
    return [time_batched_forward(server, b, repeats=repeats) for b in batch_sizes]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--checkpoint", default="")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-sizes", default="1,2,4")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = bench(args.preset, [int(b) for b in args.batch_sizes.split(",")], device=args.device,
                 checkpoint=args.checkpoint, repeats=args.repeats)
    print(f"remote forward, preset {args.preset}, device {args.device}, torch threads "
          f"{torch.get_num_threads()}")
    print("robots B | forward ms (median) | forward ms (min) | features/s")
    for r in rows:
        print(f"{r['batch_size']:8d} | {r['forward_ms_median']:19.1f} | {r['forward_ms_min']:16.1f} | "
              f"{r['features_per_s']:10.1f}")


if __name__ == "__main__":
    main()
