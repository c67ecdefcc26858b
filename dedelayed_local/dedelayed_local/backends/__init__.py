"""Local segmenter backends: one interface, three engines chosen by the `backend` parameter.

- ``torch``: the PyTorch model itself (CPU or CUDA); reference and fallback.
- ``onnxruntime``: the exported robot ONNX graph (CPU here; CUDA EP where present).
- ``tensorrt``: an engine built from the same ONNX once and cached; pycuda buffers.

All take the same inputs and give the same outputs (``SegmenterBackend``), so the node does not
care which runs. The ONNX graph has a ``remote_valid`` flag, so one engine serves fused and
local-only frames.
"""

from dedelayed_local.backends.base import BACKENDS, SegmenterBackend, create_backend

__all__ = ["BACKENDS", "SegmenterBackend", "create_backend"]
