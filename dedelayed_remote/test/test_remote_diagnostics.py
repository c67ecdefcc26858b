"""Diagnostics figures: rates per period, warning levels, random-weight flag."""

from dedelayed_remote.remote_diagnostics import OK, WARN, RemoteDiagnostics
from dedelayed_remote.robot_context import RobotContext


def counters(received, undecodable=0):
    ctx = RobotContext("/r", num_frames=2, default_delay_ms=100.0, max_frame_age_ms=0)
    ctx.frames_received, ctx.frames_refused["undecodable"] = received, undecodable
    return ctx.counters()


def values(status):
    return dict(status.values)


def test_rates_levels_and_server_status():
    diag = RemoteDiagnostics(node_name="remote_node", identity="id-A", source="random:tiny:0",
                             device="cpu")
    first = diag.statuses({"/a": counters(0), "/b": counters(0)}, now_s=10.0, identity_mismatch={})
    assert [s.level for s in first[:2]] == [OK, OK] and first[0].message == "waiting for uplink frames"
    assert first[-1].level == WARN and "RANDOM" in first[-1].message
    for _ in range(4):
        diag.record_answer("/a", compute_ms=12.5)
    diag.record_batch(batch_size=2, forward_ms=10.0)
    diag.record_answer("/b", compute_ms=0.0, error="features hold NaN/inf")
    second = diag.statuses({"/a": counters(6), "/b": counters(3, undecodable=1)}, now_s=12.0,
                           identity_mismatch={"/a": "id-B"})
    a, b, server = second
    assert values(a)["frames_in_hz"] == "3.00" and values(a)["features_out_hz"] == "2.00"
    assert a.level == WARN and "id-B" in a.message and "id-A" in a.message
    assert b.level == WARN and values(b)["last_encode_error"] == "features hold NaN/inf"
    assert values(server)["last_batch_size"] == "2" and values(server)["batches_hz"] == "0.50"
