"""Uplink node: camera frames -> remote resolution -> WebP (quality 85) -> the cloud.

The header (stamp and frame_id) is the camera's, untouched: the cloud echoes that stamp in its
FeatureMaps, which is how the robot measures the delay tau on its own clock.

The callback only hands the frame to an encoder thread at a lower CPU priority
(``encoder_nice``) with a newest-only slot (dedelayed_models.newest_only): in the robot process
the executor and the CPU stay with the segmenter, and a frame that waits while the previous one
is encoded is replaced by the newer one (``frames_superseded``), never queued.

Topics (fixed relative names, renamed by remapping): in ``image``, out
``dedelayed/uplink/compressed``. A managed node: configure checks the sizes and starts the
encoder thread, activate subscribes to the camera, cleanup stops the encoder.
"""

import time
from typing import Optional

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from dedelayed_link import IMAGE_INPUT, UPLINK
from dedelayed_link.managed import ManagedNode
from dedelayed_link.params import AUTOSTART_PARAMETER, Parameter, declare_parameters
from dedelayed_link.stamps import stamp_to_ns
from dedelayed_local import qos
from dedelayed_local.image_codec import ImageDecodeError, image_msg_to_rgb
from dedelayed_local.robot_link import LinkSlot
from dedelayed_models.data.uplink import WEBP_QUALITY, encode_uplink
from dedelayed_models.episode_log import EpisodeLog
from dedelayed_models.newest_only import NewestOnlyWorker

UPLINK_FORMAT = "rgb8; webp compressed rgb8"

PARAMETERS = (
    Parameter("remote_height", 0, "frame height sent to the cloud [px] (the remote model's input); "
                                  "0 = the robot checkpoint's remote input"),
    Parameter("remote_width", 0, "frame width sent to the cloud [px]; 0 = the robot checkpoint's "
                                 "remote input"),
    Parameter("webp_quality", WEBP_QUALITY, "WebP quality 0-100 (paper: 85)"),
    Parameter("max_rate_hz", 0.0, "uplink at most this many frames per second; 0 = every frame"),
    Parameter("encoder_nice", 10,
              "CPU priority of the uplink's encoder thread below the segmenter's (Linux nice increment, "
              "0-19); 0 = the same priority"),
    AUTOSTART_PARAMETER,
)


class UplinkNode(ManagedNode):
    """Camera frames to the cloud; a managed node (see the module docstring)."""

    def __init__(self, slot: Optional[LinkSlot] = None, **kwargs):
        """slot: the robot process's RobotLink, when the uplink runs in the robot process: its
        remote input size is used where remote_height / remote_width are 0, and every stamp
        sent goes into its ledger (the only stamps a cloud may echo)."""
        super().__init__("dedelayed_uplink", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.slot = slot
        self._encoder = None
        self._last_sent = -float("inf")
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)

    def configure(self) -> None:
        """Check the sizes and rates, start the encoder thread."""
        p = self.params
        remote_hw = self.slot.require("the uplink node").remote_hw if self.slot else (0, 0)
        self.remote_hw = tuple(given or int(size) for given, size in
                               zip((p["remote_height"], p["remote_width"]), remote_hw))
        if min(self.remote_hw) <= 0:
            raise ValueError(
                f"remote_height {p['remote_height']} x remote_width {p['remote_width']}: 0 "
                "means the robot checkpoint's remote input, which only the `robot` executable "
                "(it loads the checkpoint) knows; give both as the cloud model's input size [px]")
        if not 0 <= p["webp_quality"] <= 100:
            raise ValueError(f"webp_quality {p['webp_quality']} must be within 0-100")
        if not 0 <= p["encoder_nice"] <= 19:
            raise ValueError(f"encoder_nice {p['encoder_nice']} must be within 0-19")
        self._min_period_s = (1.0 / p["max_rate_hz"]) if p["max_rate_hz"] > 0 else 0.0
        self._pub = self.output(CompressedImage, UPLINK.name, qos.SENSOR)
        self._encoder = NewestOnlyWorker(
            self._encode_and_send, name="uplink_encoder", nice=p["encoder_nice"],
            on_error=lambda e: self.episodes.event("uplink_failed", f"{type(e).__name__}: {e}"),
            warm_up=self._warm_up)

    def activate(self) -> None:
        camera = self.while_active(self.create_subscription(Image, IMAGE_INPUT, self._on_image,
                                                            qos.SENSOR))
        self.while_active(self.create_timer(1.0, self.episodes.flush))
        self.get_logger().info(f"uplinking {camera.topic_name} at {self.remote_hw[1]}x"
                               f"{self.remote_hw[0]} to {self._pub.topic_name}")

    def cleanup(self) -> None:
        self._encoder.stop()
        self._encoder = None

    def _warm_up(self) -> None:
        """Encoder thread, before it lowers its priority: OpenCV creates its thread pool."""
        height, width = self.remote_hw
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
        size = self.remote_hw[::-1]
        if rgb.shape[1::-1] != size:
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        out = CompressedImage()
        out.header = msg.header
        out.format = UPLINK_FORMAT
        out.data = encode_uplink(rgb, self.params["webp_quality"])
        link = self.slot.link if self.slot else None
        if link is not None:  # recorded before it is sent: an answer may come at once
            link.ledger.record(stamp_to_ns(msg.header.stamp))
        self._pub.publish(out)
