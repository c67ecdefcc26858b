"""From real labelled frames to a delay-sweep report with the public commands only.

On the shared CamVid 0016E5 clip (15 fps): the three stages train for a few dozen iterations on
its first 60 frames (``python -m dedelayed_models.train.pipeline``, instant configs), and
``python -m dedelayed_models.evaluate --dataset camvid`` scores frames 66-100. Asserted: the
commands succeed, every stage's loss falls, and the report carries the clip's real frame period
and its 11 classes. No accuracy is asserted on so little data.
"""

import json
import subprocess
import sys

import pytest

from dedelayed_models.data import camvid_shared_root
from dedelayed_models.modeling import load_checkpoint

ROOT = camvid_shared_root()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not ROOT.is_dir(), reason=f"shared CamVid data not found at {ROOT} (set "
                                 "DEDELAYED_SHARED_DATA to the folder holding camvid-0016E5-val)")]
CAMVID_CLASSES = ["road", "sidewalk", "building", "fence", "pole", "traffic sign", "vegetation", "sky",
                  "person", "car", "bicycle"]


def _run(args, cwd):
    done = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _losses(path):
    return [r["loss"] for r in map(json.loads, path.read_text().splitlines()) if "loss" in r]


def test_train_and_evaluate_on_camvid_with_the_public_commands(tmp_path):
    _run(["dedelayed_models.train.pipeline", "--runs", "runs", "--ship", "ship", "--no-eval",
          "--configs", "instant_remote", "instant_local", "instant_fusion",
          "--set", "data.source=camvid", f"data.root={ROOT}", "data.train_frame_range=[0,60]",
          "data.val_frame_range=[66,101]", "train.num_threads=2",
          "--set-stage", "fusion", "solver.max_iters=25", "--streaming-config", "none"], tmp_path)
    for stage, iters in (("remote_predictive", 30), ("local", 30), ("fusion", 25)):
        losses = _losses(tmp_path / "runs" / stage / "metrics.jsonl")
        assert len(losses) == iters // 5 and losses[-1] < 0.85 * losses[0], (stage, losses)
    # paper timing, delays of 0-3 frames: 0-200 ms at the clip's 15 fps, not 0-100 ms at 30 fps
    assert load_checkpoint(tmp_path / "ship" / "dedelayed.pt").extra["trained_delay_ms"] == [0.0, 200.0]
    _run(["dedelayed_models.evaluate", "--checkpoints", "ship", "--out", "report", "--dataset", "camvid",
          "--data", f"root={ROOT}", "val_frame_range=[66,101]", "--threads", "2"], tmp_path)
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["fps"] == 15.0 and report["frame_ms"] == pytest.approx(1000 / 15)
    assert report["classes"] == CAMVID_CLASSES
    assert report["live_delay_sweep"]["15"]["delays_ms"][:3] == pytest.approx([0.0, 133.33, 200.0], abs=0.01)
    assert "motion" not in report and "generalisation" not in report
    per_class = report["delay_sweep"]["IoU"]["dedelayed"][0]
    assert all(0 <= per_class[c] <= 100 for c in CAMVID_CLASSES if per_class[c] == per_class[c])
    text = (tmp_path / "report" / "report.md").read_text()
    assert "# Dedelayed on camvid (camvid-0016E5-val[66:101])" in text and "on the synthetic world" not in text
    assert "one frame = 66.7 ms" in text and "1 (67 ms)" in text
    assert "## Per-class IoU (%) over the 11 dataset classes" in text
    assert all(f"| {c} |" in text for c in CAMVID_CLASSES)
    assert "motion sweep skipped on real video" in text
