"""The trainer under DistributedDataParallel: two CPU ranks (gloo), as torchrun would start them."""

import os
import socket

import pytest
import torch
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, out_dir, cache_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    import torch.distributed as dist

    from dedelayed_models.train import load_config, train
    cfg = load_config("instant_fusion", [f"data.cache_dir={cache_dir}", "solver.max_iters=4",
                                         "train.checkpoint_period=100"])
    result = train(cfg, out_dir)
    weights = torch.cat([p.detach().flatten() for p in _model_params(out_dir)]) if rank == 0 else None
    if rank == 0:
        torch.save({"losses": result["losses"], "weights": weights}, os.path.join(out_dir, "rank0.pt"))
    dist.destroy_process_group()


def _model_params(out_dir):
    from dedelayed_models.modeling import load_checkpoint
    return load_checkpoint(os.path.join(out_dir, "model_final.pt")).model.parameters()


@pytest.mark.slow
def test_ddp_two_cpu_ranks(tmp_path):
    out, cache = str(tmp_path / "run"), str(tmp_path / "cache")
    # Render the frames once, so the ranks don't race to write the cache.
    from dedelayed_models.data.world_sources import build_datasets
    from dedelayed_models.train import load_config
    from dedelayed_models.train.config import model_config
    cfg = load_config("instant_fusion", [f"data.cache_dir={cache}"])
    build_datasets(cfg, model_config(cfg))
    mp.spawn(_worker, args=(2, _free_port(), out, cache), nprocs=2, join=True)
    saved = torch.load(os.path.join(out, "rank0.pt"))
    assert len(saved["losses"]) == 4 and all(torch.isfinite(torch.tensor(saved["losses"])))
    assert os.path.isfile(os.path.join(out, "model_final.pt"))
