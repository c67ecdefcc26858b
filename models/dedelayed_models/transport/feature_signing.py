"""Ed25519 signatures over FeatureMaps: the cloud signs, the robot verifies before decoding.

What is signed (the fields that decide what the robot fuses and when): the robot the map was
computed for (its fully qualified namespace, e.g. ``/robot1``), the echoed stamp (sec,
nanosec), ``delay_ms`` (as its float32 wire value), ``model_identity``, the shape (channels,
height, width), ``encoding``, the int8 ``scale``/``offset`` and the payload. The informational
fields (frame_id, context stamps, remote times) are not signed. Binding the robot means a map
the cloud signed for one robot cannot be fed to another one that shares the cloud key.

The signature covers ``DOMAIN + BLAKE3(fields)``: the payload is hashed once, with BLAKE3
(the ``blake3`` package, the reference Rust implementation), then Ed25519 signs the 32-byte
digest. Hashing dominates the cost for large maps; on the development machine a 1.2 MB
payload takes 0.2 ms with BLAKE3, 0.7 ms with SHA-256 (with SHA extensions) and 1.4 ms with
the SHA-512 Ed25519 would run over the whole message. ``bench/feature_auth.py`` in
dedelayed_bringup measures it. Keys are PEM files (PKCS#8 private key; public key or X.509
certificate) read with ``cryptography``; nothing here is hand-written crypto.
"""

from __future__ import annotations

import os
import struct
from typing import Optional

import blake3
import numpy as np
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from dedelayed_models.transport.feature_codec import EncodedFeatures

DOMAIN = b"dedelayed/FeatureMap/v3-robot-blake3\n"  # never valid as a signature over anything else
SIGNATURE_BYTES = 64
NS_PER_S = 1_000_000_000


class SignatureRefused(ValueError):
    """A FeatureMap whose signature is missing or does not verify; ``reason`` says which."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


UNSIGNED = "unsigned"
BAD_SIGNATURE = "bad_signature"


def _block(data) -> bytes:
    return struct.pack("<Q", len(data)) + bytes(data)


def feature_map_digest(*, robot: str, stamp_ns: int, delay_ms: float, model_identity: str,
                       encoded: EncodedFeatures) -> bytes:
    """BLAKE3 over the signed fields, each length-prefixed (32 bytes).

    robot: the fully qualified namespace of the robot the map is for; stamp_ns: echoed robot
    stamp [ns]; delay_ms is taken at float32 precision (its wire type).
    """
    sec, nanosec = divmod(int(stamp_ns), NS_PER_S)
    head = bytearray(_block(str(robot).encode()))
    head += struct.pack("<qIf", sec, nanosec, float(delay_ms))
    head += _block(str(model_identity).encode())
    head += struct.pack("<III", *(int(n) for n in encoded.shape))
    head += _block(str(encoded.encoding).encode())
    for param in (encoded.scale, encoded.offset):
        head += _block(b"" if param is None or len(param) == 0
                       else np.asarray(param, dtype="<f4").tobytes())
    head += struct.pack("<Q", len(encoded.data))
    digest = blake3.blake3(head, max_threads=1)  # one thread: the robot's cores segment
    digest.update(encoded.data)  # bytes or a memoryview of the received message: no copy
    return digest.digest()


def _read_pem(path: str, what: str) -> bytes:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} '{path}' does not exist; make one with "
                                "`python -m dedelayed_bringup.secure_link.link_certificates` or fix the path")
    with open(path, "rb") as handle:
        return handle.read()


def load_signing_key(path: str) -> Ed25519PrivateKey:
    """The cloud's Ed25519 private key from a PEM file (e.g. the cloud certificate's key)."""
    key = serialization.load_pem_private_key(_read_pem(path, "FeatureMap signing key"), None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"FeatureMap signing key '{path}' is a {type(key).__name__}, not an "
                         "Ed25519 key; use the cloud key written by link_certificates")
    return key


def load_verify_key(path: str) -> Ed25519PublicKey:
    """The cloud's Ed25519 public key from a PEM public key or the cloud's X.509 certificate."""
    pem = _read_pem(path, "FeatureMap verification key")
    if b"CERTIFICATE" in pem:
        key = x509.load_pem_x509_certificate(pem).public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"FeatureMap verification key '{path}' holds a {type(key).__name__}, "
                         "not an Ed25519 public key; give the cloud certificate or its public key")
    return key


class FeatureSigner:
    """Signs outgoing FeatureMaps with the cloud's private key."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key

    def sign(self, *, robot: str, stamp_ns: int, delay_ms: float, model_identity: str,
             encoded: EncodedFeatures) -> bytes:
        """The 64-byte signature for these fields."""
        digest = feature_map_digest(robot=robot, stamp_ns=stamp_ns, delay_ms=delay_ms,
                                    model_identity=model_identity, encoded=encoded)
        return self._key.sign(DOMAIN + digest)


class FeatureVerifier:
    """Checks a received FeatureMap's signature against the cloud's public key."""

    def __init__(self, public_key: Ed25519PublicKey):
        self._key = public_key

    def verify(self, signature, *, robot: str, stamp_ns: int, delay_ms: float,
               model_identity: str, encoded: EncodedFeatures) -> None:
        """Returns if authentic; raises SignatureRefused (reason UNSIGNED or BAD_SIGNATURE)."""
        signature = bytes(signature)
        if not signature:
            raise SignatureRefused(UNSIGNED, "FeatureMap carries no signature but this robot "
                                   "verifies them; give the cloud its feature_signing_key")
        if len(signature) != SIGNATURE_BYTES:
            raise SignatureRefused(BAD_SIGNATURE, f"FeatureMap signature has {len(signature)} "
                                   f"bytes, an Ed25519 signature has {SIGNATURE_BYTES}")
        digest = feature_map_digest(robot=robot, stamp_ns=stamp_ns, delay_ms=delay_ms,
                                    model_identity=model_identity, encoded=encoded)
        try:
            self._key.verify(signature, DOMAIN + digest)
        except InvalidSignature:
            raise SignatureRefused(BAD_SIGNATURE, "FeatureMap signature does not verify with the "
                                   "cloud's public key: forged, altered, or signed by another "
                                   "cloud key") from None


def optional_signer(path: str) -> Optional[FeatureSigner]:
    """A signer for a configured key path, None for ''."""
    return FeatureSigner(load_signing_key(path)) if path else None


def optional_verifier(path: str) -> Optional[FeatureVerifier]:
    """A verifier for a configured key path, None for ''."""
    return FeatureVerifier(load_verify_key(path)) if path else None
