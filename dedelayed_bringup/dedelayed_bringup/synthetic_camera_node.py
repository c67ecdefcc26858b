"""`synthetic_camera`: plays a drive of the synthetic world (or a video file) as a camera, in real time.

    out  /camera/image_raw       sensor_msgs/Image rgb8, header.stamp = robot clock at publish
    out  /camera/ground_truth    sensor_msgs/Image mono8 trainIds (exact labels), same header

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
"""

import sys
import threading
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import Image

from dedelayed_link import CAMERA_TOPIC, DIAGNOSTICS_TOPIC
from dedelayed_link.params import Parameter, declare_parameters
from dedelayed_link.ros_main import run_nodes
from dedelayed_local.image_codec import fill_image_msg
from dedelayed_models.data import WorldSequence, world_seeds
from dedelayed_models.episode_log import EpisodeLog

NODE_NAME = "synthetic_camera"
# (name, default, description); one place for the node's parameters.
PARAMETERS = (
    Parameter("seed", world_seeds("val", 1)[0], "world seed; default = the first validation seed, "
                                                "never seen in training"),
    Parameter("motion", 1.0, "world motion knob (1 = calibrated; 2 = everything moves twice as fast)"),
    Parameter("fps", 30.0, "frames per second, played in real time [Hz]"),
    Parameter("width", 256, "camera image width [px]"),
    Parameter("height", 128, "camera image height [px]"),
    Parameter("duration_s", 10.0, "length of the drive [s]; the node keeps running afterwards"),
    Parameter("min_subscribers", 0, "before playing, wait (up to 60 s) for this many camera subscribers "
                                    "and one ground-truth subscriber, so no frame goes out unseen"),
    Parameter("start_delay_s", 0.0, "then wait this long before the first frame [s] (matching settles)"),
    Parameter("frame_id", "camera", "header.frame_id of every frame"),
    Parameter("video_path", "", "play this video file instead of the synthetic world; empty = the world"),
    Parameter("label_dir", "", "the video's label folder (<frame:06d>.png trainIds); empty = no labels"),
    Parameter("image_topic", CAMERA_TOPIC, "camera output (rgb8)"),
    Parameter("ground_truth_topic", "/camera/ground_truth", "exact labels output (mono8 trainIds)"),
    Parameter("diagnostics_period_s", 1.0, "period of /diagnostics (frames sent, frames late) [s]"),
)
# Ground truth is for evaluation: reliable, so a recorder never misses an instant.
GROUND_TRUTH_QOS = QoSProfile(depth=30, reliability=ReliabilityPolicy.RELIABLE,
                              history=HistoryPolicy.KEEP_LAST)


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
        self.params = p
        self.num_frames = max(1, int(round(p["fps"] * p["duration_s"])))
        start = time.perf_counter()
        if p["video_path"]:
            self.images, self.labels = load_video_drive(p["video_path"], p["label_dir"],
                                                        self.num_frames, int(p["height"]),
                                                        int(p["width"]))
            self.num_frames = len(self.images)
            source = f"video {p['video_path']}"
        else:
            self.images, self.labels = render_drive(int(p["seed"]), float(p["motion"]),
                                                    float(p["fps"]), self.num_frames,
                                                    int(p["height"]), int(p["width"]))
            source = f"world seed {p['seed']} (motion {p['motion']})"
        self.get_logger().info(
            f"prepared {self.num_frames} frames of {source} at {p['width']}x{p['height']} in "
            f"{time.perf_counter() - start:.1f} s")
        self._image_pub = self.create_publisher(Image, p["image_topic"], qos_profile_sensor_data)
        self._truth_pub = self.create_publisher(Image, p["ground_truth_topic"], GROUND_TRUTH_QOS)
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)
        self.frames_sent = self.frames_late = 0
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self.create_timer(float(p["diagnostics_period_s"]), self._publish_diagnostics)
        self._stop = threading.Event()
        self._player = threading.Thread(target=self._play, name="camera_player", daemon=True)
        self._player.start()

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
        period_s = 1.0 / float(p["fps"])
        self.get_logger().info(f"playing {self.num_frames} frames at {p['fps']:g} fps on "
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
            self._image_pub.publish(_image(self.images[t], "rgb8", header))
            self._truth_pub.publish(_image(self.labels[t], "mono8", header))
            self.frames_sent += 1
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
        return super().destroy_node()


def main(args=None) -> int:
    return run_nodes(lambda: [SyntheticCamera()], name=NODE_NAME, args=args)


if __name__ == "__main__":
    sys.exit(main())
