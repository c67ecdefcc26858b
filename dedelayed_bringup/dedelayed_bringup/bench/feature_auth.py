"""What authenticating a FeatureMap costs the robot: Ed25519 verification per map, and the
whole FeatureStore.offer (verify + echo check + decode) with and without it.

    python -m dedelayed_bringup.bench.feature_auth --json bench_out/feature_auth.json

Prints a table and writes JSON: per z shape and encoding, median and p99 [ms] and the median
as a share of a frame at 10 and 30 fps (the budget: under 2 % of a frame). Beside it, in the
same run, the payload hash alone with BLAKE3 (what the signature covers) and with SHA-256.
"""

import argparse
import hashlib
import json
import os
import statistics
import time

import blake3
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from dedelayed_local.echo_ledger import UplinkLedger
from dedelayed_local.feature_store import FeatureStore
from dedelayed_models.transport import encode_features
from dedelayed_models.transport.feature_signing import FeatureSigner, FeatureVerifier

SHAPES = {"shipped 64x12x24": (64, 12, 24), "small 64x16x32": (64, 16, 32),
          "paper 96x60x108": (96, 60, 108)}
BUDGET_FRACTION = 0.02
IDENTITY = "dedelayed-remote-bench-v2-0123456789ab"
MS = 1_000_000


def _percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def _hash_ms(hash_fn, data, repeats):
    """Median time [ms] of hashing ``data`` once."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        hash_fn(data).digest()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def measure(shape, encoding, repeats):
    key = Ed25519PrivateKey.generate()
    signer, verifier = FeatureSigner(key), FeatureVerifier(key.public_key())
    z = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    encoded = encode_features(z, encoding)
    ledger = UplinkLedger(5.0)
    stores = {"with": FeatureStore(expected_identity=IDENTITY, expected_shape=shape,
                                   verifier=verifier, ledger=ledger),
              "without": FeatureStore(expected_identity=IDENTITY, expected_shape=shape)}
    verify_ms, offer_ms = [], {"with": [], "without": []}
    for i in range(repeats):
        stamp_ns = (1000 + i) * 100 * MS
        ledger.record(stamp_ns)
        fields = dict(robot="/robot1", stamp_ns=stamp_ns, delay_ms=100.0, model_identity=IDENTITY,
                      encoded=encoded)
        signature = signer.sign(**fields)
        start = time.perf_counter()
        verifier.verify(memoryview(signature), **fields)
        verify_ms.append((time.perf_counter() - start) * 1e3)
        for name in ("with", "without") if i % 2 else ("without", "with"):  # interleaved
            start = time.perf_counter()
            rejection = stores[name].offer(encoded, model_identity=IDENTITY, stamp_ns=stamp_ns,
                                           delay_ms=100.0, received_ns=stamp_ns + 50 * MS,
                                           signature=signature, robot="/robot1")
            offer_ms[name].append((time.perf_counter() - start) * 1e3)
            assert rejection is None, rejection
    median = statistics.median(verify_ms)
    return {"payload_bytes": len(encoded.data),
            "verify_median_ms": median, "verify_p99_ms": _percentile(verify_ms, 99),
            "hash_blake3_median_ms": _hash_ms(blake3.blake3, encoded.data, repeats),
            "hash_sha256_median_ms": _hash_ms(hashlib.sha256, encoded.data, repeats),
            "offer_with_verify_median_ms": statistics.median(offer_ms["with"]),
            "offer_without_verify_median_ms": statistics.median(offer_ms["without"]),
            "verify_share_of_frame_10fps": median / 100.0,
            "verify_share_of_frame_30fps": median / (1000.0 / 30),
            "budget_met_10fps": median / 100.0 < BUDGET_FRACTION,
            "budget_met_30fps": median / (1000.0 / 30) < BUDGET_FRACTION}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--json", default="", help="write the figures here")
    args = parser.parse_args(argv)
    rows = {}
    print("| z | encoding | payload B | verify median ms | p99 ms | offer with / without ms "
          "| share of frame 10 fps | 30 fps | hash BLAKE3 / SHA-256 ms |\n"
          "|---|---|---|---|---|---|---|---|---|")
    for label, shape in SHAPES.items():
        for encoding in ("float16", "int8"):
            r = measure(shape, encoding, args.repeats)
            rows[f"{label} {encoding}"] = r
            print(f"| {label} | {encoding} | {r['payload_bytes']} | {r['verify_median_ms']:.3f} | "
                  f"{r['verify_p99_ms']:.3f} | {r['offer_with_verify_median_ms']:.3f} / "
                  f"{r['offer_without_verify_median_ms']:.3f} | "
                  f"{100 * r['verify_share_of_frame_10fps']:.2f} % | "
                  f"{100 * r['verify_share_of_frame_30fps']:.2f} % | "
                  f"{r['hash_blake3_median_ms']:.3f} / {r['hash_sha256_median_ms']:.3f} |")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump({"budget_fraction_of_frame": BUDGET_FRACTION, "rows": rows,
                       "load_average": os.getloadavg()}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
