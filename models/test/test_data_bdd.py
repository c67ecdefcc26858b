"""BDD100K layout: the loader reads back clips written from the world; bad files are named."""

import cv2
import numpy as np
import pytest

from dedelayed_models.data import DelayedClipDataset, open_bdd_split, write_clip
from dedelayed_models.data.world import WorldSequence

HW = (64, 128)


@pytest.fixture(scope="module")
def bdd_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bdd")
    seq = WorldSequence(1_000_020, num_frames=16, camera_hw=HW)
    write_clip(seq, root, "val", label_every=3)
    return root, seq


def test_reads_back_labels_exactly_and_frames_approximately(bdd_root):
    root, seq = bdd_root
    (video,) = open_bdd_split(root, "val")
    assert video.num_frames == 16 and video.fps == pytest.approx(30.0)
    assert video.labeled_frames == [0, 3, 6, 9, 12, 15]                 # sparse labels
    for t in video.labeled_frames:
        assert np.array_equal(video.label(t), seq.label(t, HW))
    for t in (0, 7, 15, 2):                                             # random access, backwards too
        err = np.abs(video.frame(t).astype(float) - seq.frame(t)).mean()
        assert err < 12, (t, err)
    ds = DelayedClipDataset([video], local_hw=(32, 64), remote_hw=HW, num_remote_frames=2,
                            delay_frames_range=(0, 2))
    assert [t for _, t in ds.index] == [3, 6, 9, 12, 15] and ds.num_skipped_frames == 1
    assert ds[(0, 2)]["remote_frames"].shape == (2, 3, *HW)


def test_bad_layouts_name_the_file(tmp_path, bdd_root):
    root, seq = bdd_root
    (tmp_path / "videos" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val" / "ghost").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="ghost"):
        open_bdd_split(tmp_path, "val")
    (tmp_path / "videos" / "val" / "ghost.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(ValueError, match=r"ghost\.mp4: cannot decode"):
        open_bdd_split(tmp_path, "val")


def test_bad_labels_name_the_file(tmp_path):
    seq = WorldSequence(1_000_021, num_frames=4, camera_hw=HW)
    write_clip(seq, tmp_path, "train")
    label_dir = tmp_path / "labels" / "train" / seq.name
    cv2.imwrite(str(label_dir / "000001.png"), np.full(HW, 40, np.uint8))
    cv2.imwrite(str(label_dir / "000002.png"), np.zeros((10, 10), np.uint8))
    (video,) = open_bdd_split(tmp_path, "train")
    with pytest.raises(ValueError, match=r"000001\.png: label values \[40\]"):
        video.label(1)
    with pytest.raises(ValueError, match=r"000002\.png: label is 10x10"):
        video.label(2)
    cv2.imwrite(str(label_dir / "000009.png"), np.zeros(HW, np.uint8))
    with pytest.raises(ValueError, match="beyond the video"):
        open_bdd_split(tmp_path, "train")
