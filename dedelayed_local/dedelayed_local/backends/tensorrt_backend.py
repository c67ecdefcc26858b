"""TensorRT backend: an engine built from the robot ONNX graph once, cached, run with pycuda.

Build (TensorRT Python API; the trtexec equivalent is in the README):
    parse ONNX -> builder config (workspace limit, FP16 if the GPU has fast FP16)
    -> serialized engine, saved under a key of ONNX hash + TensorRT version + GPU name.
Run: pinned (page-locked) host buffers, one CUDA stream, async host<->device copies, and
``execute_async_v3`` with tensor addresses bound by name. Only ``class_ids`` is copied back.

Needs an NVIDIA GPU with TensorRT >= 10 and pycuda; elsewhere constructing it raises a clear
error and the node's ``backend`` parameter should be ``onnxruntime`` or ``torch``.
"""

import os
from typing import Optional

import numpy as np

from dedelayed_local.backends.base import SegmenterBackend
from dedelayed_local.backends.engine_cache import cached_engine_is_valid, engine_location, record_engine_build
from dedelayed_models.export.graphs import CLASS_IDS, IMAGE, REMOTE_FEATURES, REMOTE_VALID, ROBOT_INPUTS

WORKSPACE_BYTES = 1 << 30  # builder scratch memory limit [bytes]


def _import_gpu_stack():
    try:
        import pycuda.driver as cuda
        import tensorrt as trt
    except ImportError as error:
        raise RuntimeError(
            f"backend 'tensorrt' needs TensorRT and pycuda ({error}); on an NVIDIA machine "
            "`pip install tensorrt pycuda`, else set backend to 'onnxruntime' or 'torch'") from error
    return trt, cuda


class TensorRTBackend(SegmenterBackend):
    name = "tensorrt"

    def __init__(self, onnx_path: str, image_hw, feature_shape, *, engine_path: str = "",
                 force_rebuild: bool = False, fp16: bool = True, cache_dir: str = "",
                 logger=None):
        super().__init__(image_hw, feature_shape)
        trt, cuda = _import_gpu_stack()
        self._trt, self._cuda = trt, cuda
        cuda.init()
        device = cuda.Device(0)
        self._context = device.make_context()  # pushed around every call: executor threads vary
        self._closed = False
        try:
            trt_logger = trt.Logger(trt.Logger.WARNING)
            engine_file, key = engine_location(onnx_path, trt.__version__, device.name(), fp16,
                                               engine_path, cache_dir)
            stale = None if force_rebuild else cached_engine_is_valid(engine_file, key)
            if force_rebuild or stale:
                if logger:
                    logger(f"building TensorRT engine ({'forced' if force_rebuild else stale}); "
                           "this takes a minute once")
                serialized = self._build(trt, trt_logger, onnx_path, fp16)
                os.makedirs(os.path.dirname(os.path.abspath(engine_file)), exist_ok=True)
                with open(engine_file, "wb") as f:
                    f.write(serialized)
                record_engine_build(engine_file, key, onnx_path)
            with open(engine_file, "rb") as f:
                self._engine = trt.Runtime(trt_logger).deserialize_cuda_engine(f.read())
            if self._engine is None:
                raise RuntimeError(f"TensorRT could not load {engine_file}; set "
                                   "force_engine_rebuild to true")
            self.engine_file = engine_file
            self._execution = self._engine.create_execution_context()
            self._stream = cuda.Stream()
            self._host, self._device = {}, {}
            for i in range(self._engine.num_io_tensors):
                name = self._engine.get_tensor_name(i)
                shape = tuple(self._engine.get_tensor_shape(name))
                dtype = trt.nptype(self._engine.get_tensor_dtype(name))
                self._host[name] = cuda.pagelocked_empty(shape, dtype)
                self._device[name] = cuda.mem_alloc(self._host[name].nbytes)
                self._execution.set_tensor_address(name, int(self._device[name]))
            expected = {*ROBOT_INPUTS, CLASS_IDS}
            if not expected <= set(self._host):
                raise ValueError(f"engine {engine_file} has tensors {sorted(self._host)}; "
                                 f"expected {sorted(expected)}")
        except BaseException:
            self._release()  # a failed start must not leak the CUDA context and its memory
            raise
        finally:
            if not self._closed:
                self._context.pop()

    @staticmethod
    def _build(trt, trt_logger, onnx_path: str, fp16: bool) -> bytes:
        builder = trt.Builder(trt_logger)
        network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
        parser = trt.OnnxParser(network, trt_logger)
        with open(onnx_path, "rb") as f:
            if not parser.parse(f.read()):
                errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
                raise RuntimeError(f"TensorRT cannot parse {onnx_path}: {errors}")
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
        # platform_has_fast_fp16 is deprecated since TensorRT 10.5 (gone in 11); where it is
        # missing the FP16 flag only *allows* FP16 kernels, TensorRT still times FP32 ones.
        if fp16 and getattr(builder, "platform_has_fast_fp16", True):
            config.set_flag(trt.BuilderFlag.FP16)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path}")
        return bytes(serialized)

    def segment(self, image: np.ndarray, z: Optional[np.ndarray]) -> np.ndarray:
        cuda, host, device = self._cuda, self._host, self._device
        self._context.push()
        try:
            np.copyto(host[IMAGE], image)
            if z is None:
                host[REMOTE_FEATURES].fill(0.0)
                host[REMOTE_VALID].fill(0.0)
            else:
                np.copyto(host[REMOTE_FEATURES], z[None])
                host[REMOTE_VALID].fill(1.0)
            for name in ROBOT_INPUTS:
                cuda.memcpy_htod_async(device[name], host[name], self._stream)
            if not self._execution.execute_async_v3(stream_handle=self._stream.handle):
                raise RuntimeError(f"TensorRT could not enqueue {self.engine_file} "
                                   "(see the TensorRT log above)")
            cuda.memcpy_dtoh_async(host[CLASS_IDS], device[CLASS_IDS], self._stream)
            self._stream.synchronize()
            return host[CLASS_IDS][0].copy()
        finally:
            self._context.pop()

    def close(self) -> None:
        if not self._closed:
            self._context.push()
            self._release()

    def _release(self) -> None:
        """Free device buffers and TensorRT objects while the context is current (they own GPU
        memory of it), then pop and destroy the context. Expects the context pushed."""
        try:
            for buffer in getattr(self, "_device", {}).values():
                buffer.free()
            for name in ("_execution", "_engine", "_stream"):
                if hasattr(self, name):
                    delattr(self, name)
        finally:
            self._closed = True
            self._context.pop()
            self._context.detach()
