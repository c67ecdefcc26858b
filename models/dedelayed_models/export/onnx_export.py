"""ONNX export of the robot model and the remote features model, with a JSON sidecar each.

    python -m dedelayed_models.export.onnx_export --checkpoint fused.pt --out-dir export/
    python -m dedelayed_models.export.onnx_export --preset tiny --out-dir /tmp/x   # random weights

Writes ``robot.onnx`` + ``robot.json`` and/or ``remote_features.onnx`` + ``remote_features.json``.
Static shapes, opset 17 by default, names and layouts as documented in ``graphs.py``; the sidecar
repeats them with the identities so a consumer (TensorRT engine builder, ROS node) can check what
it loaded. Uses the TorchScript-based exporter (``dynamo=False``), which needs no extra package.
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..classes import NUM_CLASSES
from ..modeling.checkpoint import load_checkpoint
from ..modeling.config import config_to_dict
from ..modeling.random_model import random_model
from .graphs import (
    CLASS_IDS,
    FRAME_AGES_MS,
    FRAMES,
    IMAGE,
    LOGITS,
    REMOTE_FEATURES,
    REMOTE_INPUTS,
    REMOTE_OUTPUTS,
    REMOTE_VALID,
    ROBOT_INPUTS,
    ROBOT_OUTPUTS,
    RemoteFeaturesGraph,
    RobotGraph,
)

DEFAULT_OPSET = 17
SIDECAR_FORMAT = "dedelayed-onnx-sidecar/1"

_DESCRIPTIONS = {
    IMAGE: "RGB float32 in [0, 1], NCHW; normalisation is inside the graph",
    REMOTE_FEATURES: "z from the remote model (FeatureMap payload, dequantised), NCHW; "
                     f"zeros when {REMOTE_VALID} = 0",
    REMOTE_VALID: f"1.0 = fuse {REMOTE_FEATURES}, 0.0 = local-only fallback",
    LOGITS: "per-class scores, NCHW, classes = Cityscapes trainIds",
    CLASS_IDS: "argmax trainId 0-18 per pixel (cast to uint8 for mono8)",
    FRAMES: "K uplinked frames, oldest first, RGB float32 in [0, 1], N K C H W",
    FRAME_AGES_MS: "each context frame's age at the instant the features describe [ms], N K",
}
_LAYOUTS = {IMAGE: "NCHW", REMOTE_FEATURES: "NCHW", REMOTE_VALID: "N", LOGITS: "NCHW",
            CLASS_IDS: "NHW", FRAMES: "NKCHW", FRAME_AGES_MS: "NK"}


def _io_entry(name: str, tensor: torch.Tensor) -> Dict[str, Any]:
    return {"name": name, "shape": list(tensor.shape), "dtype": str(tensor.dtype).replace("torch.", ""),
            "layout": _LAYOUTS[name], "description": _DESCRIPTIONS[name]}


def _export(graph: nn.Module, inputs: Tuple[torch.Tensor, ...], path: str,
            input_names: Sequence[str], output_names: Sequence[str], opset: int) -> Tuple:
    graph.eval()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        # The legacy exporter announces its deprecation; its output is still the tested one.
        warnings.simplefilter("ignore")
        outputs = graph(*inputs)
        torch.onnx.export(graph, inputs, path, input_names=list(input_names),
                          output_names=list(output_names), opset_version=opset,
                          do_constant_folding=True, dynamo=False)
    return outputs if isinstance(outputs, tuple) else (outputs,)


def _write_sidecar(onnx_path: str, sidecar: Dict[str, Any]) -> str:
    path = os.path.splitext(onnx_path)[0] + ".json"
    with open(path, "w") as f:
        json.dump(sidecar, f, indent=2)
    return path


def export_robot_onnx(local: nn.Module, path: str, *, image_hw: Tuple[int, int],
                      local_identity: Optional[str] = None,
                      expected_remote_identity: Optional[str] = None,
                      preset: Optional[str] = None, opset: int = DEFAULT_OPSET) -> Dict[str, Any]:
    """Export ``RobotGraph(local)`` at a fixed image size; returns the sidecar (also written)."""
    graph = RobotGraph(local)
    inputs = graph.example_inputs(image_hw)
    outputs = _export(graph, inputs, path, ROBOT_INPUTS, ROBOT_OUTPUTS, opset)
    sidecar = {"format": SIDECAR_FORMAT, "graph": "robot", "onnx": os.path.basename(path),
               "opset": opset, "preset": preset, "identity": local_identity,
               "expected_remote_identity": expected_remote_identity,
               "image_hw": list(image_hw), "num_classes": NUM_CLASSES,
               "inputs": [_io_entry(n, t) for n, t in zip(ROBOT_INPUTS, inputs)],
               "outputs": [_io_entry(n, t) for n, t in zip(ROBOT_OUTPUTS, outputs)]}
    _write_sidecar(path, sidecar)
    return sidecar


def export_remote_onnx(remote: nn.Module, path: str, *, remote_hw: Tuple[int, int],
                       image_hw: Tuple[int, int], remote_identity: Optional[str] = None,
                       preset: Optional[str] = None, opset: int = DEFAULT_OPSET) -> Dict[str, Any]:
    """Export ``RemoteFeaturesGraph`` for remote input remote_hw and a robot at image_hw."""
    graph = RemoteFeaturesGraph(remote, image_hw)
    inputs = graph.example_inputs(remote_hw)
    outputs = _export(graph, inputs, path, REMOTE_INPUTS, REMOTE_OUTPUTS, opset)
    sidecar = {"format": SIDECAR_FORMAT, "graph": "remote_features", "onnx": os.path.basename(path),
               "opset": opset, "preset": preset, "identity": remote_identity,
               "remote_hw": list(remote_hw), "image_hw": list(image_hw),
               "num_frames": remote.num_frames,
               "inputs": [_io_entry(n, t) for n, t in zip(REMOTE_INPUTS, inputs)],
               "outputs": [_io_entry(n, t) for n, t in zip(REMOTE_OUTPUTS, outputs)]}
    _write_sidecar(path, sidecar)
    return sidecar


def onnx_max_abs_diff(graph: nn.Module, onnx_path: str, inputs: Sequence[torch.Tensor],
                      input_names: Sequence[str]) -> Dict[str, float]:
    """Run ``graph`` in PyTorch and the ONNX file in onnxruntime (CPU) on the same inputs;
    max |difference| per floating output name (integer outputs: fraction of mismatches)."""
    import onnxruntime as ort

    graph.eval()
    with torch.no_grad():
        expected = graph(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    feeds = {n: t.numpy() for n, t in zip(input_names, inputs)}
    got = session.run(None, feeds)
    names = [o.name for o in session.get_outputs()]
    out = {}
    for name, e, g in zip(names, expected, got):
        e = e.numpy()
        if np.issubdtype(e.dtype, np.floating):
            out[name] = float(np.abs(e - g).max())
        else:
            out[name] = float(np.mean(e != g))
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="checkpoint .pt (dedelayed, local or remote)")
    src.add_argument("--preset", help="random weights of a preset (pipeline tests only)")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--image-hw", type=int, nargs=2, help="local input H W (default: preset)")
    ap.add_argument("--remote-hw", type=int, nargs=2, help="remote input H W (default: preset)")
    ap.add_argument("--opset", type=int, default=DEFAULT_OPSET)
    ap.add_argument("--verify", action="store_true", help="check parity with onnxruntime")
    args = ap.parse_args(argv)

    if args.checkpoint:
        loaded = load_checkpoint(args.checkpoint)
        model, config, ident = loaded.model, loaded.config, loaded.identity
    else:
        built = random_model(args.preset)
        model, config, ident = built.model, built.config, built.identity
        print(f"warning: exporting RANDOM weights ({built.source})")
    image_hw = tuple(args.image_hw or config.local_hw)
    remote_hw = tuple(args.remote_hw or config.remote_hw)
    local = getattr(model, "local", model if "local" in ident and "remote" not in ident else None)
    remote = getattr(model, "remote", model if "remote" in ident and "local" not in ident else None)
    jobs = []
    if local is not None:
        path = os.path.join(args.out_dir, "robot.onnx")
        export_robot_onnx(local, path, image_hw=image_hw, local_identity=ident.get("local"),
                          expected_remote_identity=ident.get("remote"), preset=config.name,
                          opset=args.opset)
        jobs.append((RobotGraph(local), path, RobotGraph(local).example_inputs(image_hw), ROBOT_INPUTS))
    if remote is not None:
        path = os.path.join(args.out_dir, "remote_features.onnx")
        export_remote_onnx(remote, path, remote_hw=remote_hw, image_hw=image_hw,
                           remote_identity=ident.get("remote"), preset=config.name, opset=args.opset)
        g = RemoteFeaturesGraph(remote, image_hw)
        jobs.append((g, path, g.example_inputs(remote_hw), REMOTE_INPUTS))
    for graph, path, inputs, names in jobs:
        print(f"wrote {path} (+ {os.path.splitext(os.path.basename(path))[0]}.json)")
        if args.verify:
            print(f"  parity vs PyTorch: {onnx_max_abs_diff(graph, path, inputs, names)}")
    print(json.dumps({"config": config_to_dict(config)["name"], "identity": ident}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
