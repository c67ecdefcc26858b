"""Each FeatureMap encoding round-trips within its precision; bad payloads are named."""

import numpy as np
import pytest

from dedelayed_models.transport import (
    ENCODINGS,
    EncodedFeatures,
    FeatureDecodeError,
    decode_features,
    encode_features,
    max_abs_error_bound,
)


def _features(shape=(96, 60, 108), seed=0):
    rng = np.random.default_rng(seed)
    # Channels with different ranges and offsets, as real activations have.
    scale = rng.uniform(0.1, 8.0, size=(shape[0], 1, 1))
    offset = rng.uniform(-3.0, 3.0, size=(shape[0], 1, 1))
    return (rng.standard_normal(shape) * scale + offset).astype(np.float32)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_round_trip_within_precision(encoding):
    z = _features()
    encoded = encode_features(z, encoding)
    decoded = decode_features(encoded)
    assert decoded.dtype == np.float32 and decoded.shape == z.shape
    error = float(np.abs(decoded - z).max())
    assert error <= max_abs_error_bound(z, encoding)
    if encoding == "float32":
        assert np.array_equal(decoded, z)


def test_payload_sizes_follow_the_encoding():
    z = _features(shape=(8, 4, 5))
    sizes = {e: len(encode_features(z, e).data) for e in ENCODINGS}
    assert sizes == {"float32": 640, "float16": 320, "int8": 160}
    assert encode_features(z, "int8").nbytes == 160 + 8 * 8  # + scale and offset per channel


def test_int8_error_is_tight_and_relative_to_each_channel():
    z = _features(shape=(4, 16, 16))
    z[0] *= 1000.0  # one wide channel must not ruin the precision of the others
    decoded = decode_features(encode_features(z, "int8"))
    for c in range(4):
        half_step = (z[c].max() - z[c].min()) / 254 / 2
        assert np.abs(decoded[c] - z[c]).max() <= half_step * 1.0001 + 1e-6


def test_int8_constant_channel_is_exact():
    z = np.full((2, 3, 3), 1.25, dtype=np.float32)
    assert np.array_equal(decode_features(encode_features(z, "int8")), z)


def test_truncated_payload_is_named():
    encoded = encode_features(_features(shape=(4, 6, 8)), "float16")
    short = EncodedFeatures("float16", encoded.shape, encoded.data[:-2])
    with pytest.raises(FeatureDecodeError, match=r"382 bytes but float16 4x6x8 needs 384"):
        decode_features(short)


def test_unknown_encoding_and_missing_int8_parameters_are_named():
    with pytest.raises(FeatureDecodeError, match="'bfloat16' is unknown"):
        decode_features(EncodedFeatures("bfloat16", (1, 1, 1), b"\0\0"))
    encoded = encode_features(_features(shape=(3, 2, 2)), "int8")
    with pytest.raises(FeatureDecodeError, match="needs 3 per-channel scale values, got 2"):
        decode_features(EncodedFeatures("int8", (3, 2, 2), encoded.data,
                                        encoded.scale[:2], encoded.offset))


def test_non_finite_payload_is_refused_on_both_ends():
    z = _features(shape=(2, 2, 2))
    z[1, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        encode_features(z, "float16")
    payload = np.array([1.0, np.inf], dtype="<f4").tobytes()
    with pytest.raises(FeatureDecodeError, match="1 non-finite"):
        decode_features(EncodedFeatures("float32", (1, 1, 2), payload))


def test_float16_overflow_names_the_alternative():
    with pytest.raises(ValueError, match="int8"):
        encode_features(np.full((1, 1, 1), 1e6, dtype=np.float32), "float16")
