"""Per-robot context rules: newest only, superseded count, padding, age and gap rules."""

import threading
import time

import numpy as np
import pytest

from dedelayed_models.data.uplink import encode_uplink
from dedelayed_remote.robot_context import (
    DELAY_ADOPTED,
    DELAY_CLAMPED,
    DELAY_NO_SAMPLES,
    DELAY_REFUSED,
    RobotContext,
    RobotContextSet,
    UplinkFrame,
)
from dedelayed_remote.uplink_decoder import prepare_uplink_frame

MS = 1_000_000  # ns per ms


def frame(index, *, arrival_ms=None, stamp_ms=None, hw=(4, 6)):
    """A frame whose pixels all equal `index`; robot stamp 33 ms apart by default."""
    stamp_ns = (stamp_ms if stamp_ms is not None else 1_000 + 33 * index) * MS
    return UplinkFrame(pixels=np.full((*hw, 3), index, np.uint8),
                       stamp=stamp_ns,
                       frame_id=f"cam{index}", receive_time_ns=index,
                       arrival_monotonic_ns=(arrival_ms if arrival_ms is not None else 33 * index) * MS)


def context(k=4, max_age_ms=500.0, delay_ms=100.0):
    return RobotContext("/r", num_frames=k, default_delay_ms=delay_ms, max_frame_age_ms=max_age_ms)


def ids(snapshot):
    return [int(f[0, 0, 0]) for f in snapshot.frames]


def test_first_frame_is_answered_with_padding_by_the_oldest_frame():
    ctx = context(k=4)
    ctx.push(frame(1))
    snap = ctx.take(now_monotonic_ns=40 * MS)
    assert ids(snap) == [1, 1, 1, 1] and snap.real_frames == 1
    ctx.push(frame(2))
    snap = ctx.take(now_monotonic_ns=70 * MS)
    assert ids(snap) == [1, 1, 1, 2] and snap.real_frames == 2
    assert snap.newest.frame_id == "cam2" and snap.delay_ms == 100.0


def test_newest_frame_replaces_pending_and_superseded_frames_stay_in_context():
    ctx = context(k=4)
    for i in range(1, 7):          # six frames arrive while the model is busy
        ctx.push(frame(i))
    assert ctx.frames_superseded == 5
    snap = ctx.take(now_monotonic_ns=200 * MS)
    assert snap.newest.frame_id == "cam6"
    assert ids(snap) == [3, 4, 5, 6]   # consecutive received frames, as in training
    assert ctx.take(now_monotonic_ns=200 * MS) is None   # nothing queued behind it


def test_pending_frame_older_than_max_age_is_dropped_not_computed():
    ctx = context(max_age_ms=500.0)
    ctx.push(frame(1, arrival_ms=0))
    assert ctx.take(now_monotonic_ns=501 * MS) is None
    assert ctx.frames_stale == 1
    ctx.push(frame(2, arrival_ms=600))
    assert ctx.take(now_monotonic_ns=1_100 * MS) is not None   # 500 ms old: still allowed
    disabled = context(max_age_ms=0)
    disabled.push(frame(1, arrival_ms=0))
    assert disabled.take(now_monotonic_ns=10**6 * MS) is not None


def test_stamp_jump_beyond_max_age_restarts_the_history_and_reordered_frames_are_dropped():
    ctx = context(k=3, max_age_ms=500.0)
    ctx.push(frame(1, stamp_ms=1_000))
    ctx.push(frame(2, stamp_ms=1_033))
    ctx.push(frame(3, stamp_ms=2_000))      # 967 ms pause on the robot clock
    assert ids(ctx.take(now_monotonic_ns=100 * MS)) == [3, 3, 3]
    ctx.push(frame(4, stamp_ms=500))        # robot restarted: stamps went 1.5 s back
    assert ids(ctx.take(now_monotonic_ns=140 * MS)) == [4, 4, 4]
    assert ctx.history_restarts == 2
    assert not ctx.push(frame(5, stamp_ms=500))   # exact repeat of the newest stamp
    assert not ctx.push(frame(6, stamp_ms=467))   # one frame late: reordered, not a restart
    assert ctx.frames_out_of_order == 2 and not ctx.has_pending and ctx.history_restarts == 2
    no_age_rule = context(k=3, max_age_ms=0)
    no_age_rule.push(frame(1, stamp_ms=1_000))
    no_age_rule.push(frame(2, stamp_ms=9_000))    # any forward gap is kept without the rule
    no_age_rule.push(frame(3, stamp_ms=8_000))    # backwards: cannot tell, restart
    assert ids(no_age_rule.take(now_monotonic_ns=0)) == [3, 3, 3]


def test_delay_reports_without_samples_or_invalid_keep_the_previous_delay():
    ctx = context(delay_ms=100.0)
    ctx.max_delay_ms = 600.0
    assert ctx.report_delay(40.0, window_size=0) == DELAY_NO_SAMPLES
    assert ctx.delay_ms == 100.0
    assert ctx.report_delay(66.5, window_size=10) == DELAY_ADOPTED and ctx.delay_ms == 66.5
    for bad in (float("nan"), float("inf"), -1.0):
        assert ctx.report_delay(bad, window_size=10) == DELAY_REFUSED
    assert ctx.delay_ms == 66.5 and ctx.delays_refused == 3
    # Beyond the range the model covers: clamped to it, never adopted as given.
    assert ctx.report_delay(1e9, window_size=10) == DELAY_CLAMPED and ctx.delay_ms == 600.0
    assert ctx.counters()["delays_clamped"] == 1
    assert ctx.report_delay(66.5, window_size=10) == DELAY_ADOPTED
    ctx.push(frame(1))
    assert ctx.take(now_monotonic_ns=40 * MS).delay_ms == 66.5


def test_the_cloud_predicts_for_the_instant_the_robots_output_is_used():
    ctx = context(delay_ms=100.0)
    ctx.max_delay_ms = 600.0
    # tau 200 ms observed, output used one 100 ms frame later: predict 300 ms past the newest frame.
    assert ctx.report_delay(200.0, window_size=10, output_lag_ms=100.0) == DELAY_ADOPTED
    assert ctx.delay_ms == 300.0
    ctx.push(frame(1))
    assert set(ctx.take(now_monotonic_ns=40 * MS).frame_ages_ms()) == {300.0}   # one frame, padded
    for bad_lag in (float("nan"), -5.0):
        assert ctx.report_delay(200.0, window_size=10, output_lag_ms=bad_lag) == DELAY_REFUSED
    assert ctx.delay_ms == 300.0
    assert ctx.report_delay(550.0, window_size=10, output_lag_ms=100.0) == DELAY_CLAMPED
    assert ctx.delay_ms == 600.0


def test_a_robot_gets_at_most_its_fair_share_of_answers_always_on_its_newest_frame():
    """A robot uplinking at 200 Hz with a 10 Hz cap: one answer per 100 ms, each on the newest
    frame then; the frames held back are counted; a robot within its rate is never held."""
    ctx = RobotContext("/greedy", num_frames=2, default_delay_ms=100.0, max_frame_age_ms=0,
                       max_answer_rate_hz=10.0)
    answered = []
    for i in range(200):                          # 1 s of frames every 5 ms; the worker polls
        now_ns = 5 * i * MS
        ctx.push(frame(i, arrival_ms=5 * i, stamp_ms=1_000 + 5 * i))
        snap = ctx.take(now_monotonic_ns=now_ns)
        if snap is not None:
            answered.append((now_ns, snap.newest.frame_id))
            assert snap.newest.frame_id == f"cam{i}"          # the newest, never a held one
    assert len(answered) == 10, answered
    assert all(b[0] - a[0] >= 100 * MS for a, b in zip(answered, answered[1:]))
    # 18 frames per 100 ms are replaced while the cap holds the robot back (the one arriving
    # as the cap ends replaces a frame too, but the cap no longer held it)
    assert ctx.frames_rate_capped == 180 and ctx.frames_superseded == 189
    assert ctx.counters()["frames_rate_capped"] == 180
    fair = RobotContext("/fair", num_frames=2, default_delay_ms=100.0, max_frame_age_ms=0,
                        max_answer_rate_hz=10.0)
    for i in range(10):                           # 10 Hz exactly: every frame answered
        fair.push(frame(i, arrival_ms=100 * i, stamp_ms=1_000 + 100 * i))
        assert fair.take(now_monotonic_ns=100 * i * MS) is not None
    assert fair.frames_rate_capped == 0
    with pytest.raises(ValueError, match="max_answer_rate_hz"):
        RobotContext("/r", num_frames=2, default_delay_ms=0, max_frame_age_ms=0,
                     max_answer_rate_hz=-1.0)


def test_the_worker_sleeps_while_the_only_pending_frame_waits_for_its_rate_cap():
    robots = RobotContextSet(["/a"], num_frames=2, default_delay_ms=100.0, max_frame_age_ms=0,
                             max_answer_rate_hz=5.0)
    robots.push_frame("/a", frame(1))
    assert robots.wait_for_ready(timeout_s=1) is True
    assert len(robots.take_ready(time.monotonic_ns())) == 1
    robots.push_frame("/a", frame(2))
    started = time.monotonic()
    assert robots.wait_for_ready(timeout_s=5) is True      # due again 200 ms after the last
    assert 0.15 <= time.monotonic() - started <= 1.0
    assert len(robots.take_ready(time.monotonic_ns())) == 1


def test_context_set_batches_every_ready_robot_and_wakes_the_worker():
    robots = RobotContextSet(["/a", "/b", "/c"], num_frames=2, default_delay_ms=100.0,
                             max_frame_age_ms=0)
    robots.report_delay("/b", 250.0, 5, "some-identity")
    woke = []
    worker = threading.Thread(target=lambda: woke.append(robots.wait_for_ready(timeout_s=10)))
    worker.start()
    time.sleep(0.05)
    robots.push_frame("/b", frame(1))
    robots.push_frame("/a", frame(2))
    worker.join(timeout=10)
    assert woke == [True]
    batch = robots.take_ready(now_monotonic_ns=0)
    assert [(s.robot, s.delay_ms) for s in batch] == [("/a", 100.0), ("/b", 250.0)]
    assert robots.take_ready(now_monotonic_ns=0) == []
    robots.stop()
    assert robots.wait_for_ready(timeout_s=10) is False   # stop wakes the worker at once
    with pytest.raises(ValueError, match="repeated"):
        RobotContextSet(["/a", "/a"], num_frames=2, default_delay_ms=0, max_frame_age_ms=0)


def test_prepare_uplink_frame_decodes_resizes_and_rejects_garbage():
    rgb = np.zeros((32, 64, 3), np.uint8)
    rgb[:, :32] = (200, 30, 10)
    pixels, decode_ms, decoded_hw = prepare_uplink_frame(encode_uplink(rgb), (32, 64))
    assert pixels.shape == (32, 64, 3) and decoded_hw == (32, 64) and decode_ms >= 0
    assert abs(int(pixels[5, 5, 0]) - 200) < 12      # RGB order kept through WebP
    resized, _, decoded_hw = prepare_uplink_frame(encode_uplink(rgb), (16, 32))
    assert resized.shape == (16, 32, 3) and decoded_hw == (32, 64)
    for garbage in (b"", b"not an image at all", b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(40)):
        with pytest.raises(ValueError):
            prepare_uplink_frame(garbage, (32, 64))
