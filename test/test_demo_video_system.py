"""`make demo DEMO_ARGS="--video camvid"` end to end, shortened to one play of the shared CamVid clip
(6.7 s at 15 fps; about 25 s in all on 2 cores): the camera plays every frame of the clip, the
recorder scores each one, and the report's frame sets cover exactly the instants their clip
frames were shown at (the camera's frame log). Holds with any weights; accuracy is not asserted.
"""

import json

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.ros]


def test_camvid_clip_drive_scores_every_frame_and_its_held_out_frames(tmp_path):
    from dedelayed_bringup.demo import run as demo_run
    from dedelayed_models.data import camvid_shared_root

    root = camvid_shared_root()
    if not (root / "frames").is_dir():
        pytest.skip(f"{root} is absent: the shared labelled CamVid clip is not on this machine")
    args = demo_run.parse_args(["--video", "camvid", "--video-loops", "1", "--out", str(tmp_path),
                                "--quiet"])
    figures = demo_run.run(args)
    for name in ("report.md", "figures.json", "overlays.png", "drive.mcap", demo_run.FRAME_LOG_NAME):
        assert (tmp_path / name).is_file(), name
    assert figures["settings"]["fps"] == 15.0 and figures["outage"] == {"injected": False}
    assert figures["frames"]["num_frames"] == 101, figures["frames"]   # reliable ground truth
    scores = figures["video"]["scores"]
    assert scores["instants_not_in_log"] == 0
    assert [s["instants"] for s in scores["sets"].values()] == [101, 35]   # frames 0-100, 66-100
    for stream in ("dedelayed", "local_only", "remote_only"):
        for name in scores["sets"]:
            assert scores[stream][name]["mIoU_dataset_classes"] is not None, (stream, name)
    report = (tmp_path / "report.md").read_text()
    assert "held-out frames 66-100" in report and "camvid-0016E5-val" in report
    assert json.loads((tmp_path / "figures.json").read_text())["video"]["loops"] == 1
