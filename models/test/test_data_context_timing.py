"""Live context timing: each context frame's age at the target, drawn as a live link makes them
(delays 0-600 ms, 5-30 fps context, skipped frames), and the paper's timing as its special case."""

import numpy as np
import pytest
import torch

from dedelayed_models.data import DelayedClipDataset
from dedelayed_models.data.context_timing import ContextTiming, LiveTimingSampler
from dedelayed_models.data.world import WorldSequence

LOCAL, REMOTE = (32, 64), (64, 128)


def test_timing_gives_frame_indices_and_exact_ages():
    timing = ContextTiming(delay_frames=3, gaps_frames=(2, 1))        # K = 3, one skipped frame
    assert timing.frame_indices(20) == [14, 16, 17] and timing.history_frames == 6
    assert timing.ages_ms(10.0) == pytest.approx([600.0, 400.0, 300.0])
    paper = ContextTiming.regular(4, 2)
    assert paper.frame_indices(10) == [5, 6] and paper.ages_ms(30.0) == pytest.approx([166.667, 133.333], abs=1e-3)


def test_live_sampler_covers_delays_rates_and_skips_and_bounds_history():
    sampler = LiveTimingSampler()
    rng = np.random.default_rng(0)
    draws = [sampler.draw(rng, 2, 30.0) for _ in range(4000)]
    delays_ms = [t.ages_ms(30.0)[-1] for t in draws]
    gaps = [t.gaps_frames[0] for t in draws]
    assert min(delays_ms) == 0.0 and max(delays_ms) == pytest.approx(600.0)
    assert 0.45 < np.mean(np.array(delays_ms) < 300.0) < 0.55           # uniform over 0-600 ms
    assert set(range(1, 7)) <= set(gaps)                                # 30 fps .. 5 fps spacing
    assert max(gaps) == 12                                              # 5 fps with a skipped frame
    assert max(t.history_frames for t in draws) <= sampler.max_history_frames(2, 30.0) == 30
    with pytest.raises(ValueError, match="delay_ms_range"):
        LiveTimingSampler(delay_ms_range=(100.0, 50.0))


def test_dataset_with_live_timing_serves_the_drawn_context_and_its_ages():
    seq = WorldSequence(1_000_020, num_frames=36, camera_hw=REMOTE)
    ds = DelayedClipDataset([seq], local_hw=LOCAL, remote_hw=REMOTE, num_remote_frames=2,
                            uplink_quality=None, timing=LiveTimingSampler(), seed=1)
    assert len(ds) == 35                                                # any frame with 1 of history
    timing = ContextTiming(delay_frames=9, gaps_frames=(4,))
    s = ds[(2, timing)]                                                 # t=3 lacks 13 of history: moved
    t = s["frame_index"]
    assert t >= 13
    torch.testing.assert_close(s["frame_ages_ms"], torch.tensor([433.333, 300.0]), rtol=0, atol=1e-3)
    newest = (s["remote_frames"][-1].permute(1, 2, 0) * 255).round().byte().numpy()
    oldest = (s["remote_frames"][0].permute(1, 2, 0) * 255).round().byte().numpy()
    assert np.array_equal(newest, seq.frame(t - 9)) and np.array_equal(oldest, seq.frame(t - 13))
    assert ds.draw_timing(5, epoch=2) == ds.draw_timing(5, epoch=2)     # deterministic ...
    assert len({ds.draw_timing(5, epoch=e) for e in range(20)}) > 10    # ... and new every epoch
    with pytest.raises(ValueError, match="longer sequences"):
        DelayedClipDataset([WorldSequence(1_000_021, num_frames=24, camera_hw=REMOTE)], local_hw=LOCAL,
                           remote_hw=REMOTE, num_remote_frames=2, timing=LiveTimingSampler())


def test_output_lag_moves_the_local_image_one_camera_frame_before_the_target():
    sampler = LiveTimingSampler(output_lag_prob=1.0)
    rng = np.random.default_rng(3)
    draws = [sampler.draw(rng, 2, 30.0) for _ in range(500)]
    base_gaps = {t.image_lag_frames for t in draws}
    assert base_gaps == set(range(1, 7))                                # one frame at 30 .. 5 fps
    assert all(t.image_lag_frames in (g, g // 2) for t in draws for g in t.gaps_frames)
    assert all(t.delay_frames >= t.image_lag_frames for t in draws)     # image never older than context
    assert max(t.history_frames for t in draws) <= sampler.max_history_frames(2, 30.0)
    no_lag = LiveTimingSampler()
    assert all(no_lag.draw(rng, 2, 30.0).image_lag_frames == 0 for _ in range(100))
    with pytest.raises(ValueError, match="image_lag_frames"):
        ContextTiming(delay_frames=1, gaps_frames=(1,), image_lag_frames=2)

    seq = WorldSequence(1_000_020, num_frames=36, camera_hw=REMOTE)
    ds = DelayedClipDataset([seq], local_hw=LOCAL, remote_hw=REMOTE, num_remote_frames=2,
                            uplink_quality=None, timing=sampler, seed=1)
    s = ds[(20, ContextTiming(delay_frames=4, gaps_frames=(3,), image_lag_frames=3))]
    t = s["frame_index"]
    image = (s["image"].permute(1, 2, 0) * 255).round().byte().numpy()
    assert np.array_equal(image, seq.frame(t - 3, LOCAL))               # the image lags the target ...
    assert np.array_equal(s["label"].numpy(), seq.label(t, LOCAL))      # ... the label is the target's
