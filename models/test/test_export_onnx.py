"""ONNX export: static, named graphs that match PyTorch through onnxruntime on CPU (float32 < 1e-4)."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from dedelayed_models.export import (
    REMOTE_INPUTS,
    ROBOT_INPUTS,
    RemoteFeaturesGraph,
    RobotGraph,
    export_remote_onnx,
    export_robot_onnx,
    onnx_max_abs_diff,
)
from dedelayed_models.export.onnx_export import main as export_main
from dedelayed_models.modeling import build_model, get_config, local_identity, remote_identity
from dedelayed_models.modeling.remote_model import context_ages_ms

CFG = get_config("tiny")
TOL = 1e-4


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = build_model(CFG)
    # Non-trivial BatchNorm statistics, so export-time folding is exercised, not a no-op.
    m.train()
    with torch.no_grad():
        for _ in range(2):
            m(torch.rand(2, 3, *CFG.local_hw), torch.rand(2, 4, 3, *CFG.remote_hw),
              context_ages_ms(40.0, 33.3, 4))
    return m.eval()


@pytest.fixture(scope="module")
def robot_onnx(model, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("onnx") / "robot.onnx")
    sidecar = export_robot_onnx(model.local, path, image_hw=(120, 216),
                                local_identity=local_identity(model.local, CFG),
                                expected_remote_identity=remote_identity(model.remote, CFG),
                                preset="tiny")
    return path, sidecar


def _run(path, feeds):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))


def test_robot_graph_is_static_named_and_documented(robot_onnx):
    path, sidecar = robot_onnx
    graph = onnx.load(path)
    assert graph.opset_import[0].version >= 17
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(graph.graph.input) + list(graph.graph.output)}
    assert shapes == {"image": [1, 3, 120, 216], "remote_features": [1, 16, 15, 27],
                      "remote_valid": [1], "logits": [1, 19, 120, 216], "class_ids": [1, 120, 216]}
    with open(path[:-len(".onnx")] + ".json") as f:
        assert json.load(f) == sidecar
    assert [i["name"] for i in sidecar["inputs"]] == list(ROBOT_INPUTS)
    assert sidecar["inputs"][0]["layout"] == "NCHW" and sidecar["outputs"][1]["dtype"] == "int32"
    assert sidecar["identity"].startswith("dedelayed-local-tiny-v2-")
    assert sidecar["expected_remote_identity"].startswith("dedelayed-remote-tiny-v2-")


def test_robot_onnx_matches_pytorch_fused_and_fallback(model, robot_onnx):
    path, _ = robot_onnx
    torch.manual_seed(3)
    image, z = torch.rand(1, 3, 120, 216), torch.randn(1, 16, 15, 27)
    diff = onnx_max_abs_diff(RobotGraph(model.local), path, (image, z, torch.ones(1)), ROBOT_INPUTS)
    assert diff["logits"] < TOL and diff["class_ids"] < 1e-3
    with torch.no_grad():
        fused, local_only = model.local(image, z).numpy(), model.local(image).numpy()
    on = _run(path, {"image": image.numpy(), "remote_features": z.numpy(),
                     "remote_valid": np.ones(1, np.float32)})
    off = _run(path, {"image": image.numpy(), "remote_features": z.numpy(),
                      "remote_valid": np.zeros(1, np.float32)})
    assert np.abs(on["logits"] - fused).max() < TOL
    assert np.abs(off["logits"] - local_only).max() < TOL              # one engine, both modes
    assert np.abs(on["logits"] - off["logits"]).max() > 1e-2
    assert off["class_ids"].dtype == np.int32
    assert np.mean(off["class_ids"] == local_only.argmax(1)) > 0.999


def test_remote_features_onnx_matches_pytorch(model, tmp_path):
    path = str(tmp_path / "remote_features.onnx")
    sidecar = export_remote_onnx(model.remote, path, remote_hw=(112, 200), image_hw=(120, 216),
                                 remote_identity=remote_identity(model.remote, CFG), preset="tiny")
    assert [o["shape"] for o in sidecar["outputs"]] == [[1, 16, 15, 27]]
    assert [i["name"] for i in sidecar["inputs"]] == list(REMOTE_INPUTS)
    graph = RemoteFeaturesGraph(model.remote, (120, 216))
    torch.manual_seed(4)
    frames = torch.rand(1, 4, 3, 112, 200)
    for delay in (0.0, 66.7, 165.0):
        ages = context_ages_ms(delay, 33.3, 4)
        diff = onnx_max_abs_diff(graph, path, (frames, ages), REMOTE_INPUTS)
        assert diff["remote_features"] < TOL
    a = _run(path, {"frames": frames.numpy(), "frame_ages_ms": context_ages_ms(0.0, 33.3, 4).numpy()})
    b = _run(path, {"frames": frames.numpy(), "frame_ages_ms": context_ages_ms(132.0, 33.3, 4).numpy()})
    assert np.abs(a["remote_features"] - b["remote_features"]).max() > 1e-4


def test_export_cli_from_checkpoint(model, tmp_path, capsys):
    from dedelayed_models.modeling import save_checkpoint
    ckpt = tmp_path / "fused.pt"
    ident = save_checkpoint(ckpt, model, CFG)
    assert export_main(["--checkpoint", str(ckpt), "--out-dir", str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "remote_features.json") as f:
        assert json.load(f)["identity"] == ident["remote"]
    with open(tmp_path / "out" / "robot.json") as f:
        robot = json.load(f)
    assert robot["identity"] == ident["local"] and robot["expected_remote_identity"] == ident["remote"]
    assert robot["image_hw"] == list(CFG.local_hw)


def test_pretrained_family_robot_graph_matches_pytorch(tmp_path):
    """The ESPNetv2 local model (camvid preset: its pyramid pooling resamples to sizes that are
    not factors of the grid) exports with static shapes and matches PyTorch, with and without z."""
    cfg = get_config("camvid")
    torch.manual_seed(0)
    local = build_model(cfg).local.eval()
    path = str(tmp_path / "robot_camvid.onnx")
    export_robot_onnx(local, path, image_hw=cfg.local_hw, local_identity=local_identity(local, cfg),
                      expected_remote_identity="remote-under-test", preset="camvid")
    image = torch.rand(1, 3, *cfg.local_hw)
    z = torch.randn(1, *local.stage1_shape(cfg.local_hw))
    for valid in (0.0, 1.0):
        out = _run(path, {"image": image.numpy(), "remote_features": z.numpy(),
                          "remote_valid": np.array([valid], np.float32)})
        with torch.no_grad():
            ref = local(image, z if valid else None)
        assert np.abs(out["logits"] - ref.numpy()).max() < 1e-3
        assert (out["class_ids"] == ref.argmax(1).numpy()).mean() > 0.999
