"""Real-video sources on real PNG files: one label convention (either encoding where the data
says which), the frame-folder source, dataset.yaml, selections and clear errors."""

import cv2
import numpy as np
import pytest

from dedelayed_models.classes import CLASS_NAMES
from dedelayed_models.data.datasets import build_datasets, open_sources
from dedelayed_models.data.label_encoding import CAMVID_TO_TRAINID, LABEL_ENCODINGS
from dedelayed_models.train.config import data_section, load_config, model_config

HW = (24, 32)          # 4:3 frames, like CamVid's 360x480


def _write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _folder(root, n=12, encoding="camvid11", label_every=1):
    """n random frames and CamVid-id labels (0-11), written as-is or converted to trainIds."""
    rng = np.random.default_rng(0)
    native = []
    for t in range(n):
        name = f"seq_{t:05d}.png"
        _write(root / "frames" / name, rng.integers(0, 255, (*HW, 3), np.uint8))
        ids = rng.integers(0, 12, HW).astype(np.uint8)
        native.append(ids)
        if t % label_every == 0:
            out = ids if encoding == "camvid11" else LABEL_ENCODINGS["camvid11"].lut[ids]
            _write(root / "labels" / name, out)
    return native


def test_camvid_table_maps_to_trainids_and_names_the_dataset_classes():
    enc = LABEL_ENCODINGS["camvid11"]
    for native, train_id in CAMVID_TO_TRAINID.items():
        assert enc.lut[native] == train_id
    names = [CLASS_NAMES[i] for i in enc.class_ids]
    assert len(names) == 11 and {"pole", "traffic sign", "person", "bicycle"} <= set(names)
    assert "rider" not in names and "terrain" not in names


def test_either_encoding_loads_to_the_same_trainids(tmp_path):
    native = _folder(tmp_path / "camvid_ids")
    _folder(tmp_path / "train_ids", encoding="trainid")
    a, spec_a = open_sources(data_section("camvid", [f"root={tmp_path / 'camvid_ids'}"]), "val")
    b, spec_b = open_sources(data_section("camvid", [f"root={tmp_path / 'train_ids'}",
                                                     "label_encoding=trainid"]), "val")
    assert a[0].fps == b[0].fps == 15.0 and spec_a.encoding == "camvid11" and spec_b.encoding == "trainid"
    for t in (0, 5, 11):
        assert np.array_equal(a[0].label(t), b[0].label(t))
        assert np.array_equal(a[0].label(t), LABEL_ENCODINGS["camvid11"].lut[native[t]])
    # trainIds read as CamVid ids: the error names the values and the fix.
    wrong, _ = open_sources(data_section("camvid", [f"root={tmp_path / 'train_ids'}"]), "val")
    with pytest.raises(ValueError, match=r"seq_00000\.png: label values \[.*255\] are not camvid11 ids"
                                         r".*data\.label_encoding"):
        wrong[0].label(0)


def test_frames_source_states_fps_and_classes_in_dataset_yaml(tmp_path):
    _folder(tmp_path, n=10, encoding="trainid", label_every=3)
    with pytest.raises(ValueError, match=r"does not say its frame rate; set data\.fps"):
        open_sources(data_section("frames", [f"root={tmp_path}"]), "train")
    (tmp_path / "dataset.yaml").write_text("fps: 12.5\nclasses: [road, sky, car]\n")
    (src,), spec = open_sources(data_section("frames", [f"root={tmp_path}"]), "train")
    assert src.fps == 12.5 and src.labeled_frames == [0, 3, 6, 9]
    assert spec.class_names == ["road", "sky", "car"] and spec.resize == "crop"
    (src,), _ = open_sources(data_section("frames", [f"root={tmp_path}", "fps=5"]), "train")
    assert src.fps == 5.0                                      # the config wins over dataset.yaml
    with pytest.raises(KeyError, match="has no label"):
        src.label(1)
    (tmp_path / "dataset.yaml").write_text("fps: 10\nframerate: 3\n")
    with pytest.raises(ValueError, match=r"unknown keys \['framerate'\]"):
        open_sources(data_section("frames", [f"root={tmp_path}"]), "train")


def test_frame_ranges_and_sequence_selection(tmp_path):
    _folder(tmp_path / "clip", n=12)
    d = data_section("camvid", [f"root={tmp_path / 'clip'}", "train_frame_range=[0,6]", "val_frame_range=[8,12]"])
    (train,), _ = open_sources(d, "train")
    (val,), _ = open_sources(d, "val")
    assert (train.num_frames, val.num_frames) == (6, 4) and val.name == "clip[8:12]"
    full, _ = open_sources(data_section("camvid", [f"root={tmp_path / 'clip'}"]), "val")
    assert np.array_equal(val.frame(0), full[0].frame(8)) and np.array_equal(val.label(3), full[0].label(11))
    with pytest.raises(ValueError, match=r"frame range \[20, 12\) is empty"):
        open_sources(data_section("camvid", [f"root={tmp_path / 'clip'}", "val_frame_range=[20,30]"]), "val")
    with pytest.raises(ValueError, match=r"data\.sequences \['other'\] match none"):
        open_sources(data_section("camvid", [f"root={tmp_path / 'clip'}", "sequences=[other]"]), "val")
    with pytest.raises(KeyError, match="unknown config key 'data.frame_range'"):
        data_section("camvid", ["frame_range=[0,3]"])
    with pytest.raises(ValueError, match=r"data\.source=frames needs data\.root"):
        open_sources(data_section("frames"), "val")


def test_training_datasets_from_a_real_folder(tmp_path):
    _folder(tmp_path, n=12)
    cfg = load_config("instant_local", ["data.source=camvid", f"data.root={tmp_path}",
                                        "data.train_frame_range=[0,8]", "data.val_frame_range=[8,12]",
                                        "data.delay_frames_range=[0,2]"])
    train, val = build_datasets(cfg, model_config(cfg))
    assert len(train) == 8 - 3 and len(val) == 4 - 3               # K=2 and D<=2: 3 frames of history
    s = train[(0, 2)]
    assert s["image"].shape == (3, 32, 64) and s["remote_frames"].shape == (2, 3, 48, 96)
    assert s["delay_ms"] == pytest.approx(2 * 1000 / 15) and s["label"].shape == (32, 64)
    assert set(np.unique(s["label"].numpy())) <= set(LABEL_ENCODINGS["camvid11"].class_ids) | {255}


def test_prepared_source_uplinks_the_remote_size_only_and_shares_one_memory_budget(tmp_path):
    from dedelayed_models.data.prepared import FrameMemo, PreparedSource
    from dedelayed_models.data.uplink import uplink_roundtrip
    _folder(tmp_path, n=4)
    (native,), _ = open_sources(data_section("camvid", [f"root={tmp_path}"]), "val")
    memo = FrameMemo(limit_mb=(2 * 12 * 16 * 3) / 2**20)        # room for two 12x16 frames
    a = PreparedSource(native, remote_hw=(12, 16), uplink_quality=50, resize="squash", memo=memo)
    b = PreparedSource(native, remote_hw=(12, 16), uplink_quality=None, resize="squash", memo=memo)
    local = a.frame(0, (6, 8))
    assert np.array_equal(local, cv2.resize(native.frame(0), (8, 6), interpolation=cv2.INTER_AREA))
    remote = a.frame(0, (12, 16))
    assert np.array_equal(remote, uplink_roundtrip(cv2.resize(native.frame(0), (16, 12),
                                                               interpolation=cv2.INTER_AREA), 50))
    assert a.frame(0, (12, 16)) is remote                           # memoised
    assert not np.array_equal(b.frame(0, (12, 16)), remote)        # its own entry, no codec
    b.frame(1, (12, 16))
    assert a.frame(0, (12, 16)) is not remote                      # evicted: the budget is shared


def test_bdd_and_cityscapes_through_the_data_keys(tmp_path):
    """BDD reads its rate from the video header and its labels as trainIds; Cityscapes selects
    cities by name and reports the 19 classes its labelIds map to."""
    from dedelayed_models.data import write_clip
    from dedelayed_models.data.world import WorldSequence
    write_clip(WorldSequence(1_000_030, num_frames=6, camera_hw=(32, 64)), tmp_path / "bdd", "val",
               name="drive_a", label_every=2)
    (video,), spec = open_sources(data_section("bdd100k", [f"root={tmp_path / 'bdd'}"]), "val")
    assert video.fps == pytest.approx(30.0) and video.labeled_frames == [0, 2, 4]
    assert spec.encoding == "trainid" and len(spec.class_ids) == 19
    with pytest.raises(FileNotFoundError, match=r"videos/train: no such folder"):
        open_sources(data_section("bdd100k", [f"root={tmp_path / 'bdd'}"]), "train")
    rng = np.random.default_rng(1)
    for city in ("aachen", "bremen"):
        stem = f"{city}_000000_000019"
        _write(tmp_path / "cs/leftImg8bit/val" / city / f"{stem}_leftImg8bit.png",
               rng.integers(0, 255, (16, 32, 3), np.uint8))
        _write(tmp_path / "cs/gtFine/val" / city / f"{stem}_gtFine_labelIds.png", np.full((16, 32), 26, np.uint8))
    (snippet,), spec = open_sources(
        data_section("cityscapes", [f"root={tmp_path / 'cs'}", "sequences=[bremen]"]), "val")
    assert snippet.name.startswith("bremen_") and snippet.fps == 17.0 and len(spec.class_ids) == 19
    assert (snippet.label(0) == 13).all()
    with pytest.raises(ValueError, match="file names say their encoding"):
        open_sources(data_section("cityscapes", [f"root={tmp_path / 'cs'}", "label_encoding=trainid"]), "val")
