"""Uplink node: camera frames -> remote resolution -> WebP (quality 85) -> the cloud.

The header (stamp and frame_id) is the camera's, untouched: the cloud echoes that stamp in its
FeatureMaps, which is how the robot measures the delay tau on its own clock.

The callback only hands the frame to an encoder thread at a lower CPU priority
(``encoder_nice``) with a newest-only slot (dedelayed_models.newest_only): in the robot process
the executor and the CPU stay with the segmenter, and a frame that waits while the previous one
is encoded is replaced by the newer one (``frames_superseded``), never queued.
"""

import time
from typing import Optional

from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image

import cv2
import numpy as np

from dedelayed_link import CAMERA_TOPIC, UPLINK

from dedelayed_local import qos
from dedelayed_local.echo_ledger import UplinkLedger
from dedelayed_local.image_codec import ImageDecodeError, image_msg_to_rgb
from dedelayed_link.params import Parameter, declare_parameters
from dedelayed_models.data.uplink import WEBP_QUALITY, encode_uplink
from dedelayed_models.episode_log import EpisodeLog
from dedelayed_models.newest_only import NewestOnlyWorker

UPLINK_FORMAT = "rgb8; webp compressed rgb8"

PARAMETERS = (
    Parameter("image_topic", CAMERA_TOPIC, "camera input (sensor_msgs/Image)"),
    Parameter("uplink_topic", UPLINK.name, "WebP frames to the cloud"),
    Parameter("remote_height", 0, "frame height sent to the cloud [px] (the remote model's input); "
                                  "0 = the robot checkpoint's remote input"),
    Parameter("remote_width", 0, "frame width sent to the cloud [px]; 0 = the robot checkpoint's "
                                 "remote input"),
    Parameter("webp_quality", WEBP_QUALITY, "WebP quality 0-100 (paper: 85)"),
    Parameter("max_rate_hz", 0.0, "uplink at most this many frames per second; 0 = every frame"),
    Parameter("encoder_nice", 10,
              "CPU priority of the uplink's encoder thread below the segmenter's (Linux nice increment, "
              "0-19); 0 = the same priority"),
)


class UplinkNode(Node):
    def __init__(self, remote_hw=(0, 0), ledger: Optional[UplinkLedger] = None, **kwargs):
        """remote_hw: (H, W) [px] the robot's checkpoint says its remote model takes, used where
        remote_height / remote_width are 0. ledger: the robot link's record of uplinked stamps
        (the only ones a cloud may echo), when the uplink runs in the robot process."""
        super().__init__("dedelayed_uplink", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        for key, size in zip(("remote_height", "remote_width"), remote_hw):
            self.params[key] = self.params[key] or int(size)
        if min(self.params["remote_height"], self.params["remote_width"]) <= 0:
            raise ValueError(
                f"remote_height {self.params['remote_height']} x remote_width "
                f"{self.params['remote_width']}: 0 means the robot checkpoint's remote input, "
                "which only the `robot` executable (it loads the checkpoint) knows; give both "
                "as the cloud model's input size [px]")
        if not 0 <= self.params["webp_quality"] <= 100:
            raise ValueError(f"webp_quality {self.params['webp_quality']} must be within 0-100")
        self._min_period_s = (1.0 / self.params["max_rate_hz"]) if self.params["max_rate_hz"] > 0 else 0.0
        self._last_sent = -float("inf")
        if not 0 <= self.params["encoder_nice"] <= 19:
            raise ValueError(f"encoder_nice {self.params['encoder_nice']} must be within 0-19")
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)
        self.ledger = ledger
        self._pub = self.create_publisher(CompressedImage, self.params["uplink_topic"], qos.SENSOR)
        self._encoder = NewestOnlyWorker(
            self._encode_and_send, name="uplink_encoder", nice=self.params["encoder_nice"],
            on_error=lambda e: self.episodes.event("uplink_failed", f"{type(e).__name__}: {e}"),
            warm_up=self._warm_up)
        self.create_subscription(Image, self.params["image_topic"], self._on_image, qos.SENSOR)
        self.create_timer(1.0, self.episodes.flush)

    def _warm_up(self) -> None:
        """Encoder thread, before it lowers its priority: OpenCV creates its thread pool."""
        height, width = self.params["remote_height"], self.params["remote_width"]
        rgb = cv2.resize(np.zeros((2 * height, 2 * width, 3), np.uint8), (width, height),
                         interpolation=cv2.INTER_AREA)
        encode_uplink(rgb, self.params["webp_quality"])

    @property
    def frames_superseded(self) -> int:
        return self._encoder.superseded

    def _on_image(self, msg: Image) -> None:
        now = time.monotonic()
        if now - self._last_sent < self._min_period_s:
            return
        self._last_sent = now
        self._encoder.submit(msg)

    def _encode_and_send(self, msg: Image) -> None:
        """Encoder thread: camera frame -> remote size -> WebP -> publish."""
        try:
            rgb = image_msg_to_rgb(msg)
        except ImageDecodeError as error:
            self.episodes.event("camera_frame_refused", f"not uplinking a frame: {error}")
            return
        size = (self.params["remote_width"], self.params["remote_height"])
        if rgb.shape[1::-1] != size:
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        out = CompressedImage()
        out.header = msg.header
        out.format = UPLINK_FORMAT
        out.data = encode_uplink(rgb, self.params["webp_quality"])
        if self.ledger is not None:  # recorded before it is sent: an answer may come at once
            self.ledger.record(msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec)
        self._pub.publish(out)

    def destroy_node(self):
        self._encoder.stop()
        return super().destroy_node()
