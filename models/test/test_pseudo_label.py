"""``pseudo_label``: a pretrained teacher labels unlabelled frames into the ``frames`` layout; the
labels agree with real CamVid labels where the teacher is confident, the output trains as a
``frames`` source, a rerun resumes, and bad input is refused with the fix."""

import json

import cv2
import numpy as np
import pytest
import torch
import yaml

from dedelayed_models.classes import IGNORE_ID
from dedelayed_models.data import camvid_shared_root
from dedelayed_models.data.datasets import open_sources
from dedelayed_models.data.label_encoding import label_encoding
from dedelayed_models.data.labels import read_label_file
from dedelayed_models.modeling.espnetv2 import ESPNetv2Segmentation
from dedelayed_models.modeling.pretrained import PRETRAINED
from dedelayed_models.pseudo_label import main, pseudo_label
from dedelayed_models.train.config import data_section

TEACHER = "espnetv2_s1.0_cityscapes_1024x512"
FRAMES = 5

# Cityscapes trainIds -> the one CamVid keeps for that group (CamVid has no wall, terrain, traffic
# light, rider, motorcycle, truck, bus or train: they are inside Building, Tree, SignSymbol, ...).
MERGE = np.arange(256, dtype=np.uint8)
for _fine, _camvid in {3: 2, 9: 8, 6: 7, 12: 18, 17: 18, 14: 13, 15: 13, 16: 13}.items():
    MERGE[_fine] = _camvid


def test_labels_real_frames_that_agree_with_camvid_and_train_as_frames_source(tmp_path, capsys):
    camvid = camvid_shared_root()
    if not camvid.is_dir() or not PRETRAINED[TEACHER].path.is_file():
        pytest.skip(f"needs the shared CamVid clip ({camvid}) and the {TEACHER} weights "
                    f"({PRETRAINED[TEACHER].path}); set DEDELAYED_SHARED_DATA to the shared data folder")
    out = tmp_path / "out"
    argv = ["--frames", str(camvid), "--out", str(out), "--teacher", TEACHER, "--input-hw", "240x320",
            "--fps", "15", "--limit", str(FRAMES)]
    assert main(argv) == 0

    names = sorted(p.name for p in (camvid / "frames").iterdir())[:FRAMES]
    assert sorted(p.name for p in (out / "frames").iterdir()) == names
    assert sorted(p.name for p in (out / "labels").iterdir()) == names
    to_trainids = label_encoding("camvid11").to_trainids
    agree = scored = 0
    for name in names:
        label = read_label_file(out / "labels" / name)
        assert label.shape == (360, 480) and label.dtype == np.uint8
        truth = to_trainids(read_label_file(camvid / "labels" / name))
        assert 0 < np.mean(label == IGNORE_ID) < 0.5            # some pixels unsure, most labelled
        both = (label != IGNORE_ID) & (truth != IGNORE_ID)
        agree += np.count_nonzero(MERGE[label][both] == truth[both])
        scored += np.count_nonzero(both)
    # measured 0.983 on these frames (0.978 over all 101); always guessing the commonest class,
    # building, would score 0.31
    assert agree / scored > 0.9

    assert yaml.safe_load((out / "dataset.yaml").read_text()) == {"label_encoding": "trainid", "fps": 15.0}
    report = json.loads((out / "pseudo_label.json").read_text())
    assert report["teacher"] == TEACHER and report["input_hw"] == [240, 320]
    assert report["teacher_sha256_prefix"] == PRETRAINED[TEACHER].sha256_prefix
    assert report["min_confidence"] == 0.9 and report["complete"] and len(report["kept_share"]) == FRAMES
    assert 0.5 < report["kept_share_total"] < 0.95

    sources, spec = open_sources(data_section("frames", [f"root={out}", "fps=15"]), "val")
    assert spec.encoding == "trainid" and sources[0].labeled_frames == list(range(FRAMES))
    assert sources[0].label(0, (120, 160)).shape == (120, 160)

    capsys.readouterr()
    assert main(argv) == 0
    assert f"skipping {FRAMES} of {FRAMES} frames" in capsys.readouterr().out
    assert json.loads((out / "pseudo_label.json").read_text())["skipped"] == FRAMES


def _tiny_inputs(tmp_path):
    torch.manual_seed(0)
    teacher = tmp_path / "teacher.pth"
    torch.save(ESPNetv2Segmentation(0.5).state_dict(), teacher)
    rng, raw = np.random.default_rng(0), tmp_path / "raw"
    raw.mkdir()
    for i in range(2):
        assert cv2.imwrite(str(raw / f"f{i:03d}.png"), rng.integers(0, 255, (64, 96, 3), np.uint8))
    return teacher, raw


def test_teacher_file_writes_the_layout_and_bad_input_is_refused(tmp_path, capsys):
    teacher, raw = _tiny_inputs(tmp_path)
    out = tmp_path / "out"
    assert main(["--frames", str(raw), "--out", str(out), "--teacher", str(teacher),
                 "--input-hw", "64x96", "--min-confidence", "0"]) == 0
    assert "no --fps" in capsys.readouterr().out
    for name in ("f000.png", "f001.png"):
        assert (out / "frames" / name).is_file()
        label = read_label_file(out / "labels" / name)
        assert label.shape == (64, 96) and label.dtype == np.uint8
    assert yaml.safe_load((out / "dataset.yaml").read_text()) == {"label_encoding": "trainid"}
    report = json.loads((out / "pseudo_label.json").read_text())
    assert report["teacher"] == str(teacher) and report["frames"] == 2 and report["skipped"] == 0
    assert not list(out.rglob("*.tmp"))

    with pytest.raises(SystemExit):
        main(["--frames", str(raw), "--out", str(tmp_path / "o2"), "--teacher", str(teacher),
              "--input-hw", "60x96"])
    assert "--input-hw 60x96" in capsys.readouterr().err
    with pytest.raises(ValueError, match="multiples of 16; e.g. 48x96"):
        pseudo_label(raw, tmp_path / "o2", str(teacher), (60, 96))
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .png/.jpg/.jpeg images"):
        pseudo_label(tmp_path / "empty", tmp_path / "o2", str(teacher), (64, 96))
    with pytest.raises(FileNotFoundError, match="neither a registered name"):
        pseudo_label(raw, tmp_path / "o2", "espnetv2_s3.0", (64, 96))
    with pytest.raises(ValueError, match="labelled before with"):
        pseudo_label(raw, out, str(teacher), (32, 48), min_confidence=0.0)
