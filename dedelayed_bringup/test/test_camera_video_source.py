"""The camera node's video source plays a BDD100K-layout clip with its sparse labels."""

import numpy as np
import pytest

pytestmark = pytest.mark.ros  # the camera node module imports rclpy


def test_video_drive_keeps_frames_and_sparse_labels(tmp_path):
    from dedelayed_bringup.synthetic_camera_node import load_video_drive
    from dedelayed_models.data import WorldSequence
    from dedelayed_models.data.bdd import write_clip
    from dedelayed_models.data.labels import resize_label

    world = WorldSequence(1_000_042, num_frames=12, camera_hw=(64, 128))
    video = write_clip(world, tmp_path, "val", size_hw=(64, 128), label_every=4)
    label_dir = tmp_path / "labels" / "val" / video.stem
    images, labels = load_video_drive(str(video), str(label_dir), num_frames=10, height=32,
                                      width=64)
    assert images.shape == (10, 32, 64, 3) and labels.shape == (10, 32, 64)
    # labelled frame: the stored label, resized like every label (nearest)
    assert np.array_equal(labels[4], resize_label(world.label(4, (64, 128)), (32, 64)))
    assert (labels[5] == 255).all()                            # unlabelled frame: void
    assert np.abs(images[0].astype(int) - world.frame(0, (32, 64))).mean() < 12  # lossy mp4


def test_missing_video_is_named(tmp_path):
    from dedelayed_bringup.synthetic_camera_node import load_video_drive

    with pytest.raises(FileNotFoundError, match="video file missing"):
        load_video_drive(str(tmp_path / "nope.mp4"), "", 10, 32, 64)


def test_camera_yaml_matches_declared_parameters():
    import os

    import yaml

    from dedelayed_bringup import synthetic_camera_node

    path = os.path.join(os.path.dirname(__file__), "..", "config", "synthetic_camera.yaml")
    in_yaml = yaml.safe_load(open(path))["/**/synthetic_camera"]["ros__parameters"]
    assert in_yaml == {p.name: p.default for p in synthetic_camera_node.PARAMETERS}
