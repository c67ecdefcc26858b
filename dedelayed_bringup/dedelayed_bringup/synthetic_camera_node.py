"""`synthetic_camera`: plays the synthetic world, a video or a frames folder as a camera, in real time.

    out  camera/image_raw        sensor_msgs/Image rgb8, header.stamp = robot clock at publish
    out  camera/ground_truth     sensor_msgs/Image mono8 trainIds (exact labels), same header
    (fixed relative names: /camera/... in the root namespace; rename them by remapping)

The whole drive is rendered before the first frame goes out (about 10 ms per frame here), so
rendering time never moves a stamp and never competes for the CPU with the robot during the
drive. Frames go out from one thread that sleeps until each frame's due time (start + i / fps);
a frame that is late (a loaded machine) is still sent, stamped when it is actually sent, since
the stamp is the capture time the robot's timing rules rely on. A frame more than one period
late is logged once per episode and counted in /diagnostics (``frames_late``). The ground truth of a frame is
published right after the frame with the identical header, so a recorder can pair them exactly.

    python -m dedelayed_bringup.synthetic_camera_node --ros-args -p seed:=1000000 -p fps:=30.0

With ``video_path`` set it plays that video instead (decoded with OpenCV and resized to
width x height); ``label_dir`` is its BDD100K-style pseudo-label folder (<frame:06d>.png
trainIds, frames may be sparse): unlabeled frames publish an all-void (255) ground truth, which
every evaluator here ignores.

With ``frames_source`` set it plays a folder of frames in one of the project's real-data
layouts, read by the data layer (``dedelayed_models.data.open_sources``, no second reader):
``camvid`` (``frames/`` + ``labels/``, CamVid's 11-class ids converted to trainIds; no
``frames_root`` = the shared 0016E5 clip) or ``frames`` (``frames/`` + optional sparse
``labels/``, trainIds unless ``dataset.yaml`` says otherwise). It plays at the folder's own
frame rate (``dataset.yaml`` ``fps:``, 15 for CamVid; ``frames_fps`` overrides, and a folder
that states none needs it), ``loops`` times over; frames are fitted to width x height by the
data layer's ``resize`` policy (``crop`` by default: centred window of the camera's aspect).

    python -m dedelayed_bringup.synthetic_camera_node --ros-args -p frames_source:=camvid \
        -p width:=640 -p height:=480 -p loops:=3

``frame_log_path`` writes which source frame each published stamp showed (CSV), so a scorer
can restrict figures to some frames of the clip (the demo: CamVid's held-out frames).
"""

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image

from dedelayed_link import CAMERA_OUTPUT, DIAGNOSTICS_TOPIC, GROUND_TRUTH_OUTPUT
from dedelayed_link.params import Parameter, declare_parameters
from dedelayed_link.ros_main import run_nodes
from dedelayed_local.image_codec import fill_image_msg
from dedelayed_models.data import WorldSequence, world_seeds
from dedelayed_models.data.resize import DEFAULT_RESIZE
from dedelayed_models.episode_log import EpisodeLog

NODE_NAME = "synthetic_camera"
# (name, default, description); one place for the node's parameters.
PARAMETERS = (
    Parameter("seed", world_seeds("val", 1)[0], "world seed; default = the first validation seed, "
                                                "never seen in training"),
    Parameter("motion", 1.0, "world motion knob (1 = calibrated; 2 = everything moves twice as fast)"),
    Parameter("fps", 30.0, "frames per second, played in real time [Hz] (world and video file; a "
                           "frames folder plays at its own rate, see frames_fps)"),
    Parameter("width", 256, "camera image width [px]"),
    Parameter("height", 128, "camera image height [px]"),
    Parameter("duration_s", 10.0, "length of the drive [s] (world and video file; a frames folder "
                                  "plays all its frames); the node keeps running afterwards"),
    Parameter("min_subscribers", 0, "before playing, wait (up to 60 s) for this many camera subscribers "
                                    "and one ground-truth subscriber, so no frame goes out unseen"),
    Parameter("start_delay_s", 0.0, "then wait this long before the first frame [s] (matching settles)"),
    Parameter("frame_id", "camera", "header.frame_id of every frame"),
    Parameter("video_path", "", "play this video file instead of the synthetic world; empty = the world"),
    Parameter("label_dir", "", "the video's label folder (<frame:06d>.png trainIds); empty = no labels"),
    Parameter("frames_source", "", "play a folder of frames instead of the world: 'camvid' (CamVid "
                                   "layout, 11-class labels) or 'frames' (frames/ + optional labels/, "
                                   "trainIds unless its dataset.yaml says); empty = the world"),
    Parameter("frames_root", "", "that folder (frames/ + labels/, optional dataset.yaml); empty with "
                                 "'camvid' = the shared clip ../shared/data/camvid-0016E5-val"),
    Parameter("frames_fps", 0.0, "the frames folder's rate, played in real time [Hz]; 0 = its own "
                                 "(dataset.yaml fps:, 15 for CamVid), required if it states none"),
    Parameter("resize", DEFAULT_RESIZE, "how a folder frame of another aspect ratio becomes width x "
                                        "height: crop | squash | pad (dedelayed_models/data/resize.py)"),
    Parameter("loops", 1, "play the prepared frames this many times over, back to back (a short "
                          "clip made a longer drive)"),
    Parameter("frame_log_path", "", "write one CSV line per published frame here (stamp sec, nanosec, "
                                    "source frame, loop); empty = none"),
    Parameter("diagnostics_period_s", 1.0, "period of /diagnostics (frames sent, frames late) [s]"),
)
# Ground truth is for evaluation: reliable, so a recorder never misses an instant.
GROUND_TRUTH_QOS = QoSProfile(depth=30, reliability=ReliabilityPolicy.RELIABLE,
                              history=HistoryPolicy.KEEP_LAST)
FRAMES_SOURCES = ("camvid", "frames")   # the data layer's frames-folder sources (data/datasets.py)
FRAME_LOG_HEADER = "stamp_sec,stamp_nanosec,frame,loop"


def render_drive(seed: int, motion: float, fps: float, num_frames: int, height: int, width: int):
    """(images (N, H, W, 3) uint8 RGB, labels (N, H, W) uint8 trainIds) of one drive."""
    world = WorldSequence(seed, num_frames=num_frames, motion=motion, fps=fps,
                          camera_hw=(height, width), cache_size=1)
    images = np.empty((num_frames, height, width, 3), np.uint8)
    labels = np.empty((num_frames, height, width), np.uint8)
    for t in range(num_frames):
        images[t], labels[t] = world.render(t, height, width)
    return images, labels


def load_video_drive(video_path: str, label_dir: str, num_frames: int, height: int, width: int):
    """Like render_drive, from a video file: (images, labels), labels 255 where none exists."""
    from dedelayed_models.classes import IGNORE_ID
    from dedelayed_models.data.bdd import BDDVideo

    video = BDDVideo(video_path, label_dir or "/nonexistent-label-dir")
    count = min(num_frames, video.num_frames)
    images = np.stack([video.frame(t, (height, width)) for t in range(count)])
    labels = np.full((count, height, width), IGNORE_ID, np.uint8)
    for t in video.labeled_frames:
        if t < count:
            labels[t] = video.label(t, (height, width))
    return images, labels


def open_frames_folder(source: str, root: str = "", fps: float = 0.0, fps_option: str = "frames_fps"):
    """(frame source, DataSpec) of a frames folder, opened by the data layer as its 'val' role
    (every frame): ``source`` 'camvid' or 'frames'; ``root`` '' = the source's default (CamVid:
    the shared 0016E5 clip); ``fps`` > 0 overrides the folder's rate [Hz]. ``fps_option`` names the
    setting to give in the error for a folder that states no rate."""
    from dedelayed_models.data.datasets import DATASET_YAML, open_sources, read_dataset_yaml
    from dedelayed_models.train.config import data_section

    if source not in FRAMES_SOURCES:
        raise ValueError(f"frames source {source!r} unknown; choose one of {list(FRAMES_SOURCES)}")
    folder = Path(os.path.expanduser(root)) if root else None
    if source == "frames" and not fps and folder is not None and folder.is_dir() \
            and not read_dataset_yaml(folder).get("fps"):
        raise ValueError(f"{folder} does not state its frame rate: give {fps_option} (e.g. 15 for a "
                         f"15 fps clip) or write 'fps: 15' in {folder / DATASET_YAML}")
    d = data_section(source)
    d["root"] = root or None
    d["fps"] = float(fps) if fps else None
    sources, spec = open_sources(d, "val")
    if len(sources) != 1:
        raise ValueError(f"{spec.root}: {len(sources)} sequences; the camera plays one folder")
    return sources[0], spec


def load_frames_drive(folder, height: int, width: int, resize: str = DEFAULT_RESIZE):
    """Every frame of a frames folder (a data-layer frame source) at the camera size:
    (images (N, height, width, 3) uint8 RGB, labels (N, height, width) uint8 trainIds, 255 where
    a frame has no label). Frames and labels are fitted alike by the data layer's ``resize``
    policy (crop | squash | pad), from their native resolution."""
    from dedelayed_models.classes import IGNORE_ID
    from dedelayed_models.data.resize import fit_image, fit_label

    size_hw = (int(height), int(width))
    images = np.stack([fit_image(folder.frame(t), size_hw, resize) for t in range(folder.num_frames)])
    labels = np.full((folder.num_frames, *size_hw), IGNORE_ID, np.uint8)
    for t in folder.labeled_frames:
        labels[t] = fit_label(folder.label(t), size_hw, resize)
    return images, labels


def read_frame_log(path: str) -> dict:
    """A ``frame_log_path`` file: {stamp [s] rounded to 1 us: (source frame, loop)}. The stamp is
    computed as the recorder computes it from a header (sec + nanosec * 1e-9), so keys match."""
    out = {}
    with open(path) as f:
        header = f.readline().strip()
        if header != FRAME_LOG_HEADER:
            raise ValueError(f"{path}: first line {header!r} is not a camera frame log "
                             f"({FRAME_LOG_HEADER!r})")
        for line in f:
            sec, nanosec, frame, loop = (int(v) for v in line.split(","))
            out[round(sec + nanosec * 1e-9, 6)] = (frame, loop)
    return out


def _image(pixels: np.ndarray, encoding: str, header) -> Image:
    msg = fill_image_msg(Image(), pixels, encoding)
    msg.header = header
    return msg


class SyntheticCamera(Node):
    def __init__(self):
        super().__init__(NODE_NAME)
        p = declare_parameters(self, PARAMETERS)
        if p["fps"] <= 0 or p["duration_s"] <= 0 or p["width"] < 8 or p["height"] < 8:
            raise ValueError(f"fps={p['fps']} duration_s={p['duration_s']} width={p['width']} "
                             f"height={p['height']}: fps and duration must be > 0, sizes >= 8 px")
        if p["loops"] < 1:
            raise ValueError(f"loops={p['loops']}: play the frames at least once (loops >= 1)")
        self.params = p
        start = time.perf_counter()
        self.images, self.labels, self.fps, source = self._prepare(p)
        self.num_frames = len(self.images) * int(p["loops"])     # frames played
        self.get_logger().info(
            f"prepared {len(self.images)} frames of {source} at {p['width']}x{p['height']} in "
            f"{time.perf_counter() - start:.1f} s, to be played {p['loops']} time(s) at "
            f"{self.fps:g} fps")   # not "playing": the demo waits for that word (first frame)
        self._frame_log = self._open_frame_log(p["frame_log_path"])
        self._image_pub = self.create_publisher(Image, CAMERA_OUTPUT, qos_profile_sensor_data)
        self._truth_pub = self.create_publisher(Image, GROUND_TRUTH_OUTPUT, GROUND_TRUTH_QOS)
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)
        self.frames_sent = self.frames_late = 0
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self.create_timer(float(p["diagnostics_period_s"]), self._publish_diagnostics)
        self._stop = threading.Event()
        self._player = threading.Thread(target=self._play, name="camera_player", daemon=True)
        self._player.start()

    def _prepare(self, p):
        """(images (N, H, W, 3), labels (N, H, W), played rate [Hz], description) of the source."""
        height, width = int(p["height"]), int(p["width"])
        num_frames = max(1, int(round(p["fps"] * p["duration_s"])))
        if p["frames_source"]:
            folder, _ = open_frames_folder(p["frames_source"], p["frames_root"], p["frames_fps"])
            images, labels = load_frames_drive(folder, height, width, p["resize"])
            return (images, labels, float(folder.fps),
                    f"{p['frames_source']} folder {folder.root} ({len(folder.labeled_frames)} labelled)")
        if p["video_path"]:
            images, labels = load_video_drive(p["video_path"], p["label_dir"], num_frames, height, width)
            return images, labels, float(p["fps"]), f"video {p['video_path']}"
        images, labels = render_drive(int(p["seed"]), float(p["motion"]), float(p["fps"]),
                                      num_frames, height, width)
        return images, labels, float(p["fps"]), f"world seed {p['seed']} (motion {p['motion']})"

    @staticmethod
    def _open_frame_log(path: str):
        """The frame log file, header written ('' = None); an error naming an unwritable path."""
        if not path:
            return None
        try:
            handle = open(path, "w")
        except OSError as exc:
            raise ValueError(f"frame_log_path {path!r}: cannot write it ({exc.strerror}); give a "
                             "path in an existing, writable folder, or '' for no log") from exc
        handle.write(FRAME_LOG_HEADER + "\n")
        return handle

    def _play(self) -> None:
        p = self.params
        deadline = time.monotonic() + 60.0
        while p["min_subscribers"] > 0 and (
                self._image_pub.get_subscription_count() < p["min_subscribers"]
                or self._truth_pub.get_subscription_count() < 1):
            if time.monotonic() > deadline:
                self.get_logger().warning(
                    f"only {self._image_pub.get_subscription_count()} camera subscriber(s) after "
                    f"60 s (wanted {p['min_subscribers']}); playing anyway")
                break
            if self._stop.wait(0.05):
                return
        if self._stop.wait(float(p["start_delay_s"])):
            return
        period_s = 1.0 / self.fps
        self.get_logger().info(f"playing {self.num_frames} frames at {self.fps:g} fps on "
                               f"{self._image_pub.topic_name}")
        start = time.monotonic()
        worst_late_ms = 0.0
        for t in range(self.num_frames):
            due = start + t * period_s
            if self._stop.wait(max(0.0, due - time.monotonic())):
                return
            late_ms = (time.monotonic() - due) * 1e3
            worst_late_ms = max(worst_late_ms, late_ms)
            if late_ms > period_s * 1e3:
                self.frames_late += 1
                self.episodes.event("frame_late", f"frame {t} went out {late_ms:.0f} ms after its "
                                    "due time (the camera process is short of CPU)")
            header = Image().header
            header.stamp = self.get_clock().now().to_msg()   # capture time on the robot clock
            header.frame_id = p["frame_id"]
            loop, frame = divmod(t, len(self.images))
            self._image_pub.publish(_image(self.images[frame], "rgb8", header))
            self._truth_pub.publish(_image(self.labels[frame], "mono8", header))
            self.frames_sent += 1
            if self._frame_log:
                self._frame_log.write(f"{header.stamp.sec},{header.stamp.nanosec},{frame},{loop}\n")
                self._frame_log.flush()     # complete even if the process is killed afterwards
        self.get_logger().info(f"drive finished: {self.num_frames} frames in "
                               f"{time.monotonic() - start:.1f} s (latest frame "
                               f"{worst_late_ms:.1f} ms behind its due time)")

    def _publish_diagnostics(self) -> None:
        self.episodes.flush()
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN if self.episodes.is_open("frame_late") else DiagnosticStatus.OK,
            name=f"{self.get_fully_qualified_name()}: camera",
            message="frames late" if self.episodes.is_open("frame_late") else "ok",
            values=[KeyValue(key="frames_sent", value=str(self.frames_sent)),
                    KeyValue(key="frames_late", value=str(self.frames_late)),
                    KeyValue(key="frames_total", value=str(self.num_frames))])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics_pub.publish(array)

    def destroy_node(self):
        self._stop.set()
        self._player.join(timeout=2.0)
        if self._frame_log:
            self._frame_log.close()
        return super().destroy_node()


def main(args=None) -> int:
    return run_nodes(lambda: [SyntheticCamera()], name=NODE_NAME, args=args)


if __name__ == "__main__":
    sys.exit(main())
