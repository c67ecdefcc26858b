"""Model identity and checkpoint files: stable hashes, round trips, clear errors."""

import re

import pytest
import torch

from dedelayed_models.modeling import (
    LocalModel,
    build_model,
    get_config,
    load_checkpoint,
    load_weights,
    local_identity,
    remote_identity,
    save_checkpoint,
)
from dedelayed_models.modeling.remote_model import context_ages_ms

CFG = get_config("tiny")


def _model(seed=0):
    torch.manual_seed(seed)
    return build_model(CFG).eval()


def test_identity_is_stable_readable_and_weight_sensitive():
    a, b = _model(), _model()
    ra, la = remote_identity(a.remote, CFG), local_identity(a.local, CFG)
    assert ra == remote_identity(b.remote, CFG) and la == local_identity(b.local, CFG)
    assert re.fullmatch(r"dedelayed-remote-tiny-v2-[0-9a-f]{12}", ra)
    assert re.fullmatch(r"dedelayed-local-tiny-v2-[0-9a-f]{12}", la)
    with torch.no_grad():
        b.remote.vit3d[0].qkv.weight[0, 0] += 1e-3
        b.local.seg_head[1].bias[3] += 1e-3
    assert remote_identity(b.remote, CFG) != ra and local_identity(b.local, CFG) != la
    with torch.no_grad():                           # the pretraining head never shapes z
        a.remote.head[0].weight.mul_(2)
    assert remote_identity(a.remote, CFG) == ra
    assert remote_identity(_model(seed=1).remote, CFG) != ra


def test_checkpoint_round_trip_all_kinds(tmp_path):
    model = _model()
    path = tmp_path / "fused.pt"
    ident = save_checkpoint(path, model, CFG, extra={"stage": "fusion", "step": 7})
    loaded = load_checkpoint(path)
    assert loaded.kind == "dedelayed" and loaded.identity == ident and loaded.config == CFG
    assert loaded.extra == {"stage": "fusion", "step": 7}
    x, frames = torch.rand(1, 3, *CFG.local_hw), torch.rand(1, 4, 3, *CFG.remote_hw)
    with torch.no_grad():
        ages = context_ages_ms(50.0, 33.3, 4)
        assert torch.equal(loaded.model(x, frames, ages), model(x, frames, ages))
    robot = load_checkpoint(path, part="local")
    assert isinstance(robot.model, LocalModel) and robot.identity["remote"] == ident["remote"]
    cloud = load_checkpoint(path, part="remote")
    assert remote_identity(cloud.model, cloud.config) == ident["remote"]
    save_checkpoint(tmp_path / "local.pt", model.local, CFG)
    with pytest.raises(ValueError, match="holds a local model, not a remote model"):
        load_checkpoint(tmp_path / "local.pt", part="remote")


def test_mismatched_keys_error_names_file_keys_and_fix(tmp_path):
    model = _model()
    state = dict(model.local.state_dict())
    state.pop("seg_head.1.weight")
    state["extra_block.weight"] = torch.zeros(3)
    with pytest.raises(ValueError) as err:
        load_weights(model.local, state, source="/robot/local.pt")
    msg = str(err.value)
    assert "/robot/local.pt" in msg and "missing keys: seg_head.1.weight" in msg
    assert "unexpected keys: extra_block.weight" in msg and "fix:" in msg
    small_local = LocalModel.from_config(get_config("small").local)
    with pytest.raises(ValueError, match=r"shape mismatches: P2\.0\.weight file \(16, 32, 1, 1\) "
                                         r"vs model \(64, 96, 1, 1\)"):
        load_weights(small_local, model.local.state_dict(), source="tiny.pt")


def test_tampered_or_missing_checkpoint_is_refused(tmp_path):
    path = tmp_path / "remote.pt"
    save_checkpoint(path, _model().remote, CFG)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["patch_merge.bias"] += 1.0      # weights no longer match the identity
    torch.save(payload, path)
    with pytest.raises(ValueError, match="stored identity .* but its weights hash to"):
        load_checkpoint(path)
    assert load_checkpoint(path, verify_identity=False).kind == "remote"
    with pytest.raises(FileNotFoundError, match="nowhere.pt not found"):
        load_checkpoint(tmp_path / "nowhere.pt")
