"""ESPNetv2, the pretrained network family: strict loads of the authors' files, the zero-shot
reference figure, and the split where z is added computing exactly the pretrained function."""

import dataclasses

import pytest
import torch

from dedelayed_models.modeling import build_model, get_config, load_checkpoint, save_checkpoint
from dedelayed_models.modeling.espnetv2 import ESPNetv2Features, ESPNetv2Local, ESPNetv2Segmentation, encoder_widths
from dedelayed_models.modeling.families import build_local
from dedelayed_models.modeling.pretrained import PRETRAINED, load_pretrained

WEIGHTS_MISSING = [n for n, p in PRETRAINED.items() if not p.path.is_file()]


def _need_weights(*names):
    missing = [n for n in names if n in WEIGHTS_MISSING]
    if missing:
        pytest.skip(f"pretrained weights absent ({PRETRAINED[missing[0]].path}); they are read from "
                    "the shared data folder, never downloaded")


def test_widths_follow_the_authors_rule():
    assert encoder_widths(0.5) == (16, 32, 64, 128)
    assert encoder_widths(1.0) == (32, 64, 128, 256)
    assert encoder_widths(1.5) == (32, 96, 192, 384)
    assert encoder_widths(2.0) == (32, 128, 256, 512)


@pytest.mark.parametrize("name", sorted(PRETRAINED))
def test_every_registered_file_loads_strictly(name):
    _need_weights(name)
    entry = PRETRAINED[name]
    net = ESPNetv2Segmentation(entry.width)
    assert load_pretrained(net, name) is entry          # strict load + checksum


def test_wrong_width_is_refused_with_the_fix():
    _need_weights("espnetv2_s0.5_cityscapes_1024x512")
    with pytest.raises(ValueError, match="width s=0.5 but the model was built with s=1.0"):
        load_pretrained(ESPNetv2Segmentation(1.0), "espnetv2_s0.5_cityscapes_1024x512")


def test_unknown_weights_name_lists_the_registry():
    with pytest.raises(FileNotFoundError, match="neither a registered name"):
        load_pretrained(ESPNetv2Segmentation(0.5), "espnetv2_s9_nowhere")


def test_local_without_z_is_exactly_the_pretrained_network():
    """The robot's split model with no z (or with z for remote_valid 0) computes the pretrained
    network's function on its 19 trainId outputs, bit for bit."""
    torch.manual_seed(0)
    net = ESPNetv2Segmentation(0.5)
    if "espnetv2_s0.5_cityscapes_1024x512" not in WEIGHTS_MISSING:
        load_pretrained(net, "espnetv2_s0.5_cityscapes_1024x512")
    local = ESPNetv2Local(0.5)
    local.load_state_dict(net.state_dict(), strict=True)
    net.eval()
    local.eval()
    x = torch.rand(2, 3, 96, 128)
    with torch.no_grad():
        reference = net(x)[:, :19]
        z = torch.randn(2, *local.stage1_shape((96, 128)))
        assert torch.equal(local(x), reference)
        assert torch.equal(local(x, z, torch.zeros(2)), reference)
        assert not torch.allclose(local(x, z), reference)        # z does reach the output


def test_camvid_preset_budget_and_checkpoint_round_trip(tmp_path):
    """Robot model at most 1/8 of the cloud's per-frame multiply-accumulates; a camvid
    checkpoint loads back as the same family with the same identities."""
    from dedelayed_models.bench.macs import count_macs

    cfg = get_config("camvid")
    model = build_model(cfg).eval()
    assert isinstance(model.local, ESPNetv2Local)
    assert isinstance(model.remote.image_backbone, ESPNetv2Features)
    with torch.no_grad():
        local_macs = count_macs(lambda: model.local(torch.rand(1, 3, *cfg.local_hw)))
        backbone_macs = count_macs(lambda: model.remote.image_backbone(torch.rand(1, 3, *cfg.remote_hw)))
    assert local_macs * 8 <= backbone_macs, (local_macs, backbone_macs)
    ident = save_checkpoint(tmp_path / "camvid.pt", model, cfg)
    robot = load_checkpoint(tmp_path / "camvid.pt", part="local")
    assert isinstance(robot.model, ESPNetv2Local) and robot.identity["local"] == ident["local"]


def test_unknown_family_names_the_choices():
    with pytest.raises(ValueError, match="choose one of"):
        build_local(dataclasses.replace(get_config("camvid").local, family="resnet"))


def test_input_not_multiple_of_16_is_refused():
    with pytest.raises(ValueError, match="multiples of 16"):
        ESPNetv2Local(0.5)(torch.rand(1, 3, 100, 128))


def test_frozen_backbone_cache_gives_the_backbone_output():
    """The training/evaluation frame cache returns what the frozen backbone computes, encoding
    each distinct frame once."""
    torch.manual_seed(0)
    model = build_model("camvid").eval()
    model.remote.requires_grad_(False)
    frames = torch.rand(1, 2, 3, 64, 96)
    frames[:, 1] = frames[:, 0]
    with torch.no_grad():
        plain = model.remote.encode_frames(frames)
        model.remote.use_frame_cache(8)
        cached = model.remote.encode_frames(frames)
        again = model.remote.encode_frames(frames)
    assert torch.allclose(plain, cached, atol=1e-5) and torch.equal(cached, again)
    assert model.remote.frame_cache.misses == 1 and model.remote.frame_cache.hits == 3


@pytest.mark.slow
def test_zero_shot_reproduces_the_reference_figure():
    """The s=2.0 weights score 59.2 mIoU over CamVid's 11 classes on the 0016E5 clip at 640x480
    with no CamVid training (the weights README's protocol); within 1 mIoU."""
    from dedelayed_models.data.camvid import camvid_shared_root
    from dedelayed_models.evaluation.zero_shot import zero_shot_camvid

    _need_weights("espnetv2_s2.0_cityscapes_1024x512")
    if not camvid_shared_root().is_dir():
        pytest.skip(f"CamVid clip absent ({camvid_shared_root()})")
    torch.set_num_threads(2)
    net = ESPNetv2Segmentation(2.0)
    load_pretrained(net, "espnetv2_s2.0_cityscapes_1024x512")
    result = zero_shot_camvid(net, camvid_shared_root(), (480, 640))
    assert result["frames"] == 101
    assert abs(result["mIoU"] - 59.2) <= 1.0, result


def test_a_fine_tuned_checkpoint_starts_a_backbone_of_its_width(tmp_path):
    """init.remote_pretrained may name a project checkpoint whose local model is a fine-tuned
    ESPNetv2: the cloud's backbone of the same width starts from exactly those weights."""
    cfg = get_config("camvid")
    torch.manual_seed(1)
    model = build_model(cfg)
    save_checkpoint(tmp_path / "fine_tuned.pt", model, cfg)
    backbone = ESPNetv2Features(cfg.local.width)
    load_pretrained(backbone, str(tmp_path / "fine_tuned.pt"))
    assert all(torch.equal(v, model.local.state_dict()[k]) for k, v in backbone.state_dict().items())
    with pytest.raises(ValueError, match="needs an ESPNetv2 local model of that width"):
        load_pretrained(ESPNetv2Features(2.0), str(tmp_path / "fine_tuned.pt"))
