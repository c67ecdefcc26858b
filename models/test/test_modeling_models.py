"""Local and remote networks (tiny preset, random weights): shapes, the z=None identity, time
conditioning on each context frame's age, and the cached per-frame path."""

import pytest
import torch
import torch.nn.functional as F

from dedelayed_models.classes import NUM_CLASSES
from dedelayed_models.modeling import (
    DedelayedModel,
    LocalModel,
    RemoteModel,
    build_model,
    fuse,
    get_config,
    stage1_grid,
)
from dedelayed_models.modeling.layers import adaptive_avg_pool2d_matmul
from dedelayed_models.modeling.remote_model import context_ages_ms

CFG = get_config("tiny")
C = CFG.local.channels[0]
K = CFG.remote.num_frames


@pytest.fixture(scope="module")
def model() -> DedelayedModel:
    torch.manual_seed(0)
    return build_model(CFG).eval()


def _frames(batch=1, hw=CFG.remote_hw):
    return torch.rand(batch, K, 3, *hw)


def _ages(*delays_ms, period_ms=33.3):
    """(B, K) ages of regular contexts whose newest frames are delays_ms old."""
    return context_ages_ms(torch.tensor(delays_ms), period_ms, K)


@pytest.mark.parametrize("image_hw", [(64, 128), (120, 216), (72, 100)])
def test_local_and_fused_shapes_at_any_resolution(model, image_hw):
    """T1 is C x ceil(H/8) x ceil(W/8); remote z matches it exactly; logits come back at H x W."""
    x = torch.rand(2, 3, *image_hw)
    with torch.no_grad():
        h = model.local.local_stage1(x)
        z = model.remote_features(_frames(2), _ages(0.0, 99.0), image_hw)
        y_local, y_fused = model.local(x), model.local(x, z)
    assert tuple(h.shape) == (2, *model.local.stage1_shape(image_hw))
    assert tuple(h.shape[-2:]) == stage1_grid(image_hw) == (-(-image_hw[0] // 8), -(-image_hw[1] // 8))
    assert z.shape == h.shape
    assert y_local.shape == y_fused.shape == (2, NUM_CLASSES, *image_hw)
    assert torch.isfinite(y_fused).all()


def test_z_none_is_exactly_the_local_model(model):
    x = torch.rand(2, 3, 120, 216)
    with torch.no_grad():
        alone = model.local(x)
        via_wrapper = model(x)                                          # frames=None -> local-only
        by_stages = model.local.decode(model.local.T1(x), (120, 216))   # paper A.1 without fusion
        zero_z = model.local(x, torch.zeros(2, *model.local.stage1_shape((120, 216))))
        fused = model(x, _frames(2), _ages(33.0, 33.0))
    assert torch.equal(alone, via_wrapper) and torch.equal(alone, by_stages)
    assert torch.equal(alone, zero_z)                                   # h + 0 == h bit for bit
    assert (fused - alone).abs().max() > 1e-3                           # and z really enters


def test_remote_valid_flag_gates_fusion_exactly():
    h, z = torch.randn(2, C, 4, 5), torch.randn(2, C, 4, 5)
    out = fuse(h, z, torch.tensor([1.0, 0.0]))
    assert torch.equal(out[0], h[0] + z[0]) and torch.equal(out[1], h[1])


def test_wrong_z_shape_names_both_shapes(model):
    x = torch.rand(1, 3, 64, 128)
    with pytest.raises(ValueError, match=r"\(16, 8, 8\).*\(16, 8, 16\)"):
        model.local(x, torch.zeros(1, C, 8, 8))


def test_frame_ages_change_remote_features_per_sample(model):
    frames = _frames(1).expand(4, -1, -1, -1, -1)                      # same clip four times
    irregular = _ages(100.0).clone()
    irregular[0, 0] += 133.3                                           # a skipped frame: older oldest
    with torch.no_grad():
        z = model.remote.features(frames, torch.cat([_ages(0.0, 100.0, 47.3), irregular]), (8, 16))
        again = model.remote.features(frames[:1], _ages(100.0)[0], (8, 16))  # (K,) for one clip
    assert (z[0] - z[1]).abs().max() > 1e-4 and (z[1] - z[2]).abs().max() > 1e-4
    assert (z[1] - z[3]).abs().max() > 1e-4                            # spacing matters, not only delay
    torch.testing.assert_close(again[0], z[1], rtol=1e-5, atol=1e-5)


def test_regular_context_ages_are_the_papers_delay_plus_frame_offsets():
    ages = context_ages_ms(torch.tensor([0.0, 100.0]), 1000.0 / 30.0, 3)
    torch.testing.assert_close(ages, torch.tensor([[66.667, 33.333, 0.0], [166.667, 133.333, 100.0]]),
                               rtol=0, atol=1e-3)


def test_per_frame_encoding_then_answer_is_the_one_pass_features(model):
    """encode_frames per frame + features_from_encoded = features: the split the cloud's cache
    uses changes nothing but rounding (CPU kernels round differently per batch size)."""
    frames, ages = _frames(2), _ages(30.0, 230.0)
    with torch.no_grad():
        one_pass = model.remote.features(frames, ages, (8, 16))
        per_frame = torch.cat([model.remote.encode_frames(frames[:, k:k + 1]) for k in range(K)], dim=1)
        split = model.remote.features_from_encoded(per_frame, ages, (8, 16))
        batched = model.remote.features_from_encoded(model.remote.encode_frames(frames), ages, (8, 16))
    assert torch.equal(batched, one_pass)
    torch.testing.assert_close(split, one_pass, rtol=1e-5, atol=1e-5)


def test_remote_predictive_head_and_input_checks(model):
    frames = _frames(2)
    with torch.no_grad():
        assert model.remote(frames, _ages(66.0, 66.0)).shape == (2, NUM_CLASSES, *CFG.remote_hw)
        assert model.remote(frames, _ages(66.0, 66.0), label_hw=(64, 128)).shape == (2, NUM_CLASSES, 64, 128)
    with pytest.raises(ValueError, match="frames must be"):
        model.remote.features(frames[:, :2], _ages(0.0, 0.0), (8, 16))
    with pytest.raises(ValueError, match="frame_ages_ms has 3 rows for a batch of 2"):
        model.remote.features(frames, _ages(0.0, 0.0, 0.0), (8, 16))
    with pytest.raises(ValueError, match=r"frame_ages_ms has shape \(2,\)"):
        model.remote.features(frames, torch.zeros(2), (8, 16))


@pytest.mark.parametrize("attention", ["joint", "divided"])
def test_space_time_attention_variants_run_and_mix_frames(attention):
    import dataclasses
    torch.manual_seed(2)
    remote = RemoteModel.from_config(dataclasses.replace(CFG.remote, vit_attention=attention),
                                     local_hw=CFG.local_hw).eval()
    frames = _frames(1)
    changed = frames.clone()
    changed[:, 0] = torch.rand_like(changed[:, 0])                     # only the oldest frame differs
    with torch.no_grad():
        a, b = remote.features(frames, _ages(50.0), None), remote.features(changed, _ages(50.0), None)
    assert a.shape == (1, C, *stage1_grid(CFG.local_hw)) and (a - b).abs().max() > 1e-5


def test_remote_handles_ragged_grids_and_pool_matches_torch():
    torch.manual_seed(1)
    remote = RemoteModel.from_config(CFG.remote).eval()
    with torch.no_grad():                                               # 100x180 -> stride-8 13x23
        z = remote.features(torch.rand(1, K, 3, 100, 180), _ages(10.0), stage1_grid((120, 216)))
    assert z.shape == (1, C, 15, 27)
    x = torch.randn(2, 3, 7, 11)
    for out_hw in [(3, 5), (7, 11), (15, 27), (4, 13)]:
        torch.testing.assert_close(adaptive_avg_pool2d_matmul(x, out_hw),
                                   F.adaptive_avg_pool2d(x, out_hw), rtol=1e-5, atol=1e-6)


def test_tiny_preset_is_small_and_presets_pair_up():
    local = LocalModel.from_config(CFG.local)
    remote = RemoteModel.from_config(CFG.remote)
    assert sum(p.numel() for p in local.parameters()) < 200_000
    assert sum(p.numel() for p in remote.parameters()) < 200_000
    paper = get_config("paper")
    assert paper.local.channels[0] == paper.remote.out_channels == 96
    assert paper.remote.vit_depth == 12 and paper.remote.num_frames == 4
    assert paper.local_hw == (480, 864) and paper.remote_hw == (720, 1280)
