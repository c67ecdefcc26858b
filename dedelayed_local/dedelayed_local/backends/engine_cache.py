"""Where a TensorRT engine built from an ONNX file is cached, and when it must be rebuilt.

An engine is only valid for the exact ONNX graph, TensorRT version and GPU model that built
it, so those three make the cache key. Pure Python (no TensorRT import): tested on CPU.
"""

import hashlib
import json
import os
import re
from typing import Optional

DEFAULT_CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "dedelayed", "engines")


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def engine_cache_key(onnx_sha256: str, tensorrt_version: str, gpu_name: str, fp16: bool) -> str:
    """e.g. '3f9a2c1b7d0e5a11-trt10.3.0-nvidia-h100-80gb-hbm3-fp16'."""
    gpu = re.sub(r"[^a-z0-9]+", "-", gpu_name.lower()).strip("-")
    return f"{onnx_sha256[:16]}-trt{tensorrt_version}-{gpu}-{'fp16' if fp16 else 'fp32'}"


def engine_location(onnx_path: str, tensorrt_version: str, gpu_name: str, fp16: bool,
                    engine_path: str = "", cache_dir: str = "") -> "tuple[str, str]":
    """(engine file path, cache key). ``engine_path`` pins the file; else the cache dir + key."""
    key = engine_cache_key(file_sha256(onnx_path), tensorrt_version, gpu_name, fp16)
    if engine_path:
        return engine_path, key
    return os.path.join(cache_dir or DEFAULT_CACHE_DIR, key + ".engine"), key


def cached_engine_is_valid(engine_file: str, key: str) -> Optional[str]:
    """None if ``engine_file`` exists and was built for ``key``; else why it must be rebuilt."""
    if not os.path.isfile(engine_file):
        return f"no engine at {engine_file}"
    meta_file = engine_file + ".json"
    try:
        with open(meta_file) as f:
            built_for = json.load(f).get("cache_key")
    except (OSError, ValueError):
        return f"no readable build record {meta_file}"
    if built_for != key:
        return f"engine was built for {built_for}, need {key} (ONNX, TensorRT or GPU changed)"
    return None


def record_engine_build(engine_file: str, key: str, onnx_path: str) -> None:
    with open(engine_file + ".json", "w") as f:
        json.dump({"cache_key": key, "onnx": os.path.abspath(onnx_path)}, f, indent=2)
