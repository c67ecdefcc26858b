"""Sweeps and the evaluation command: jitter weighting exactly, the CLI end to end on an instant
checkpoint (tiny preset), and the ordering the shipped checkpoints show at 3 frames."""

import json
import math
import os
import shutil

import pytest

from dedelayed_models.evaluation.sweeps import binned_normal_pmf, expected_under_jitter

FRAME_MS = 1000 / 30
SHIPPED = os.path.join(os.path.dirname(__file__), "..", "dedelayed_models", "checkpoints")


def test_binned_normal_pmf_mass_and_boundaries():
    obs = list(range(8))
    for sigma in (1.0, 5.0, 15.0, 50.0, 500.0):
        for mean_frames in (0, 3, 5, 7):
            w = binned_normal_pmf(mean_frames * FRAME_MS, sigma, obs, FRAME_MS)
            assert sum(w) == pytest.approx(1.0) and min(w) >= 0
    w = binned_normal_pmf(0.0, 15.0, obs, FRAME_MS)
    # Half the mass lies below 0 ms: it goes to bin 0 with the in-bin mass.
    inside = 0.5 * (1 + math.erf(0.5 * FRAME_MS / (15.0 * math.sqrt(2)))) - 0.5
    assert w[0] == pytest.approx(0.5 + inside)
    assert binned_normal_pmf(3 * FRAME_MS, 0.0, obs, FRAME_MS) == [0, 0, 0, 1, 0, 0, 0, 0]


def test_expected_under_jitter():
    matrix = [[10.0 * i + j for j in range(8)] for i in range(6)]
    assert expected_under_jitter(matrix, range(6), range(8), 0.0, FRAME_MS) == \
        [matrix[i][i] for i in range(6)]
    wide = expected_under_jitter(matrix, range(6), range(8), 1e6, FRAME_MS)
    assert wide[2] == pytest.approx((matrix[2][0] + matrix[2][7]) / 2, abs=1e-3)


@pytest.mark.slow
def test_evaluate_cli_writes_report(tmp_path):
    from dedelayed_models.evaluate import main
    from dedelayed_models.train import load_config, train
    run = tmp_path / "run"
    train(load_config("instant_fusion", ["solver.max_iters=6", "train.checkpoint_period=100"]), str(run))
    ckpts = tmp_path / "ckpts"
    ckpts.mkdir()
    shutil.copy(run / "model_final.pt", ckpts / "dedelayed.pt")
    shutil.copy(run / "model_final.pt", ckpts / "local.pt")
    out = tmp_path / "report"
    main(["--checkpoints", str(ckpts), "--out", str(out), "--sequences", "1", "--frames", "12",
          "--frame-stride", "3", "--max-observed", "6", "--resolutions", "16x32", "32x64",
          "--motions", "0.5", "2", "--threads", "1", "--fps", "10", "30", "--max-delay-ms", "200",
          "--generalisation-sequences", "1"])
    report = json.loads((out / "report.json").read_text())
    assert set(report["delay_sweep"]["mIoU"]) == {"local image", "local only", "remote image", "remote video",
                                                  "remote predictive", "dedelayed"}
    assert len(report["jitter"]["matrix"]) == 6 and len(report["jitter"]["matrix"][0]) == 7
    assert report["jitter"]["expected"]["0.0"] == [report["jitter"]["matrix"][i][i] for i in range(6)]
    live = report["live_delay_sweep"]
    assert live["10"]["delays_ms"] == [0.0, 100.0, 200.0] and live["30"]["delays_frames"] == [0, 3, 6]
    assert set(live["30"]["mIoU"]) == {"local image", "local only", "remote image", "remote predictive",
                                       "dedelayed"}
    # local only is the fused model's own local without z: here the same weights as local.pt
    assert report["delay_sweep"]["mIoU"]["local only"] == report["delay_sweep"]["mIoU"]["local image"]
    assert set(report["generalisation"]["mIoU"]) == {"0.5", "2.0"}
    targets = [c["target"] for c in report["checks"]]
    assert any("at 100 ms (10 fps)" in t for t in targets) and any("delay 0" in t for t in targets)
    for png in ("fig6_delay_sweep.png", "fig6_live_delay_sweep.png", "fig9_jitter_matrix.png", "fig10_jitter_sigma.png",
                "fig11_local_resolution.png", "motion_sweep.png"):
        assert (out / png).stat().st_size > 1000
    assert "| dedelayed |" in (out / "report.md").read_text()


def test_real_video_targets_use_the_stronger_local_baseline():
    """On real video every target compares with the stronger of the separately trained local
    model and the fused model's own local without z."""
    from dedelayed_models.evaluate import real_video_checks

    flat = [50.0] * 5
    sweep = {"local image": flat, "local only": [58.0] * 5, "remote image": [66.5, 60, 56, 53, 51],
             "remote predictive": [66.5, 61, 57, 54, 52], "dedelayed": [66.0, 65, 63.5, 62, 62.5]}
    results = {"frame_ms": 66.7, "classes": ["road"],
               "delay_sweep": {"delays_frames": [0, 1, 2, 3, 4], "mIoU_dataset_classes": sweep}}
    checks = {c["target"]: c for c in real_video_checks(results)}
    at0 = checks["remote image >= best local-only + 8 at 0 ms (dataset classes)"]
    assert at0["met"] and "local only 58.00" in at0["measured"]
    assert checks["dedelayed within 1 of the better single model at 0 ms (dataset classes)"]["met"]
    assert checks["dedelayed >= best local-only + 5 at 133 ms (dataset classes)"]["met"]
    assert not checks["dedelayed >= best local-only + 5 at 267 ms (dataset classes)"]["met"]   # +4.5
    assert checks["dedelayed >= remote predictive at 267 ms (dataset classes)"]["met"]
