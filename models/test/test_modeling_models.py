"""Local and remote networks (tiny preset, random weights): shapes, the z=None identity, delay conditioning."""

import pytest
import torch
import torch.nn.functional as F

from dedelayed_models.classes import NUM_CLASSES
from dedelayed_models.modeling import (DedelayedModel, LocalModel, RemoteModel, build_model, fuse,
                                       get_config, stage1_grid)
from dedelayed_models.modeling.layers import adaptive_avg_pool2d_matmul

CFG = get_config("tiny")
C = CFG.local.channels[0]
K = CFG.remote.num_frames


@pytest.fixture(scope="module")
def model() -> DedelayedModel:
    torch.manual_seed(0)
    return build_model(CFG).eval()


def _frames(batch=1, hw=CFG.remote_hw):
    return torch.rand(batch, K, 3, *hw)


@pytest.mark.parametrize("image_hw", [(64, 128), (120, 216), (72, 100)])
def test_local_and_fused_shapes_at_any_resolution(model, image_hw):
    """T1 is C x ceil(H/8) x ceil(W/8); remote z matches it exactly; logits come back at H x W."""
    x = torch.rand(2, 3, *image_hw)
    with torch.no_grad():
        h = model.local.local_stage1(x)
        z = model.remote_features(_frames(2), torch.tensor([0.0, 99.0]), image_hw)
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
        fused = model(x, _frames(2), torch.tensor([33.0, 33.0]))
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


def test_delay_ms_changes_remote_features_per_sample(model):
    frames = _frames(1).expand(3, -1, -1, -1, -1)                      # same clip three times
    with torch.no_grad():
        z = model.remote.features(frames, torch.tensor([0.0, 100.0, 47.3]), (8, 16))
        again = model.remote.features(frames[:1], 100.0, (8, 16))      # scalar delay, any float ms
    assert (z[0] - z[1]).abs().max() > 1e-4 and (z[1] - z[2]).abs().max() > 1e-4
    torch.testing.assert_close(again[0], z[1], rtol=1e-5, atol=1e-5)


def test_remote_predictive_head_and_input_checks(model):
    frames = _frames(2)
    with torch.no_grad():
        assert model.remote(frames, 66.0).shape == (2, NUM_CLASSES, *CFG.remote_hw)
        assert model.remote(frames, 66.0, label_hw=(64, 128)).shape == (2, NUM_CLASSES, 64, 128)
    with pytest.raises(ValueError, match="frames must be"):
        model.remote.features(frames[:, :2], 0.0, (8, 16))
    with pytest.raises(ValueError, match="delay_ms has 3 values for a batch of 2"):
        model.remote.features(frames, torch.zeros(3), (8, 16))


def test_remote_handles_ragged_grids_and_pool_matches_torch():
    torch.manual_seed(1)
    remote = RemoteModel.from_config(CFG.remote).eval()
    with torch.no_grad():                                               # 100x180 -> stride-8 13x23
        z = remote.features(torch.rand(1, K, 3, 100, 180), 10.0, stage1_grid((120, 216)))
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
