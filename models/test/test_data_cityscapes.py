"""Cityscapes layout on real PNG files: labelIds -> trainIds, snippets, bad labels."""

import cv2
import numpy as np
import pytest

from dedelayed_models.data import DelayedClipDataset, labelids_to_trainids, open_cityscapes


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _fake_cityscapes(root, with_sequence):
    rng = np.random.default_rng(0)
    ids = np.array([[7, 8, 11, 26], [24, 33, 0, 23]], np.uint8).repeat(8, 0).repeat(8, 1)  # 16x32
    for frame in (19, 40):
        stem = f"aachen_000000_{frame:06d}"
        _write(root / "leftImg8bit/val/aachen" / f"{stem}_leftImg8bit.png", rng.integers(0, 255, (16, 32, 3), np.uint8))
        _write(root / "gtFine/val/aachen" / f"{stem}_gtFine_labelIds.png", ids)
        if with_sequence:
            for f in range(frame - 19, frame + 11):
                _write(root / "leftImg8bit_sequence/val/aachen" / f"aachen_000000_{f:06d}_leftImg8bit.png",
                       np.full((16, 32, 3), f, np.uint8))


def test_official_mapping():
    ids = np.arange(34, dtype=np.uint8)
    train = labelids_to_trainids(ids)
    assert train[7] == 0 and train[8] == 1 and train[11] == 2 and train[17] == 5 and train[23] == 10
    assert train[24] == 11 and train[26] == 13 and train[31] == 16 and train[33] == 18
    assert all(train[i] == 255 for i in (0, 1, 6, 9, 10, 14, 15, 16, 18, 29, 30))
    assert sorted(set(train.tolist()) - {255}) == list(range(19))


def test_single_images_as_static_clips(tmp_path):
    _fake_cityscapes(tmp_path, with_sequence=False)
    sources = open_cityscapes(tmp_path, "val")
    assert len(sources) == 2 and sources[0].num_frames == 1
    label = sources[0].label(0)
    assert label[0, 0] == 0 and label[0, 31] == 13 and label[15, 0] == 11 and label[15, 8] == 18
    assert label[15, 16] == 255 and label[15, 31] == 10
    ds = DelayedClipDataset(sources, local_hw=(8, 16), remote_hw=(16, 32), num_remote_frames=3,
                            static_sources=True)
    s = ds[(1, 4)]
    assert s["delay_frames"] == 0 and s["remote_frames"].shape == (3, 3, 16, 32)
    assert s["label"].shape == (8, 16)


def test_sequences_give_real_history(tmp_path):
    _fake_cityscapes(tmp_path, with_sequence=True)
    sources = open_cityscapes(tmp_path, "val")
    src = sources[1]
    assert src.num_frames == 30 and src.labeled_frames == [19]
    ds = DelayedClipDataset(sources, local_hw=(8, 16), remote_hw=(16, 32), num_remote_frames=2,
                            uplink_quality=None)
    s = ds[(1, 3)]
    # the snippet of frame 40 starts at 21: remote frames are files 40-3-1=36 and 37
    got = (s["remote_frames"][:, 0, 0, 0] * 255).round().tolist()
    assert got == [36.0, 37.0] and s["delay_ms"] == pytest.approx(3000 / 17)


def test_bad_labelids_are_named(tmp_path):
    _fake_cityscapes(tmp_path, with_sequence=False)
    bad = tmp_path / "gtFine/val/aachen/aachen_000000_000040_gtFine_labelIds.png"
    cv2.imwrite(str(bad), np.full((16, 32), 200, np.uint8))
    with pytest.raises(ValueError, match=r"000040_gtFine_labelIds\.png: label values \[200\]"):
        open_cityscapes(tmp_path, "val")[1].label(0)


def test_train_id_label_files_are_read_as_train_ids(tmp_path):
    """Where only ``_labelTrainIds.png`` exists (createTrainIdLabelImgs output), its name says the
    encoding: the loader returns the same trainIds as from the labelIds file."""
    _fake_cityscapes(tmp_path, with_sequence=False)
    expected = open_cityscapes(tmp_path, "val")[0].label(0)
    ids = tmp_path / "gtFine/val/aachen/aachen_000000_000019_gtFine_labelIds.png"
    ids.unlink()
    _write(ids.with_name("aachen_000000_000019_gtFine_labelTrainIds.png"), expected)
    assert np.array_equal(open_cityscapes(tmp_path, "val")[0].label(0), expected)
