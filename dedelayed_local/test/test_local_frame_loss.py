"""Camera frames lost before the segmenter are counted from gaps in the camera stamps; a camera
that changes its rate or pauses is not counted as loss."""

import pytest

from dedelayed_local.frame_loss import FrameLossCounter

MS = 1_000_000


def feed(counter, stamps_ms):
    return [counter.observe(int(t * MS)) for t in stamps_ms]


def test_gaps_count_lost_frames_at_an_estimated_rate():
    counter = FrameLossCounter(clock=lambda: 0.0)
    stamps = [i * 100 for i in range(10)]
    received = [t for i, t in enumerate(stamps + [1000 + i * 100 for i in range(20)])
                if i not in (12, 13, 14, 20)]
    feed(counter, received)
    assert counter.frames_lost == 4 and counter.frames_seen == len(received)
    assert counter.lost_rate_hz() == pytest.approx(4 / 5.0)


def test_rate_changes_pauses_and_restarts_are_not_loss():
    counter = FrameLossCounter(clock=lambda: 0.0)
    fast = [i * 10 for i in range(50)]                       # a burst at 100 fps
    slow = [fast[-1] + (i + 1) * 100 for i in range(30)]     # back to 10 fps
    feed(counter, fast + slow)
    assert counter.frames_lost == 0
    feed(counter, [slow[-1] + 60_000, slow[-1] + 60_100, 5, 105])   # pause, then a restart
    assert counter.frames_lost == 0 and counter.pauses == 2


def test_a_declared_rate_counts_every_long_gap():
    counter = FrameLossCounter(camera_fps=10.0, clock=lambda: 0.0)
    assert feed(counter, [0, 100, 400, 500, 800]) == [0, 0, 2, 0, 2]
    with pytest.raises(ValueError, match="camera_fps"):
        FrameLossCounter(camera_fps=-1)
