"""FeatureMap payload encodings: float32, float16 and int8 with per-channel scale/offset.

The ROS message ``dedelayed_msgs/FeatureMap`` names the same three encodings as string
constants; this module is the one implementation both the cloud (encode) and the robot
(decode + validate) use. Bytes are little-endian, channels-first, row-major.

int8 quantisation is affine per channel c: ``value = scale[c] * q + offset[c]`` with
``q`` in [-127, 127], ``offset[c]`` the middle of the channel's range and ``scale[c]`` its
half-range / 127, so the reconstruction error is at most ``scale[c] / 2``.
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from dedelayed_models.peer_text import peer_text

FLOAT32 = "float32"
FLOAT16 = "float16"
INT8 = "int8"
ENCODINGS = (FLOAT32, FLOAT16, INT8)

_WIRE_DTYPES = {FLOAT32: np.dtype("<f4"), FLOAT16: np.dtype("<f2"), INT8: np.dtype("i1")}
_INT8_LEVELS = 127  # symmetric range [-127, 127]; -128 unused so 0 maps to the offset exactly


class FeatureDecodeError(ValueError):
    """A FeatureMap payload that cannot be turned into valid features (never fused)."""


@dataclass(frozen=True)
class EncodedFeatures:
    """One encoded feature tensor, exactly what a FeatureMap carries besides timing.

    shape: (channels, height, width) [elements]; data: the little-endian payload
    (bytes, or a zero-copy memoryview of a received message);
    scale/offset: (channels,) float32 for int8, None for float encodings.
    """

    encoding: str
    shape: Tuple[int, int, int]
    data: bytes
    scale: Optional[np.ndarray] = None
    offset: Optional[np.ndarray] = None

    @property
    def nbytes(self) -> int:
        """Payload plus per-channel parameters [bytes] (what the downlink carries)."""
        extra = 0 if self.scale is None else 8 * len(self.scale)
        return len(self.data) + extra


def encode_features(features: np.ndarray, encoding: str = FLOAT16) -> EncodedFeatures:
    """Encode z of shape (C, H, W) (any float dtype) for the downlink."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown feature encoding {encoding!r}; use one of {ENCODINGS}")
    features = np.asarray(features)
    if features.ndim != 3:
        raise ValueError(f"features must be (C, H, W); got shape {features.shape}")
    shape = tuple(int(n) for n in features.shape)
    if not np.isfinite(features).all():
        raise ValueError("features hold NaN/inf; refusing to send them to the robot")
    if encoding == FLOAT16 and np.abs(features).max() > np.finfo(np.float16).max:
        raise ValueError(
            f"features reach {np.abs(features).max():.4g}, beyond float16's range "
            f"({np.finfo(np.float16).max:.0f}); use encoding 'int8' or 'float32'")
    if encoding != INT8:
        payload = np.ascontiguousarray(features, dtype=_WIRE_DTYPES[encoding]).tobytes()
        return EncodedFeatures(encoding, shape, payload)
    per_channel = features.reshape(shape[0], -1).astype(np.float32)
    low, high = per_channel.min(axis=1), per_channel.max(axis=1)
    offset = ((high + low) / 2).astype(np.float32)
    scale = ((high - low) / (2 * _INT8_LEVELS)).astype(np.float32)
    safe_scale = np.where(scale > 0, scale, 1.0).astype(np.float32)  # constant channel -> q = 0
    q = np.rint((per_channel - offset[:, None]) / safe_scale[:, None])
    q = np.clip(q, -_INT8_LEVELS, _INT8_LEVELS).astype(np.int8)
    return EncodedFeatures(INT8, shape, q.tobytes(), scale, offset)


def decode_features(encoded: EncodedFeatures) -> np.ndarray:
    """Decode and validate a payload; returns float32 (C, H, W).

    Raises FeatureDecodeError naming the bad value (unknown encoding, payload size that
    does not match the shape, missing/short scale or offset, non-finite values).
    """
    if encoded.encoding not in ENCODINGS:
        raise FeatureDecodeError(
            f"FeatureMap encoding '{peer_text(encoded.encoding)}' is unknown; the robot understands "
            f"{ENCODINGS}. Is the cloud running a newer dedelayed_remote?")
    channels, height, width = encoded.shape
    if min(encoded.shape) <= 0:
        raise FeatureDecodeError(f"FeatureMap shape {channels}x{height}x{width} is empty")
    dtype = _WIRE_DTYPES[encoded.encoding]
    expected_bytes = channels * height * width * dtype.itemsize
    if len(encoded.data) != expected_bytes:
        raise FeatureDecodeError(
            f"FeatureMap payload has {len(encoded.data)} bytes but {encoded.encoding} "
            f"{channels}x{height}x{width} needs {expected_bytes}; the message is truncated "
            f"or its shape fields are wrong")
    values = np.frombuffer(encoded.data, dtype=dtype).reshape(channels, height, width)
    if encoded.encoding == INT8:
        for name, param in (("scale", encoded.scale), ("offset", encoded.offset)):
            if param is None or len(param) != channels:
                got = "none" if param is None else len(param)
                raise FeatureDecodeError(
                    f"int8 FeatureMap needs {channels} per-channel {name} values, got {got}")
        scale = np.asarray(encoded.scale, dtype=np.float32)[:, None, None]
        offset = np.asarray(encoded.offset, dtype=np.float32)[:, None, None]
        decoded = values.astype(np.float32) * scale + offset
    else:
        decoded = values.astype(np.float32)
    if not np.isfinite(decoded).all():
        bad = int(decoded.size - np.isfinite(decoded).sum())
        raise FeatureDecodeError(f"FeatureMap holds {bad} non-finite value(s) (NaN/inf)")
    return decoded


def max_abs_error_bound(features: np.ndarray, encoding: str) -> float:
    """Largest reconstruction error each encoding guarantees for these features [units of z]."""
    features = np.asarray(features, dtype=np.float32)
    if encoding == FLOAT32:
        return 0.0
    if encoding == FLOAT16:
        # round-to-nearest: half an ulp of binary16 (10 mantissa bits) relative to magnitude,
        # plus the subnormal step for values near zero.
        return float(np.abs(features).max()) * 2.0 ** -11 + 2.0 ** -25
    per_channel = features.reshape(features.shape[0], -1)
    half_range = (per_channel.max(axis=1) - per_channel.min(axis=1)) / 2
    return float((half_range / _INT8_LEVELS).max()) / 2 * (1 + 1e-5) + 1e-7
