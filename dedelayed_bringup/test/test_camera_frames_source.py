"""The camera node's frames-folder source plays a real-data folder (the data layer's ``frames`` and
``camvid`` layouts) with its own frame rate and labels, and logs which frame each stamp showed."""

import time

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.ros  # the camera node module imports rclpy

FRAME_HW = (48, 64)            # written frames, H x W [px] (3:4, like CamVid)
SKY, ROAD, CAR = 10, 0, 13     # trainIds


def _label(t: int) -> np.ndarray:
    """(48, 64) trainIds: sky on top, car at the bottom, road between; frame t voids its first
    t + 1 columns, so every frame's label differs."""
    label = np.full(FRAME_HW, ROAD, np.uint8)
    label[:12], label[-12:] = SKY, CAR
    label[:, :t + 1] = 255
    return label


def _write_folder(root, num_frames=4, labelled=(0, 2), fps=12.5):
    """frames/ (random RGB PNGs), labels/ for ``labelled`` (trainIds), dataset.yaml stating
    ``fps`` (none if 0); returns the frames written, (N, 48, 64, 3) uint8 RGB."""
    (root / "frames").mkdir(parents=True)
    (root / "labels").mkdir()
    images = np.random.default_rng(0).integers(0, 256, (num_frames, *FRAME_HW, 3), dtype=np.uint8)
    for t, image in enumerate(images):
        cv2.imwrite(str(root / "frames" / f"f{t:03d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if t in labelled:
            cv2.imwrite(str(root / "labels" / f"f{t:03d}.png"), _label(t))
    if fps:
        (root / "dataset.yaml").write_text(f"fps: {fps}\n")
    return images


def test_frames_folder_plays_every_frame_with_its_label_or_void(tmp_path):
    from dedelayed_bringup.synthetic_camera_node import load_frames_drive, open_frames_folder

    written = _write_folder(tmp_path)
    folder, spec = open_frames_folder("frames", str(tmp_path))
    assert folder.fps == 12.5 and folder.num_frames == 4 and list(folder.labeled_frames) == [0, 2]
    assert len(spec.class_names) == 19                       # trainId labels: every class
    images, labels = load_frames_drive(folder, 24, 32)       # same 3:4 aspect: a plain resize
    assert images.shape == (4, 24, 32, 3) and labels.shape == (4, 24, 32)
    for t in range(4):                                       # area-resized, in time order
        assert np.array_equal(images[t], cv2.resize(written[t], (32, 24), interpolation=cv2.INTER_AREA))
    assert np.array_equal(labels[2], cv2.resize(_label(2), (32, 24), interpolation=cv2.INTER_NEAREST))
    assert (labels[1] == 255).all() and (labels[3] == 255).all()   # unlabelled: void


def test_frames_folder_of_another_aspect_is_cropped_like_training_data(tmp_path):
    """The data layer's default policy (crop): a 1:4 camera sees the centred band of a 3:4 frame,
    so neither the sky rows on top nor the car rows at the bottom."""
    from dedelayed_bringup.synthetic_camera_node import load_frames_drive, open_frames_folder

    _write_folder(tmp_path)
    folder, _ = open_frames_folder("frames", str(tmp_path))
    _, labels = load_frames_drive(folder, 16, 64)
    assert set(np.unique(labels[0])) == {ROAD, 255}
    _, squashed = load_frames_drive(folder, 16, 64, resize="squash")
    assert {SKY, CAR} <= set(np.unique(squashed[0]))


def test_frames_folder_fps_override_beats_dataset_yaml(tmp_path):
    from dedelayed_bringup.synthetic_camera_node import open_frames_folder

    _write_folder(tmp_path)
    assert open_frames_folder("frames", str(tmp_path), fps=20.0)[0].fps == 20.0


def test_frames_folder_without_a_frame_rate_names_the_fix(tmp_path):
    from dedelayed_bringup.synthetic_camera_node import open_frames_folder

    _write_folder(tmp_path, fps=0)
    with pytest.raises(ValueError, match=r"does not state its frame rate: give frames_fps .*dataset\.yaml"):
        open_frames_folder("frames", str(tmp_path))
    with pytest.raises(ValueError, match="unknown; choose one of"):
        open_frames_folder("video", str(tmp_path), fps=10.0)


def test_shared_camvid_clip_plays_as_trainids():
    from dedelayed_bringup.synthetic_camera_node import load_frames_drive, open_frames_folder
    from dedelayed_models.data import camvid_shared_root
    from dedelayed_models.data.labels import read_label_file

    root = camvid_shared_root()
    if not (root / "frames").is_dir():
        pytest.skip(f"{root} is absent: the shared labelled CamVid clip is not on this machine")
    folder, spec = open_frames_folder("camvid")
    assert folder.num_frames == 101 and folder.fps == 15.0
    assert list(folder.labeled_frames) == list(range(101))
    assert len(spec.class_names) == 11 and "road" in spec.class_names and "rider" not in spec.class_names
    images, labels = load_frames_drive(folder, 360, 480)     # native size: no resize
    assert images.shape == (101, 360, 480, 3) and labels.dtype == np.uint8
    camvid_trainids = {10, 2, 5, 0, 1, 8, 7, 4, 13, 11, 18, 255}
    assert set(np.unique(labels)) <= camvid_trainids
    raw = read_label_file(folder._label_paths[0])             # CamVid ids (dataset README)
    for camvid_id, train_id in ((0, SKY), (3, ROAD), (8, CAR), (11, 255)):
        assert (labels[0][raw == camvid_id] == train_id).all(), camvid_id
    assert not any((label == 255).all() for label in labels)  # every frame labelled


def test_camera_node_loops_a_folder_and_logs_each_frame(tmp_path, ros_domain_id):
    """The running node: 3 frames played twice at the overridden rate; every ground truth is the
    frame's label (void where none), and the frame log names each stamp's frame and loop."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from dedelayed_bringup.synthetic_camera_node import GROUND_TRUTH_QOS, SyntheticCamera, read_frame_log

    _write_folder(tmp_path / "clip", num_frames=3, labelled=(0, 2))
    log_path = tmp_path / "frames.csv"
    params = {"frames_source": "frames", "frames_root": str(tmp_path / "clip"), "frames_fps": 20.0,
              "loops": 2, "height": 24, "width": 32, "min_subscribers": 1, "start_delay_s": 0.5,
              "frame_log_path": str(log_path)}
    args = ["--ros-args", *(a for k, v in params.items() for a in ("-p", f"{k}:={v}"))]
    rclpy.init(args=args, domain_id=ros_domain_id)
    try:
        received = []
        listener = Node("frames_listener")
        listener.create_subscription(Image, "/camera/image_raw", lambda m: None, qos_profile_sensor_data)
        listener.create_subscription(Image, "/camera/ground_truth", received.append, GROUND_TRUTH_QOS)
        camera = SyntheticCamera()
        assert camera.fps == 20.0 and camera.num_frames == 6
        executor = SingleThreadedExecutor()
        executor.add_node(listener)
        deadline = time.monotonic() + 30.0
        while len(received) < 6 and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.1)
        camera.destroy_node()
        listener.destroy_node()
    finally:
        rclpy.try_shutdown()
    assert len(received) == 6
    log = read_frame_log(str(log_path))
    shown = [log[round(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9, 6)] for m in received]
    assert shown == [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    for (frame, _), msg in zip(shown, received):
        label = np.frombuffer(bytes(msg.data), np.uint8).reshape(24, 32)
        expected = (cv2.resize(_label(frame), (32, 24), interpolation=cv2.INTER_NEAREST)
                    if frame in (0, 2) else np.full((24, 32), 255, np.uint8))
        assert np.array_equal(label, expected), frame
