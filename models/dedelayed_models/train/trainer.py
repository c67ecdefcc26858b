"""The training loop of every Table-2 stage: one process on a CPU, or one per GPU under torchrun.

Outputs in ``out_dir``:
    config.yaml         the resolved training config
    last.pt             ``save_checkpoint`` file of the whole DedelayedModel (extra: stage, iteration)
    last_state.pt       optimizer, scheduler, iteration, RNG states (for ``--resume``)
    model_final.pt      ``save_checkpoint`` file once ``solver.max_iters`` is reached
    metrics.jsonl       one JSON line per log period and per validation

Determinism: the initial weights come from ``seed``; batch order and the per-batch delay D from
``DelayBatchSampler(seed, epoch)``; the static-clip draw from (seed, iteration). Resuming replays
the sampler to the saved iteration, so 3 + 2 iterations give the weights of 5 straight.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Dict, Iterator, List, Optional

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import default_collate

from ..classes import IGNORE_ID
from ..data import DEFAULT_FPS, DelayBatchSampler, delay_frames_to_ms
from ..data.datasets import build_datasets, dataset_class_names, frame_rate
from ..evaluation import SemSegEvaluator, subset_miou
from ..modeling import build_model, load_checkpoint, prepare_stage, save_checkpoint, stage_logits, trainable_parameters
from ..modeling.checkpoint import warm_start
from ..modeling.pretrained import load_pretrained
from .config import dump_config, model_config
from .solver import build_optimizer, build_scheduler


class StageModule(nn.Module):
    """One training stage's forward as a module (what DDP wraps): ``modeling.stage_logits``,
    logits (B, 19, H, W) for the fresh frame's labels, as the stage table says."""

    def __init__(self, model: nn.Module, stage: str):
        super().__init__()
        self.model, self.stage = model, stage

    def forward(self, image: torch.Tensor, frames: torch.Tensor, frame_ages_ms: torch.Tensor,
                remote_valid: Optional[torch.Tensor] = None) -> torch.Tensor:
        return stage_logits(self.model, self.stage, image, frames, frame_ages_ms, remote_valid)


def _dist_info():
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def setup_distributed() -> bool:
    """Join the torchrun process group when WORLD_SIZE > 1 (nccl on GPUs, gloo on CPUs)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        return True
    return False


def _device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def _batch(dataset, keys, device) -> Dict[str, torch.Tensor]:
    b = default_collate([dataset[k] for k in keys])
    return {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in b.items()}


def _train_batches(dataset, sampler: DelayBatchSampler, start_iter: int, rank: int, world: int
                   ) -> Iterator[List]:
    """This rank's keys for iterations start_iter, start_iter+1, ... (paper timing: one delay per
    global batch; live timing: one context timing per sample, from (seed, epoch, index))."""
    per_epoch = len(sampler)
    epoch, skip = divmod(start_iter, per_epoch)
    while True:
        sampler.set_epoch(epoch)
        for i, keys in enumerate(sampler):
            if i >= skip:
                if dataset.timing is not None:   # live timing: one drawn context per sample
                    keys = [(idx, dataset.draw_timing(idx, epoch)) for idx, _ in keys]
                yield keys[rank::world]
        epoch, skip = epoch + 1, 0


def trained_delay_ms(data_cfg: Dict, fps: float = DEFAULT_FPS) -> List[float]:
    """[lo, hi] newest-frame ages the run trains on [ms] (paper timing: frames of the training
    video's ``fps``); stored in every checkpoint it writes, so a robot can bound the feature age
    it fuses by what its model covers."""
    if data_cfg["timing"] == "live":
        return [float(v) for v in data_cfg["live_timing"]["delay_ms_range"]]
    return [delay_frames_to_ms(d, fps) for d in data_cfg["delay_frames_range"]]


VALIDATION_EPOCH = 1 << 30   # live-timing draws of validation: an epoch training never reaches


def validation_keys(dataset, stride: int, delay_range) -> List[tuple]:
    """Deterministic keys for every stride-th sample: (index, D) with D cycling over the delay
    range for the paper's timing, (index, ContextTiming) drawn from the index for live timing."""
    if dataset.timing is not None:
        return [(i, dataset.draw_timing(i, epoch=VALIDATION_EPOCH)) for i in range(0, len(dataset), stride)]
    lo, hi = delay_range
    return [(i, lo + (j % (hi - lo + 1))) for j, i in enumerate(range(0, len(dataset), stride))]


@torch.no_grad()
def validate(module: StageModule, dataset, keys, batch_size: int, device) -> float:
    """mIoU (%) of the stage's output over ``keys``, sharded over DDP ranks."""
    return validation_result(module, dataset, keys, batch_size, device)["mIoU"]


def validation_result(module: StageModule, dataset, keys, batch_size: int, device) -> Dict:
    """``SemSegEvaluator.evaluate()`` of the stage's output over ``keys``, sharded over DDP ranks."""
    rank, world = _dist_info()
    evaluator = SemSegEvaluator()
    was_training = module.training
    module.eval()
    mine = keys[rank::world]
    for s in range(0, len(mine), batch_size):
        b = _batch(dataset, mine[s:s + batch_size], device)
        logits = module(b["image"], b["remote_frames"], b["frame_ages_ms"])
        evaluator.process(logits.argmax(1).cpu(), b["label"].cpu())
    if world > 1:
        conf = torch.from_numpy(evaluator.confusion).to(device)
        dist.all_reduce(conf)
        evaluator.confusion = conf.cpu().numpy()
    if was_training:
        prepare_stage(module.model, module.stage)
    return evaluator.evaluate()


def _iteration_uniform(shape, seed: int, iteration: int, salt: int = 0) -> torch.Tensor:
    """Uniform [0, 1) draws of ``shape`` fixed by (seed, iteration, salt): the same on every
    DDP rank and after a resume, whatever the data loader consumed."""
    return torch.rand(shape, generator=torch.Generator().manual_seed(
        seed * 1_000_003 + iteration + salt))


def _init_weights(model, init: Dict[str, Optional[str]]) -> None:
    if init.get("local_pretrained"):
        entry = load_pretrained(model.local, init["local_pretrained"])
        print(f"[init] local from pretrained {entry.name if entry else init['local_pretrained']}", flush=True)
    if init.get("remote_pretrained"):
        entry = load_pretrained(model.remote.image_backbone, init["remote_pretrained"])
        print(f"[init] remote image backbone from pretrained "
              f"{entry.name if entry else init['remote_pretrained']}", flush=True)
    for part in ("local", "remote"):
        if init.get(part):
            loaded = load_checkpoint(init[part], part=part)
            getattr(model, part).load_state_dict(loaded.model.state_dict(), strict=True)
    if init.get("remote_warm_start"):
        report = warm_start(model.remote, init["remote_warm_start"], part="remote")
        print(f"[init] remote warm start from {init['remote_warm_start']}: "
              f"{len(report['copied'])} tensors copied, fresh: {report['fresh'] or 'none'}, "
              f"dropped: {report['dropped'] or 'none'}", flush=True)


def train(cfg: Dict, out_dir: str, *, resume: bool = False, stop_at: Optional[int] = None) -> Dict:
    """Run (or continue) one stage. ``stop_at`` ends early at that iteration while the LR schedule
    still spans ``solver.max_iters``. Returns {"iteration", "losses", "val_mIoU", "out_dir"}."""
    distributed = setup_distributed()
    rank, world = _dist_info()
    torch.set_num_threads(int(cfg["train"]["num_threads"]))
    device = _device()
    stage, solver, seed = cfg["stage"], cfg["solver"], int(cfg["seed"])
    if solver["batch_size"] % world:
        raise ValueError(f"solver.batch_size {solver['batch_size']} must divide by the {world} ranks")
    mcfg = model_config(cfg)
    torch.manual_seed(seed)
    model = build_model(mcfg)
    _init_weights(model, cfg["init"])
    model.to(device)
    prepare_stage(model, stage)
    named = trainable_parameters(model, stage)
    if not any(n.startswith("remote.image_backbone.") for n, _ in named):
        model.remote.use_frame_cache(int(cfg["train"]["frame_cache_frames"]))
    optimizer = build_optimizer(named, solver)
    scheduler = build_scheduler(optimizer, solver)
    state_path, last_path = os.path.join(out_dir, "last_state.pt"), os.path.join(out_dir, "last.pt")
    iteration = 0
    if resume and os.path.isfile(state_path):
        model.load_state_dict(load_checkpoint(last_path).model.state_dict())
        prepare_stage(model, stage)
        state = torch.load(state_path, map_location=device, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        iteration = int(state["iteration"])
        torch.set_rng_state(state["rng"]["torch"])
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])
    module = StageModule(model, stage)
    runner = nn.parallel.DistributedDataParallel(module) if distributed else module
    train_ds, val_ds = build_datasets(cfg, mcfg)
    train_fps = frame_rate(train_ds.sources)
    class_names = dataset_class_names(cfg["data"])
    sampler = DelayBatchSampler(len(train_ds), solver["batch_size"], cfg["data"]["delay_frames_range"],
                                shuffle=True, drop_last=True, seed=seed)
    val_keys = validation_keys(val_ds, cfg["data"]["val_frame_stride"], cfg["data"]["delay_frames_range"])
    if rank == 0:
        os.makedirs(out_dir, exist_ok=True)
        dump_config(cfg, os.path.join(out_dir, "config.yaml"))
    max_iters = int(solver["max_iters"])
    end = min(max_iters, stop_at) if stop_at is not None else max_iters
    params = [p for _, p in named]
    log = open(os.path.join(out_dir, "metrics.jsonl"), "a") if rank == 0 else None
    bar = None
    if rank == 0 and cfg["train"]["progress"]:
        from tqdm import tqdm
        bar = tqdm(total=end, initial=iteration, desc=f"train {stage}", dynamic_ncols=True)
    losses, val_miou, t0 = [], None, time.time()
    batches = _train_batches(train_ds, sampler, iteration, rank, world)
    p_static = float(cfg["data"]["static_clip_prob"])
    p_no_remote = float(cfg["data"]["remote_dropout_prob"])
    tc = cfg["train"]

    def write(record):
        if log:
            log.write(json.dumps(record) + "\n")
            log.flush()

    while iteration < end:
        b = _batch(train_ds, next(batches), device)
        frames, ages = b["remote_frames"], b["frame_ages_ms"]
        if p_static > 0 and _iteration_uniform((), seed, iteration).item() < p_static:
            frames = frames[:, -1:].expand_as(frames).contiguous()   # K copies of the newest frame
            ages = ages[:, -1:].expand_as(ages).contiguous()         # ... all of its age
        remote_valid = None
        if p_no_remote > 0:   # these samples train the local-only fallback (fused stages)
            draw = _iteration_uniform(frames.shape[0], seed, iteration, salt=7919)
            remote_valid = (draw >= p_no_remote).to(frames.dtype)
        logits = runner(b["image"], frames, ages, remote_valid)
        loss = F.cross_entropy(logits, b["label"], ignore_index=IGNORE_ID)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if solver["grad_clip_norm"]:
            torch.nn.utils.clip_grad_norm_(params, solver["grad_clip_norm"])
        optimizer.step()
        scheduler.step()
        iteration += 1
        losses.append(loss.item())
        if bar:
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}", age_ms=f"{float(ages[0, -1]):.0f}")
        if iteration % tc["log_period"] == 0 or iteration == end:
            write({"iteration": iteration, "loss": float(np.mean(losses[-tc["log_period"]:])),
                   "lr": optimizer.param_groups[-1]["lr"], "elapsed_s": round(time.time() - t0, 1)})
        if (tc["eval_period"] and iteration % tc["eval_period"] == 0) or iteration == max_iters:
            result = validation_result(module, val_ds, val_keys, solver["batch_size"], device)
            val_miou = result["mIoU"]
            record = {"iteration": iteration, "val_mIoU": val_miou}
            if class_names:          # real video: also over the classes it labels (data/datasets.py)
                record["val_mIoU_dataset_classes"] = subset_miou(result, class_names)
            write(record)
            if bar:
                bar.write(f"[{stage}] iteration {iteration}: val mIoU {val_miou:.2f}")
        if rank == 0 and (iteration % tc["checkpoint_period"] == 0 or iteration == end):
            extra = {"stage": stage, "iteration": iteration, "val_mIoU": val_miou, "seed": seed,
                     "trained_delay_ms": trained_delay_ms(cfg["data"], train_fps)}
            save_checkpoint(last_path, model, mcfg, extra=extra)
            torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "iteration": iteration,
                        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                                "python": random.getstate()}}, state_path)
            if iteration == max_iters:
                save_checkpoint(os.path.join(out_dir, "model_final.pt"), model, mcfg, extra=extra)
    if bar:
        bar.close()
    if log:
        log.close()
    if distributed:
        dist.barrier()
    return {"iteration": iteration, "losses": losses, "val_mIoU": val_miou, "out_dir": out_dir,
            "elapsed_s": time.time() - t0}
