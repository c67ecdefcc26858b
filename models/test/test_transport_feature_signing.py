"""Ed25519 FeatureMap signatures: what is covered, what is refused, keys from real PEM files."""

import dataclasses

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dedelayed_models.transport import encode_features
from dedelayed_models.transport.feature_signing import (
    BAD_SIGNATURE,
    UNSIGNED,
    FeatureSigner,
    FeatureVerifier,
    SignatureRefused,
    load_signing_key,
    load_verify_key,
)

STAMP_NS = 1_700_000_123_456_789_012
FIELDS = dict(robot="/robot1", stamp_ns=STAMP_NS, delay_ms=99.5,
              model_identity="dedelayed-remote-tiny-v1-abc")


def _encoded(encoding="int8"):
    z = np.random.default_rng(3).standard_normal((6, 4, 5)).astype(np.float32)
    return encode_features(z, encoding)


def _pair():
    key = Ed25519PrivateKey.generate()
    return FeatureSigner(key), FeatureVerifier(key.public_key())


@pytest.mark.parametrize("encoding", ["float16", "int8"])
def test_a_signed_map_verifies_and_every_signed_field_is_covered(encoding):
    signer, verifier = _pair()
    encoded = _encoded(encoding)
    signature = signer.sign(encoded=encoded, **FIELDS)
    assert len(signature) == 64
    verifier.verify(signature, encoded=encoded, **FIELDS)
    # the robot passes a memoryview of the received payload: same bytes, same verdict
    verifier.verify(memoryview(signature), encoded=dataclasses.replace(
        encoded, data=memoryview(bytearray(encoded.data))), **FIELDS)

    flipped = bytearray(encoded.data)
    flipped[len(flipped) // 2] ^= 1
    altered = [dict(FIELDS, stamp_ns=STAMP_NS + 45_000_000), dict(FIELDS, delay_ms=99.0),
               dict(FIELDS, model_identity="dedelayed-remote-tiny-v1-abd"),
               dict(FIELDS, robot="/robot2"), dict(FIELDS, robot="/robot1/")]   # another robot
    for fields in altered:
        with pytest.raises(SignatureRefused) as refused:
            verifier.verify(signature, encoded=encoded, **fields)
        assert refused.value.reason == BAD_SIGNATURE
    changed = [dataclasses.replace(encoded, data=bytes(flipped)),
               dataclasses.replace(encoded, shape=(6, 5, 4)),
               dataclasses.replace(encoded, encoding="float16" if encoding == "int8" else "int8")]
    if encoding == "int8":
        changed += [dataclasses.replace(encoded, scale=encoded.scale * 2),
                    dataclasses.replace(encoded, offset=encoded.offset + 1)]
    for other in changed:
        with pytest.raises(SignatureRefused, match="does not verify"):
            verifier.verify(signature, encoded=other, **FIELDS)


def test_unsigned_truncated_and_foreign_signatures_are_refused():
    signer, verifier = _pair()
    encoded = _encoded()
    with pytest.raises(SignatureRefused) as refused:
        verifier.verify(b"", encoded=encoded, **FIELDS)
    assert refused.value.reason == UNSIGNED
    with pytest.raises(SignatureRefused, match="has 63 bytes"):
        verifier.verify(signer.sign(encoded=encoded, **FIELDS)[:63], encoded=encoded, **FIELDS)
    impostor, _ = _pair()
    with pytest.raises(SignatureRefused, match="does not verify"):
        verifier.verify(impostor.sign(encoded=encoded, **FIELDS), encoded=encoded, **FIELDS)


def test_keys_load_from_pem_files_and_wrong_key_types_are_named(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    key = Ed25519PrivateKey.generate()
    private = tmp_path / "cloud.key"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public = tmp_path / "cloud_public.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    signer = FeatureSigner(load_signing_key(str(private)))
    encoded = _encoded()
    FeatureVerifier(load_verify_key(str(public))).verify(
        signer.sign(encoded=encoded, **FIELDS), encoded=encoded, **FIELDS)

    ecdsa = tmp_path / "ecdsa.key"
    ecdsa.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(ValueError, match="not an Ed25519 key"):
        load_signing_key(str(ecdsa))
    with pytest.raises(FileNotFoundError, match="link_certificates"):
        load_verify_key(str(tmp_path / "missing.pem"))


def test_z_bounds_round_trip_and_belong_to_one_remote_model(tmp_path):
    from dedelayed_models.transport.z_bounds import ZBounds, bounds_for_checkpoint, save_z_bounds, sidecar_path

    checkpoint = str(tmp_path / "dedelayed.pt")
    assert bounds_for_checkpoint(checkpoint, "remote-a") is None  # none measured
    save_z_bounds(sidecar_path(checkpoint), ZBounds("remote-a", np.array([-1.0, 0.0], np.float32),
                                                    np.array([1.0, 3.0], np.float32), "test"))
    bounds = bounds_for_checkpoint(checkpoint, "remote-a")
    assert bounds.low.tolist() == [-1.0, 0.0] and bounds.high.tolist() == [1.0, 3.0]
    assert bounds.violation(np.zeros((2, 2, 2), np.float32)) is None
    z = np.zeros((2, 2, 2), np.float32)
    z[1] = 7.0  # limit of channel 1: 3 + one span (3) = 6
    assert "channel 1" in bounds.violation(z)
    with pytest.raises(ValueError, match="regenerate"):
        bounds_for_checkpoint(checkpoint, "remote-b")
