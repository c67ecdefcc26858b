"""The world is a pure function of (seed, frame index); train and val seeds never overlap."""

import numpy as np
import pytest

from dedelayed_models.data.world import TRAIN_SEEDS, VAL_SEEDS, WorldSequence, world_seeds
from dedelayed_models.data.world.sequence import split_of_seed


def test_same_seed_and_frame_give_identical_frames_in_any_order():
    a = WorldSequence(7, num_frames=40)
    b = WorldSequence(7, num_frames=40)
    img_a, lab_a = a.render(33, 64, 128)
    b.render(5, 64, 128)                                   # different history must not matter
    img_b, lab_b = b.render(33, 64, 128)
    assert np.array_equal(img_a, img_b) and np.array_equal(lab_a, lab_b)


def test_different_seeds_and_frames_differ():
    a, b = WorldSequence(7, num_frames=40), WorldSequence(8, num_frames=40)
    assert not np.array_equal(a.render(10, 64, 128)[1], b.render(10, 64, 128)[1])
    assert not np.array_equal(a.render(10, 64, 128)[1], a.render(30, 64, 128)[1])


def test_label_only_path_matches_full_render():
    seq = WorldSequence(11, num_frames=20)
    _, full = seq.render(12, 64, 128)
    fresh = WorldSequence(11, num_frames=20)
    assert np.array_equal(fresh.label(12, (64, 128)), full)


def test_seed_ranges_are_disjoint_and_checked():
    assert set(TRAIN_SEEDS).isdisjoint(range(VAL_SEEDS.start, VAL_SEEDS.start + 1000))
    assert TRAIN_SEEDS.stop <= VAL_SEEDS.start
    assert world_seeds("val", 2) == [VAL_SEEDS[0], VAL_SEEDS[1]]
    assert split_of_seed(world_seeds("train", 1, start=5)[0]) == "train"
    with pytest.raises(ValueError, match="split"):
        world_seeds("test", 1)
    with pytest.raises(ValueError, match="neither"):
        WorldSequence(-1)


def test_frame_outside_clip_is_an_index_error():
    seq = WorldSequence(3, num_frames=10)
    with pytest.raises(IndexError, match="frame 10"):
        seq.render(10, 32, 64)
