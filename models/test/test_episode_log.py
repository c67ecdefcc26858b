"""Once-per-episode logging: a warning when an episode starts, a summary with its count when it
ends, totals kept for diagnostics."""

import pytest

from dedelayed_models.episode_log import EpisodeLog


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_one_warning_per_episode_and_a_summary_with_the_count():
    warnings, infos, clock = [], [], Clock()
    log = EpisodeLog(warnings.append, infos.append, quiet_s=2.0, clock=clock)
    for _ in range(79):   # an identity flipping 79 times in 4 s: one line, not 79
        log.event("identity_changed", "now expects B", subject="robot /r1")
        clock.now += 0.05
    assert len(warnings) == 1 and "robot /r1: identity_changed: now expects B" in warnings[0]
    log.event("not_webp", "PNG", subject="robot /r1")        # another kind: its own episode
    log.event("not_webp", "PNG", subject="robot /r2")        # another robot: its own episode
    assert len(warnings) == 3 and infos == []
    assert log.flush() == []                                 # not quiet yet
    clock.now += 2.0
    assert sorted(log.flush()) == [("robot /r1", "identity_changed"), ("robot /r1", "not_webp"),
                                   ("robot /r2", "not_webp")]
    summary = [line for line in infos if "identity_changed" in line][0]
    assert "79 in 3.9 s, 79 in total" in summary
    log.event("identity_changed", "now expects A", subject="robot /r1")   # a new episode
    assert len(warnings) == 4 and "80 so far" in warnings[-1]
    assert log.end("identity_changed", "robot /r1", "the robot settled")
    assert "the robot settled" in infos[-1] and "1 in 0.0 s, 80 in total" in infos[-1]
    assert not log.end("identity_changed", "robot /r1")
    assert log.totals_for("robot /r1") == {"identity_changed": 80, "not_webp": 1}
    assert log.episodes("robot /r1") == 3 and log.episodes() == 4


def test_quiet_time_must_be_positive():
    with pytest.raises(ValueError, match="quiet_s"):
        EpisodeLog(print, print, quiet_s=0)
