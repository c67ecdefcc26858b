"""Training stages: gradients reach exactly the parameters each stage trains (paper Table 2)."""

import pytest
import torch
import torch.nn.functional as F

from dedelayed_models.classes import IGNORE_ID, NUM_CLASSES
from dedelayed_models.modeling import STAGES, build_model, get_config, prepare_stage, trainable_parameters
from dedelayed_models.modeling.remote_model import context_ages_ms
from dedelayed_models.modeling.stages import FUSED, LOCAL_ONLY, REMOTE_HEAD, STAGE_TABLE, stage_logits
from dedelayed_models.train import load_config

CFG = get_config("tiny")
K = CFG.remote.num_frames


def _stage_loss(model, stage):
    """One batch of the loss each stage optimises, at the preset's resolutions."""
    torch.manual_seed(1)
    x = torch.rand(2, 3, *CFG.local_hw)
    frames = torch.rand(2, K, 3, *CFG.remote_hw)
    ages_ms = context_ages_ms(torch.tensor([0.0, 132.0]), 33.3, K)
    if stage.startswith("remote"):
        logits = model.remote(frames, ages_ms)
    elif stage == "local":
        logits = model.local(x)
    else:
        logits = model(x, frames, ages_ms)
    labels = torch.randint(0, NUM_CLASSES, (2, *logits.shape[-2:]))
    labels[:, :2] = IGNORE_ID
    return F.cross_entropy(logits, labels, ignore_index=IGNORE_ID)


@pytest.mark.parametrize("stage", STAGES)
def test_gradients_reach_every_trained_parameter_and_no_frozen_one(stage):
    torch.manual_seed(0)
    model = build_model(CFG)
    params = prepare_stage(model, stage)
    trained = {n for n, _ in trainable_parameters(model, stage)}
    assert len(params) == len(trained) > 0
    _stage_loss(model, stage).backward()
    for name, p in model.named_parameters():
        if name in trained:
            assert p.grad is not None and p.grad.abs().sum() > 0, f"{stage}: no gradient for {name}"
        else:
            assert p.grad is None, f"{stage}: frozen {name} got a gradient"


def test_stage_definitions_match_the_paper():
    model = build_model(CFG)
    names = {s: {n for n, _ in trainable_parameters(model, s)} for s in STAGES}
    everything = {n for n, _ in model.named_parameters()}
    local = {n for n in everything if n.startswith("local.")}
    assert names["local"] == local
    assert names["fusion"] - local == {n for n in everything
                                       if n.startswith(("remote.pre_pool.", "remote.post_pool."))}
    assert not any(n.startswith(("remote.image_backbone.", "remote.vit3d.", "remote.delay_embedding."))
                   for n in names["fusion"])
    assert not any(n.startswith("local.") for n in names["remote"])
    assert "remote.head.0.weight" in names["remote"] and "remote.delay_embedding.mlp.0.weight" in names["remote"]
    assert names["remote_frozen_backbone"] == {n for n in names["remote"]
                                               if not n.startswith("remote.image_backbone.")}
    # The streaming stage leaves everything that shapes z alone: one cloud serves both models.
    assert names["streaming"] == local
    with pytest.raises(ValueError, match="unknown training stage 'remote_only'"):
        trainable_parameters(model, "remote_only")


def test_fusion_stage_keeps_frozen_batchnorm_statistics():
    torch.manual_seed(0)
    model = build_model(CFG)
    prepare_stage(model, "fusion")
    frozen_bn = model.remote.image_backbone[1][1]
    local_bn = model.local.T1[1][1]
    before_frozen, before_local = frozen_bn.running_mean.clone(), local_bn.running_mean.clone()
    _stage_loss(model, "fusion")
    assert not frozen_bn.training and torch.equal(frozen_bn.running_mean, before_frozen)
    assert local_bn.training and not torch.equal(local_bn.running_mean, before_local)


def _eval_model_and_batch(newest_ages_ms):
    """A seeded tiny model in eval mode and one batch: x, frames, ages (B = len(newest_ages_ms))."""
    torch.manual_seed(0)
    model = build_model(CFG).eval()
    b = len(newest_ages_ms)
    x = torch.rand(b, 3, *CFG.local_hw)
    frames = torch.rand(b, K, 3, *CFG.remote_hw)
    return model, x, frames, context_ages_ms(torch.tensor(newest_ages_ms), 33.3, K)


@torch.no_grad()
def test_each_stage_computes_the_forward_its_table_row_names_and_the_trainer_accepts_it():
    model, x, frames, ages_ms = _eval_model_and_batch([0.0, 132.0])
    forwards = {REMOTE_HEAD: model.remote(frames, ages_ms, label_hw=CFG.local_hw),
                LOCAL_ONLY: model.local(x), FUSED: model(x, frames, ages_ms)}
    assert not torch.allclose(forwards[REMOTE_HEAD], forwards[FUSED])
    assert not torch.allclose(forwards[LOCAL_ONLY], forwards[FUSED])
    for stage in STAGES:
        assert torch.equal(stage_logits(model, stage, x, frames, ages_ms),
                           forwards[STAGE_TABLE[stage].computes]), stage
        assert load_config(overrides=[f"stage={stage}"])["stage"] == stage
    assert STAGE_TABLE["remote_frozen_backbone"].computes == REMOTE_HEAD
    with pytest.raises(ValueError, match="unknown training stage 'remote_only'"):
        stage_logits(model, "remote_only", x, frames, ages_ms)
    with pytest.raises(ValueError, match="stage must be one of"):
        load_config(overrides=["stage=remote_only"])


@torch.no_grad()
def test_remote_valid_zero_is_exactly_the_local_only_fallback_inside_a_fused_batch():
    model, x, frames, ages_ms = _eval_model_and_batch([0.0, 132.0, 400.0])
    fused, local_only = model(x, frames, ages_ms), model.local(x)
    mixed = stage_logits(model, "streaming", x, frames, ages_ms, torch.tensor([1.0, 0.0, 1.0]))
    assert torch.allclose(mixed[[0, 2]], fused[[0, 2]], atol=1e-5)
    assert torch.allclose(mixed[1], local_only[1], atol=1e-5)
    assert not torch.allclose(mixed[1], fused[1], atol=1e-3)
