"""Local segmenter node: segments every fresh camera frame, fused with the newest valid remote
features the robot's link state holds (robot_link.py, filled by the fusion node), local-only
otherwise. Never waits for the cloud.

Topics (fixed relative names, renamed by remapping): in ``image`` (sensor_msgs/Image); out
``dedelayed/segmentation`` (mono8 trainIds, header of the frame described), an overlay (rgb8),
optionally the same frame's local-only result (for side-by-side evaluation), the class names
once (latched) and /diagnostics. Camera frames lost before the callback (queue overflow,
transport) are counted from the camera stamps (frame_loss.py) and the middleware's sample-lost
event; trouble is logged once per episode (dedelayed_models.episode_log).

A managed node (dedelayed_link.managed): configure loads the model and its backend and builds
the process's RobotLink in the LinkSlot it shares with the fusion and uplink nodes; activate
subscribes to the camera; cleanup frees the model.
"""

import json
import time
from typing import Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.event_handler import SubscriptionEventCallbacks
from sensor_msgs.msg import Image
from std_msgs.msg import String

from dedelayed_link import (
    CLASS_NAMES_TOPIC,
    DIAGNOSTICS_TOPIC,
    IMAGE_INPUT,
    LOCAL_ONLY_TOPIC,
    OVERLAY_TOPIC,
    SEGMENTATION_TOPIC,
)
from dedelayed_link.managed import ManagedNode
from dedelayed_link.params import AUTOSTART_PARAMETER, Parameter, declare_parameters
from dedelayed_link.stamps import stamp_to_ns
from dedelayed_local import qos
from dedelayed_local.backends import BACKENDS, create_backend
from dedelayed_local.delay_tracking import ModeEpisodes
from dedelayed_local.frame_loss import FrameLossCounter
from dedelayed_local.image_codec import ImageDecodeError, fill_image_msg, image_msg_to_rgb
from dedelayed_local.robot_link import LinkSlot, RobotLink
from dedelayed_local.robot_model import RobotModel
from dedelayed_local.segmenter_core import LocalSegmenter, overlay
from dedelayed_local.stats import RateMeter, StageTimes
from dedelayed_models.classes import CLASS_NAMES, IGNORE_ID, PALETTE_RGB
from dedelayed_models.episode_log import EpisodeLog
from dedelayed_models.shipped import CHECKPOINT_CHOICES, DEFAULT_CHECKPOINT, resolve_checkpoint

PARAMETERS = (
    Parameter("checkpoint", DEFAULT_CHECKPOINT, f"local or dedelayed model: {CHECKPOINT_CHOICES}"),
    Parameter("preset", "small", "model preset of checkpoint 'random' (tiny/small/camvid/paper)"),
    Parameter("seed", 0, "seed of the weights of checkpoint 'random'"),
    Parameter("image_height", 0, "local model input height [px]; 0 = the checkpoint's"),
    Parameter("image_width", 0, "local model input width [px]; 0 = the checkpoint's"),
    Parameter("backend", "auto", "tensorrt, onnxruntime, torch, or auto (tensorrt if importable)"),
    Parameter("device", "cpu", "cpu or cuda (torch/onnxruntime backends)"),
    Parameter("cpu_threads", 0, "CPU threads of the onnxruntime/torch backends; 0 = the library's "
              "default (one per core); n = n threads that do not spin-wait, leaving CPU to the "
              "rest of the robot"),
    Parameter("onnx_path", "", "robot ONNX graph; empty = export from the checkpoint into cache_dir"),
    Parameter("engine_path", "", "TensorRT engine file; empty = cache_dir/<onnx hash, TRT, GPU>.engine"),
    Parameter("force_engine_rebuild", False, "rebuild the TensorRT engine even if a valid one is cached"),
    Parameter("fp16", True, "build the TensorRT engine with FP16 kernels where the GPU has them"),
    Parameter("cache_dir", "", "where exported ONNX graphs and engines are cached; empty = ~/.cache/dedelayed"),
    Parameter("output_size", "camera", "segmentation size: camera (pixel-aligned) or model (cheaper)"),
    Parameter("image_queue_depth", 5,
              "camera frames buffered while the model is busy (sensor QoS, best effort); raise it where "
              "every frame must be answered through CPU hiccups, at the cost of latency [frames]"),
    Parameter("camera_fps", 0.0,
              "the camera's frame rate [Hz], for counting camera frames lost before segmentation from "
              "gaps in their stamps; 0 = estimated from the stamps"),
    Parameter("publish_overlay", True, "publish the rgb8 overlay"),
    Parameter("publish_local_only", False, "also publish each frame's local-only result (costs a 2nd pass)"),
    Parameter("diagnostics_period_s", 1.0, "period of /diagnostics status [s]"),
    AUTOSTART_PARAMETER,
)


def _resolve_backend(name: str) -> str:
    if name != "auto":
        return name
    try:
        import pycuda.driver  # noqa: F401
        import tensorrt  # noqa: F401
        return "tensorrt"
    except ImportError:
        return "onnxruntime"


class LocalSegmenterNode(ManagedNode):
    """The robot's segmenter; a managed node (see the module docstring)."""

    def __init__(self, slot: LinkSlot, link_settings: Callable[[], dict] = dict, **kwargs):
        """slot: where this process keeps its RobotLink (shared with the fusion and uplink
        nodes); link_settings: the link's rules (FusionNode.link_settings), read at configure."""
        super().__init__("dedelayed_segmenter", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.slot, self._link_settings = slot, link_settings
        self.robot_model = self.backend = self.link = self.segmenter = None
        self.mode_episodes = ModeEpisodes()
        self.input_rate, self.output_rate = RateMeter(), RateMeter()
        self.stage_times = StageTimes()
        self._last_decision = None
        self._bad_frames = 0
        self._failed_frames = 0
        self.frames_segmented = 0
        self.samples_lost = 0          # the middleware's sample-lost event (where it reports it)
        self.frame_loss = FrameLossCounter(camera_fps=self.params["camera_fps"])
        self.episodes = EpisodeLog(warn=self.get_logger().warning, info=self.get_logger().info)

    def configure(self) -> None:
        """Load the model and its backend; build the process's RobotLink."""
        p = self.params
        image_hw = (p["image_height"], p["image_width"])
        path = resolve_checkpoint(p["checkpoint"])
        if path:
            self.robot_model = RobotModel.from_checkpoint(path, image_hw)
        else:
            self.robot_model = RobotModel.random(p["preset"], p["seed"], image_hw)
            self.get_logger().warning(
                f"checkpoint 'random': running UNTRAINED random weights of preset "
                f"'{p['preset']}' (seed {p['seed']}); give a trained checkpoint for real use")
        backend_name = _resolve_backend(p["backend"])
        if backend_name not in BACKENDS:
            raise ValueError(f"backend '{p['backend']}' is unknown; use one of {BACKENDS} or auto")
        self.backend = create_backend(
            backend_name, self.robot_model, device=p["device"], onnx_path=p["onnx_path"],
            engine_path=p["engine_path"], force_engine_rebuild=p["force_engine_rebuild"],
            fp16=p["fp16"], cache_dir=p["cache_dir"], cpu_threads=p["cpu_threads"])
        self.link = RobotLink.for_model(self.robot_model, robot=self.get_namespace(),
                                        **self._link_settings())
        self.segmenter = LocalSegmenter(self.backend, self.link, p["output_size"])  # checks the shape
        self.slot.install(self.link)
        self._seg_pub = self.output(Image, SEGMENTATION_TOPIC, qos.OUTPUT)
        self._overlay_pub = (self.output(Image, OVERLAY_TOPIC, qos.OUTPUT)
                             if p["publish_overlay"] else None)
        self._local_only_pub = (self.output(Image, LOCAL_ONLY_TOPIC, qos.OUTPUT)
                                if p["publish_local_only"] else None)
        self._diag_pub = self.output(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        self._names_pub = self.output(String, CLASS_NAMES_TOPIC, qos.LATCHED)
        self.get_logger().info(
            f"model {self.robot_model.local_identity} from {self.robot_model.source} on "
            f"{self.backend.name}; outputs {self._seg_pub.topic_name}")

    def activate(self) -> None:
        """Subscribe to the camera and segment over the link."""
        p = self.params
        # Frames in their own group so FeatureMap decoding (fusion node) runs beside them.
        subscription = self.while_active(self.create_subscription(
            Image, IMAGE_INPUT, self._on_image, qos.sensor_with_depth(p["image_queue_depth"]),
            callback_group=MutuallyExclusiveCallbackGroup(),
            event_callbacks=SubscriptionEventCallbacks(message_lost=self._on_samples_lost)))
        self.while_active(self.create_timer(p["diagnostics_period_s"], self._publish_diagnostics))
        self.get_logger().info(
            f"segmenting {subscription.topic_name} with {self.backend.name} at "
            f"{self.robot_model.image_hw[1]}x{self.robot_model.image_hw[0]} "
            f"(model {self.robot_model.local_identity} from {self.robot_model.source})")

    def on_activate(self, state):
        result = super().on_activate(state)
        if self.active:   # the latched class table, once the publishers are enabled
            self._names_pub.publish(String(data=json.dumps({
                "ignore_id": IGNORE_ID,
                "classes": [{"id": i, "name": n, "rgb": PALETTE_RGB[i].tolist()}
                            for i, n in enumerate(CLASS_NAMES)]})))
        return result

    def cleanup(self) -> None:
        """Free the model and the backend; the process has no RobotLink until configured again."""
        self.slot.install(None)
        self.robot_model = self.backend = self.link = self.segmenter = None

    def _on_samples_lost(self, status) -> None:
        self.samples_lost = int(status.total_count)
        self.episodes.event("camera_samples_lost", f"the middleware lost "
                            f"{status.total_count_change} camera sample(s) "
                            f"({status.total_count} in total)")

    def _on_image(self, msg: Image) -> None:
        received = time.perf_counter()
        self.input_rate.tick()
        stamp_ns = stamp_to_ns(msg.header.stamp)
        lost = self.frame_loss.observe(stamp_ns)
        if lost:
            self.episodes.event("camera_frames_lost", (
                f"{lost} camera frame(s) before stamp {stamp_ns / 1e9:.3f} s never reached the "
                f"segmenter (a queue of image_queue_depth {self.params['image_queue_depth']} "
                "overflowed while it was busy, or the transport lost them); raise "
                "image_queue_depth or give the robot more CPU"))
        try:
            rgb = image_msg_to_rgb(msg)
        except ImageDecodeError as error:
            self._bad_frames += 1
            self.episodes.event("camera_frame_refused", f"dropping camera frame: {error}")
            return
        convert_ms = (time.perf_counter() - received) * 1e3
        try:
            result = self.segmenter.segment(rgb, stamp_ns,
                                            with_local_only=self._local_only_pub is not None)
        except Exception as error:  # a backend fault must not kill the robot's perception node
            self._failed_frames += 1
            self.episodes.event("segmentation_failed", f"segmentation failed for a frame: "
                                f"{error!r}")
            return
        log_line = self.mode_episodes.update(result.decision)
        if log_line:
            self.get_logger().info(log_line)
        period_ns = self.frame_loss.expected_period_ns()
        self.link.observe_camera_period(None if period_ns is None else period_ns / 1e6)
        publish_start = time.perf_counter()
        self._seg_pub.publish(self._image(msg.header, result.class_ids, "mono8"))
        if self._local_only_pub is not None:
            self._local_only_pub.publish(self._image(msg.header, result.local_only_ids, "mono8"))
        if self._overlay_pub is not None:
            self._overlay_pub.publish(self._image(msg.header, overlay(rgb, result.class_ids), "rgb8"))
        self.output_rate.tick()
        self.frames_segmented += 1
        self._last_decision = result.decision
        self.stage_times.add(dict(result.stage_ms, image_conversion=convert_ms,
                                  publish=(time.perf_counter() - publish_start) * 1e3,
                                  total=(time.perf_counter() - received) * 1e3))

    @staticmethod
    def _image(header, pixels, encoding) -> Image:
        msg = fill_image_msg(Image(), pixels, encoding)
        msg.header = header
        return msg

    def _publish_diagnostics(self) -> None:
        self.episodes.flush()
        decision = self._last_decision
        status = DiagnosticStatus(name=f"{self.get_fully_qualified_name()}: segmentation",
                                  hardware_id=self.backend.name)
        if decision is None:
            status.level, status.message = DiagnosticStatus.WARN, "no camera frame yet"
        elif self.frame_loss.lost_rate_hz() > 0:
            status.level = DiagnosticStatus.WARN
            status.message = (f"{decision.mode.replace('_', '-')}; camera frames lost "
                              f"({self.frame_loss.lost_rate_hz():.1f}/s)")
        elif decision.mode == "fused":
            status.level, status.message = DiagnosticStatus.OK, "fused"
        else:
            status.level, status.message = DiagnosticStatus.WARN, f"local-only: {decision.reason}"
        store = self.link.store
        values = {
            "mode": "none" if decision is None else decision.mode,
            "reason": "" if decision is None else decision.reason,
            "reason_detail": "" if decision is None else decision.detail,
            "tau_ms": "" if decision is None or decision.tau_ms is None else f"{decision.tau_ms:.1f}",
            "input_rate_hz": f"{self.input_rate.rate_hz():.2f}",
            "output_rate_hz": f"{self.output_rate.rate_hz():.2f}",
            "fused_frames": str(self.mode_episodes.frames_by_mode.get("fused", 0)),
            "local_only_frames": str(self.mode_episodes.frames_by_mode.get("local_only", 0)),
            "frames_received": str(self.frame_loss.frames_seen),
            "frames_segmented": str(self.frames_segmented),
            "camera_frames_lost": str(self.frame_loss.frames_lost),
            "camera_frames_lost_hz": f"{self.frame_loss.lost_rate_hz():.2f}",
            "camera_pauses": str(self.frame_loss.pauses),
            "camera_samples_lost": str(self.samples_lost),
            "dropped_bad_frames": str(self._bad_frames),
            "segmentation_failures": str(self._failed_frames),
            **store.counter_values(),
            "model_identity": self.robot_model.local_identity,
            "expected_remote_identity": store.expected_identity,
        }
        values.update({f"latency_{k}_ms": f"{v:.2f}" for k, v in self.stage_times.means().items()})
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        array_msg = DiagnosticArray(status=[status])
        array_msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array_msg)
