"""`make demo DEMO_ARGS="--video ..."`: the flags resolve to the clip's own rate and loops, a folder
without a rate is refused naming the flag, the CamVid checkpoint is the default, and the report's
frame-set figures score only the instants showing the chosen clip frames (by hand-made data)."""

import numpy as np
import pytest

pytestmark = pytest.mark.ros  # the demo's modules import rclpy

ROAD, SKY, CAR = 0, 10, 13   # trainIds


def _shared_camvid():
    from dedelayed_models.data import camvid_shared_root

    root = camvid_shared_root()
    if not (root / "frames").is_dir():
        pytest.skip(f"{root} is absent: the shared labelled CamVid clip is not on this machine")
    return root


def _frames_folder(root, fps=None, num_frames=3):
    import cv2

    (root / "frames").mkdir(parents=True)
    for t in range(num_frames):
        cv2.imwrite(str(root / "frames" / f"{t:04d}.png"), np.full((30, 40, 3), 40 * t, np.uint8))
    if fps:
        (root / "dataset.yaml").write_text(f"fps: {fps}\n")


def test_video_camvid_plays_the_clip_at_15_fps_three_times_without_outage():
    from dedelayed_bringup.demo.run import parse_args
    from dedelayed_bringup.demo.video import resolve_video

    _shared_camvid()
    args = parse_args(["--video", "camvid"])
    assert args.fps == 15.0 and args.video_loops == 3 and args.outage_s == 0.0
    assert args.duration_s == pytest.approx(3 * 101 / 15.0)
    video = resolve_video("camvid", args.fps, args.video_loops)
    assert video.held_out == (66, 101) and video.labels_subset and len(video.class_names) == 11
    assert list(video.frame_sets().values()) == [(0, 101), (66, 101)]
    assert parse_args(["--video", "camvid", "--video-loops", "1", "--outage-s", "1"]).duration_s \
        == pytest.approx(101 / 15.0)


def test_world_drive_keeps_its_defaults():
    from dedelayed_bringup.demo.run import parse_args

    args = parse_args([])
    assert (args.duration_s, args.outage_s, args.fps, args.video) == (40.0, 3.0, 10.0, "")


def test_video_folder_rate_comes_from_dataset_yaml_or_the_flag(tmp_path, capsys):
    from dedelayed_bringup.demo.run import parse_args

    _frames_folder(tmp_path / "stated", fps=10)
    args = parse_args(["--video", str(tmp_path / "stated")])
    assert args.fps == 10.0 and args.video_loops == round(20 * 10 / 3)      # about 20 s
    _frames_folder(tmp_path / "silent")
    assert parse_args(["--video", str(tmp_path / "silent"), "--video-fps", "5",
                       "--video-loops", "2"]).duration_s == pytest.approx(2 * 3 / 5)
    with pytest.raises(SystemExit):
        parse_args(["--video", str(tmp_path / "silent")])
    assert "does not state its frame rate: give --video-fps" in capsys.readouterr().err


@pytest.mark.parametrize("flags, says", [
    (["--duration-s", "10"], "--duration-s 10 does not apply to --video"),
    (["--fps", "30"], "give --video-fps"),
])
def test_video_refuses_the_world_only_flags(tmp_path, capsys, flags, says):
    from dedelayed_bringup.demo.run import parse_args

    _frames_folder(tmp_path, fps=10)
    with pytest.raises(SystemExit):
        parse_args(["--video", str(tmp_path), *flags])
    assert says in capsys.readouterr().err


def test_missing_video_folder_is_named(tmp_path, capsys):
    from dedelayed_bringup.demo.run import parse_args

    with pytest.raises(SystemExit):
        parse_args(["--video", str(tmp_path / "nope")])
    assert "no such folder; give 'camvid' or a folder" in capsys.readouterr().err


def test_auto_checkpoint_for_video_is_the_camvid_one_or_random_weights_said_so():
    import os

    from dedelayed_bringup.demo.models import CAMVID_CHECKPOINT, missing_checkpoint_note, resolve_models

    models = resolve_models("auto", "tiny", 0, video=True)
    if os.path.isfile(CAMVID_CHECKPOINT):
        assert models.checkpoint == os.path.abspath(CAMVID_CHECKPOINT) and models.preset == "camvid"
    else:
        assert not models.trained and models.preset == "tiny"
        assert "models/dedelayed_models/checkpoints/camvid/dedelayed.pt missing" in \
            missing_checkpoint_note(video=True)


def _recording():
    """Six camera instants 0.1 s apart showing clip frames 0, 1, 2, 0, 1, 2 (frame 1 unlabelled);
    truth: left half road, right half sky. Dedelayed answers each instant exactly just before it;
    local-only calls the sky car; remote-only never answers."""
    from dedelayed_bringup.demo.recorder import Recording

    truth = np.full((4, 8), ROAD, np.uint8)
    truth[:, 4:] = SKY
    wrong = truth.copy()
    wrong[:, 4:] = CAR
    rec, frame_of = Recording(), {}
    for i in range(6):
        stamp = 100.0 + 0.1 * i
        frame_of[round(stamp, 6)] = (i % 3, i // 3)
        rec.truth.append((stamp, np.full_like(truth, 255) if i % 3 == 1 else truth))
        rec.outputs["dedelayed"].append((stamp, stamp - 0.01, truth))
        rec.outputs["local_only"].append((stamp, stamp - 0.01, wrong))
    return rec, frame_of


def test_frame_sets_score_only_the_labelled_instants_of_their_frames():
    from dedelayed_bringup.demo.scoring import frame_set_scores

    rec, frame_of = _recording()
    sets = {"all": (0, 3), "last frame": (2, 3)}
    scores = frame_set_scores(rec, frame_of, sets, ["road", "sky"])
    assert scores["sets"] == {"all": {"frames": [0, 2], "instants": 4},
                              "last frame": {"frames": [2, 2], "instants": 2}}
    assert scores["instants_not_in_log"] == 0
    assert scores["dedelayed"]["all"] == {"mIoU": 100.0, "mIoU_dataset_classes": 100.0}
    # local-only: road 100, sky 0; the 19-class mean also counts car (predicted, never true) as 0
    assert scores["local_only"]["last frame"]["mIoU"] == pytest.approx(100 / 3)
    assert scores["local_only"]["last frame"]["mIoU_dataset_classes"] == pytest.approx(50.0)
    assert scores["remote_only"]["all"]["mIoU"] == 0.0       # no answer: every pixel a miss


def test_report_says_which_frames_each_figure_covers():
    from dedelayed_bringup.demo.report import _video_figures, _video_table
    from dedelayed_bringup.demo.video import DemoVideo

    rec, frame_of = _recording()
    video = DemoVideo(source="frames", root="/clip", name="clip", fps=10.0, num_frames=3, loops=2,
                      labeled_frames=(0, 2), class_names=("road", "sky"), held_out=(2, 3))
    lines = _video_table(_video_figures(video, rec, frame_of))
    text = "\n".join(lines)
    assert "held-out frames 2-2 (never trained on): 19 classes" in lines[0]
    assert "2 dataset classes" in lines[0]
    assert "the 4 labelled camera instants showing clip frames 0-2 in any of the 2 loops" in text
    assert "the 2 labelled camera instants showing clip frames 2-2" in text
    assert "dataset classes (2, the only ones its labels hold): road, sky" in text
