"""A short live delay sweep on the running system: two round trips, 30 s drives each.

The full sweep (``python -m dedelayed_bringup.demo --sweep-rtt-ms 0 50 100 200 400``, README)
is the paper's Fig. 6 measured live; this keeps its ordering claim in CI: at each round trip
every camera frame is segmented and, with the trained checkpoint, Dedelayed's streaming mIoU is
at least that of local-only and of remote-only. The drives are as long as the README's sweep's:
Dedelayed's lead over the streaming checkpoint's own local-only output is small (+0.9 to +2.3
there), and on shorter pieces of the drive it is not steady (at 50 ms: +1.7 over the first
15 s, -2.4 over the first 20 s, +1.8 over 30 s).
"""

import json

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ros]

ROUND_TRIPS_MS = (50.0, 200.0)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    from dedelayed_bringup.demo import run as demo_run

    out = tmp_path_factory.mktemp("sweep_out")
    code = demo_run.main(["--sweep-rtt-ms", *(f"{r:g}" for r in ROUND_TRIPS_MS),
                          "--sweep-duration-s", "30", "--out", str(out), "--quiet"])
    for name in ("live_sweep.json", "live_sweep.md", "live_sweep.png"):
        assert (out / name).is_file(), name
    result = json.loads((out / "live_sweep.json").read_text())
    result["exit_code"] = code
    return result


def test_every_round_trip_answers_every_frame(sweep):
    assert [r["round_trip_ms"] for r in sweep["rows"]] == list(ROUND_TRIPS_MS)
    for row in sweep["rows"]:
        assert row["num_frames"] > 0 and row["num_missing"] == 0, row
        assert row["num_fused"] > 0, row
    assert sweep["exit_code"] == 0


def test_dedelayed_is_at_least_local_only_and_remote_only_at_each_round_trip(sweep):
    if "RANDOM" in sweep["models"]:
        pytest.skip("needs the trained checkpoint models/dedelayed_models/checkpoints/dedelayed.pt; "
                    "random weights say nothing about accuracy")
    for check in sweep["checks"]:
        assert check["met"], (check, sweep["rows"])
