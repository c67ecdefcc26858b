"""Delayed clips: remote frames end at t-D, one delay per batch, every stage's sample keys."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from dedelayed_models.data import DelayBatchSampler, DelayedClipDataset, delay_frames_to_ms
from dedelayed_models.data.world import WorldSequence

LOCAL, REMOTE = (32, 64), (64, 128)


def _dataset(**kw):
    seq = WorldSequence(1_000_010, num_frames=24, camera_hw=REMOTE)
    return seq, DelayedClipDataset([seq], local_hw=LOCAL, remote_hw=REMOTE, num_remote_frames=2, **kw)


def test_sample_shapes_and_remote_frames_end_at_t_minus_d():
    seq, ds = _dataset(uplink_quality=None, with_remote_label=True)
    assert len(ds) == 24 - 6 and ds.num_skipped_frames == 6    # 5 frames of delay + 1 of history
    s = ds[(3, 4)]
    t = s["frame_index"]
    assert s["image"].shape == (3, *LOCAL) and s["image"].dtype == torch.float32
    assert s["remote_frames"].shape == (2, 3, *REMOTE)
    assert 0.0 <= s["remote_frames"].min() and s["remote_frames"].max() <= 1.0
    assert s["label"].shape == LOCAL and s["label"].dtype == torch.int64
    assert s["label_remote"].shape == REMOTE
    assert s["delay_frames"] == 4 and s["delay_ms"] == pytest.approx(delay_frames_to_ms(4))
    torch.testing.assert_close(s["frame_ages_ms"], torch.tensor([delay_frames_to_ms(5), delay_frames_to_ms(4)]))
    newest = (s["remote_frames"][-1].permute(1, 2, 0) * 255).round().byte().numpy()
    oldest = (s["remote_frames"][0].permute(1, 2, 0) * 255).round().byte().numpy()
    assert np.array_equal(newest, seq.frame(t - 4)) and np.array_equal(oldest, seq.frame(t - 5))
    assert np.array_equal(s["label"].numpy(), seq.label(t, LOCAL))


def test_uplink_compression_changes_remote_frames_slightly():
    seq, ds = _dataset()
    s = ds[(0, 0)]
    newest = s["remote_frames"][-1].permute(1, 2, 0).numpy() * 255
    diff = np.abs(newest - seq.frame(s["frame_index"]))
    assert 0 < diff.mean() < 8


def test_one_delay_per_batch_covering_the_range():
    _, ds = _dataset(uplink_quality=None)
    sampler = DelayBatchSampler(len(ds), batch_size=3, delay_frames_range=(0, 5), seed=3)
    delays = set()
    for epoch in range(6):
        sampler.set_epoch(epoch)
        for batch in sampler:
            assert len({d for _, d in batch}) == 1
            delays.add(batch[0][1])
    assert delays == set(range(6))
    batch = next(iter(DataLoader(ds, batch_sampler=sampler)))
    assert batch["remote_frames"].shape == (3, 2, 3, *REMOTE)
    assert len(set(batch["delay_frames"].tolist())) == 1


def test_per_sample_delay_is_deterministic_and_checked():
    _, ds = _dataset(uplink_quality=None)
    assert [ds.draw_delay(i) for i in range(10)] == [ds.draw_delay(i) for i in range(10)]
    assert len({ds.draw_delay(i) for i in range(40)}) > 1
    with pytest.raises(ValueError, match="outside"):
        ds[(0, 6)]


def test_video_too_short_for_k_plus_d_is_named():
    seq = WorldSequence(1_000_011, num_frames=4, camera_hw=REMOTE)
    with pytest.raises(ValueError, match="world-1000011.*longer video"):
        DelayedClipDataset([seq], local_hw=LOCAL, remote_hw=REMOTE, num_remote_frames=2)
