"""The local segmenter backends agree with the PyTorch model, fused and local-only."""

import os

import numpy as np
import pytest
import torch

from dedelayed_local.backends import create_backend
from dedelayed_local.backends.engine_cache import (
    cached_engine_is_valid,
    engine_cache_key,
    engine_location,
    record_engine_build,
)
from dedelayed_local.robot_model import RobotModel


@pytest.fixture(scope="module")
def robot_model():
    return RobotModel.random("tiny", seed=3, image_hw=(72, 136))  # not multiples of 32


def test_robot_model_shapes_and_identities(robot_model):
    assert robot_model.feature_shape == (16, 9, 17)
    assert robot_model.local_identity.startswith("dedelayed-local-tiny-v2-")
    again = RobotModel.random("tiny", seed=3)
    assert again.expected_remote_identity == robot_model.expected_remote_identity
    assert RobotModel.random("tiny", seed=4).expected_remote_identity != again.expected_remote_identity


def test_torch_and_onnxruntime_backends_agree(robot_model, tmp_path):
    torch_backend = create_backend("torch", robot_model)
    ort_backend = create_backend("onnxruntime", robot_model, cache_dir=str(tmp_path))
    rng = np.random.default_rng(0)
    image = rng.random((1, 3, 72, 136), dtype=np.float32)
    z = (rng.standard_normal(robot_model.feature_shape) * 3).astype(np.float32)
    with torch.no_grad():
        reference = robot_model.local(torch.from_numpy(image)).argmax(1)[0].numpy()
    local_torch = torch_backend.segment(image, None)
    assert np.array_equal(local_torch, reference)  # z=None is exactly the local model
    assert np.mean(ort_backend.segment(image, None) == reference) > 0.999
    fused_torch = torch_backend.segment(image, z)
    assert np.mean(ort_backend.segment(image, z) == fused_torch) > 0.999
    assert np.mean(fused_torch != local_torch) > 0.05  # z really enters the computation
    assert os.path.exists(os.path.join(tmp_path, f"robot-{robot_model.local_identity}-72x136.onnx"))


def test_unknown_backend_is_named(robot_model):
    with pytest.raises(ValueError, match="backend 'tensorflow' is unknown"):
        create_backend("tensorflow", robot_model)


def test_engine_cache_is_keyed_by_onnx_tensorrt_and_gpu(tmp_path):
    onnx = tmp_path / "robot.onnx"
    onnx.write_bytes(b"graph-1")
    path, key = engine_location(str(onnx), "10.3.0", "NVIDIA H100 80GB HBM3", True,
                                cache_dir=str(tmp_path))
    assert key.endswith("-trt10.3.0-nvidia-h100-80gb-hbm3-fp16") and path.endswith(key + ".engine")
    assert "no engine" in cached_engine_is_valid(path, key)
    open(path, "wb").write(b"engine")
    record_engine_build(path, key, str(onnx))
    assert cached_engine_is_valid(path, key) is None
    onnx.write_bytes(b"graph-2")  # re-exported model: same file name, new engine needed
    _, new_key = engine_location(str(onnx), "10.3.0", "NVIDIA H100 80GB HBM3", True,
                                 cache_dir=str(tmp_path))
    assert new_key != key and "need" in cached_engine_is_valid(path, new_key)
    assert engine_cache_key("ab" * 32, "10.3.0", "A", False).endswith("-fp32")


@pytest.mark.cuda
def test_tensorrt_backend_matches_onnxruntime(robot_model, tmp_path):
    pytest.importorskip("tensorrt", reason="TensorRT is not installed (needs an NVIDIA GPU)")
    pytest.importorskip("pycuda.driver", reason="pycuda is not installed")
    trt_backend = create_backend("tensorrt", robot_model, cache_dir=str(tmp_path), fp16=False)
    ort_backend = create_backend("onnxruntime", robot_model, cache_dir=str(tmp_path))
    image = np.random.default_rng(0).random((1, 3, 72, 136), dtype=np.float32)
    z = np.random.default_rng(1).standard_normal(robot_model.feature_shape).astype(np.float32)
    for features in (None, z):
        agree = np.mean(trt_backend.segment(image, features) == ort_backend.segment(image, features))
        assert agree > 0.99
    trt_backend.close()
