"""Instant training runs (tiny preset, tiny resolutions): each Table-2 stage learns, runs are
reproducible, and resuming continues exactly."""

import os

import numpy as np
import pytest
import torch

from dedelayed_models.modeling import load_checkpoint
from dedelayed_models.train import load_config, train
from dedelayed_models.train.solver import layer_ids, param_groups, trapezoidal_cosine


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("frames"))


def _cfg(stage, cache_dir, *extra):
    return load_config(f"instant_{stage}", [f"data.cache_dir={cache_dir}", *extra])


@pytest.mark.parametrize("stage", ["remote", "local", "fusion"])
def test_instant_stage_loss_falls(stage, cache_dir, tmp_path):
    result = train(_cfg(stage, cache_dir), str(tmp_path))
    losses = result["losses"]
    assert len(losses) == 30
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5]), losses
    final = load_checkpoint(tmp_path / "model_final.pt")
    assert final.extra["stage"] == stage and final.extra["iteration"] == 30
    assert 0 <= result["val_mIoU"] <= 100
    for name in ("last.pt", "last_state.pt", "metrics.jsonl", "config.yaml"):
        assert (tmp_path / name).is_file()


def _weights(path):
    return load_checkpoint(path).model.state_dict()


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_same_seed_same_run_and_exact_resume(cache_dir, tmp_path):
    # Remote stage: exercises the per-batch delay, the static-clip draw and Adan state.
    cfg = _cfg("remote", cache_dir, "solver.max_iters=5", "train.checkpoint_period=100",
               "data.static_clip_prob=0.5")
    a, b, c = (str(tmp_path / n) for n in "abc")
    train(cfg, a)
    train(cfg, b)
    _assert_same(_weights(os.path.join(a, "model_final.pt")), _weights(os.path.join(b, "model_final.pt")))
    first = train(cfg, c, stop_at=3)
    assert first["iteration"] == 3 and not os.path.exists(os.path.join(c, "model_final.pt"))
    second = train(cfg, c, resume=True)
    assert second["iteration"] == 5 and len(second["losses"]) == 2
    _assert_same(_weights(os.path.join(a, "model_final.pt")), _weights(os.path.join(c, "model_final.pt")))


def test_trapezoidal_cosine_shape():
    lrs = [trapezoidal_cosine(i, 100, 0.1, 0.5, 0.01) for i in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(v == 1.0 for v in lrs[10:50])
    assert all(x >= y for x, y in zip(lrs[50:], lrs[51:]))
    assert lrs[-1] == pytest.approx(0.01, abs=0.01)


def test_layer_wise_lr_decay_groups():
    from dedelayed_models.modeling import build_model, trainable_parameters
    named = trainable_parameters(build_model("tiny"), "local")
    ids = layer_ids([n for n, _ in named])
    assert ids["local.T1.1.conv.weight"] < ids["local.T2.0.expand.conv.weight"] \
        if "local.T2.0.expand.conv.weight" in ids else True
    assert ids["local.seg_head.1.weight"] == max(ids.values())
    groups = param_groups(named, lr=1.0, weight_decay=0.1, layer_decay=0.9)
    scales = sorted({g["lr_scale"] for g in groups})
    assert scales[-1] == 1.0 and scales[0] == pytest.approx(0.9 ** max(ids.values()))
    assert sum(len(g["params"]) for g in groups) == len(named)
    assert all(g["weight_decay"] == 0.0 for g in groups if g["params"][0].ndim <= 1)


def test_live_timing_run_is_reproducible_resumes_exactly_and_records_its_delays(cache_dir, tmp_path):
    """Per-sample ages (delays, context rates, skips) and per-sequence motions, as the world
    configs train; the checkpoint says which delays it covers."""
    cfg = _cfg("remote", cache_dir, "solver.max_iters=4", "train.checkpoint_period=100",
               "data.timing=live", "data.live_timing.delay_ms_range=[0.0,200.0]",
               "data.live_timing.context_fps_range=[10.0,30.0]", "data.train_motion_range=[0.5,2.0]",
               "data.val_frames=14")
    a, c = str(tmp_path / "a"), str(tmp_path / "c")
    train(cfg, a)
    train(cfg, c, stop_at=2)
    train(cfg, c, resume=True)
    _assert_same(_weights(os.path.join(a, "model_final.pt")), _weights(os.path.join(c, "model_final.pt")))
    assert load_checkpoint(os.path.join(a, "model_final.pt")).extra["trained_delay_ms"] == [0.0, 200.0]


def test_streaming_stage_trains_only_the_local_model_with_and_without_z(cache_dir, tmp_path):
    """A fusion result fine-tuned for output-lagged use: z's producer (the remote and its
    identity) is untouched, so the cloud serving the fusion result serves it too."""
    fusion = str(tmp_path / "fusion")
    train(_cfg("fusion", cache_dir, "solver.max_iters=2"), fusion)
    init = os.path.join(fusion, "model_final.pt")
    cfg = _cfg("fusion", cache_dir, "stage=streaming", "solver.max_iters=6", f"init.local={init}",
               f"init.remote={init}", "data.timing=live", "data.live_timing.output_lag_prob=1.0",
               "data.remote_dropout_prob=0.5", "data.live_timing.delay_ms_range=[0.0,200.0]",
               "data.live_timing.context_fps_range=[10.0,30.0]", "data.val_frames=14")
    streaming = str(tmp_path / "streaming")
    result = train(cfg, streaming)
    assert result["iteration"] == 6 and all(np.isfinite(result["losses"]))
    before, after = load_checkpoint(init), load_checkpoint(os.path.join(streaming, "model_final.pt"))
    assert after.extra["stage"] == "streaming"
    assert after.identity["remote"] == before.identity["remote"]
    assert after.identity["local"] != before.identity["local"]
    _assert_same(before.model.remote.state_dict(), after.model.remote.state_dict())
