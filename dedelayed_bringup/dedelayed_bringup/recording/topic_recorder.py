"""Records ROS topics into a rosbag2-compatible MCAP file (mcap_bag.BagWriter), as rosbag2 does.

Each topic is subscribed as serialised bytes (``raw=True``: the CDR bytes the publisher sent,
never re-encoded) with its message info; a message is written with the DDS receive time as log
time and the publisher's source time as publish time. A channel is registered at a topic's
first message, with the QoS its publishers offer then (``ros2 bag play`` offers the same).
FeatureMap payloads (``data``, ~37 kB-1.2 MB each) are left out unless asked for: the rest of
the message (stamp, delay, identity, shape, timing) is what a drive review needs.

Class-id images (mono8 trainIds: local-only, remote-only) look black in a viewer, so for each
of ``colour_topics`` the recorder also writes ``<topic>/colour``: the same header, the ids in
the project's class colours (rgb8, ``dedelayed_models.classes.colorize``). Those channels
exist only in the file, never on the ROS graph.

Used by the ``recorder`` executable (recording/recorder_node.py) and by the demo's recorder, which adds
its own handlers to score the outputs it records.
"""

import time
from typing import Callable, Dict, Iterable, List, Optional

from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message

from dedelayed_bringup.recording.mcap_bag import BagWriter, qos_dict
from dedelayed_bringup.relay_topics import TopicSpec, parse_topic_spec
from dedelayed_link import (
    CAMERA_TOPIC,
    DELAY_REPORT,
    DIAGNOSTICS_TOPIC,
    FEATURES,
    LOCAL_ONLY_TOPIC,
    OVERLAY_TOPIC,
    REMOTE_SEGMENTATION,
    SEGMENTATION_TOPIC,
)

# What a drive is: camera, truth (synthetic camera only), the three outputs, the overlay,
# the link traffic the robot sees and /diagnostics. Relative names resolve under the robot's
# namespace. "topic|package/msg/Type|qos", qos = what the publisher offers (sensor = best effort).
IMAGE_TYPE = "sensor_msgs/msg/Image"
GROUND_TRUTH_TOPIC = "/camera/ground_truth"   # the synthetic camera's exact labels
RECORDED_TOPICS = [
    f"{CAMERA_TOPIC}|{IMAGE_TYPE}|sensor",
    f"{GROUND_TRUTH_TOPIC}|{IMAGE_TYPE}|reliable",
    *(f"{name}|{IMAGE_TYPE}|reliable" for name in (SEGMENTATION_TOPIC, OVERLAY_TOPIC,
                                                  LOCAL_ONLY_TOPIC)),
    REMOTE_SEGMENTATION.relay_spec, FEATURES.relay_spec, DELAY_REPORT.relay_spec,
    f"{DIAGNOSTICS_TOPIC}|diagnostic_msgs/msg/DiagnosticArray|reliable",
]
# Class-id images the recorder also writes in class colours, as <topic>/colour.
COLOUR_TOPICS = [LOCAL_ONLY_TOPIC, REMOTE_SEGMENTATION.name]
COLOUR_SUFFIX = "/colour"
# Payload fields left empty unless record_feature_payload (type -> field name).
PAYLOAD_FIELDS = {"dedelayed_msgs/msg/FeatureMap": "data"}
# Every message must reach the file: a reader queue deep enough for a writer's stall.
RECORD_DEPTH = 100

Handler = Callable[[object, float], None]   # (deserialised message, received time [s])


def record_qos(qos: str) -> QoSProfile:
    """Reader QoS for a topic whose publisher offers ``qos`` ('sensor' or 'reliable')."""
    reliability = (ReliabilityPolicy.BEST_EFFORT if qos == "sensor"
                   else ReliabilityPolicy.RELIABLE)
    return QoSProfile(depth=RECORD_DEPTH, history=HistoryPolicy.KEEP_LAST,
                      reliability=reliability)


def resolve_topic(topic: str, namespace: str) -> str:
    """A relative ``topic`` under ``namespace`` ('' = leave it to the node's namespace)."""
    if topic.startswith("/") or not namespace:
        return topic
    return f"/{namespace.strip('/')}/{topic}" if namespace.strip("/") else f"/{topic}"


class TopicRecorder:
    """Subscribes ``node`` to every spec and writes each message to ``writer``.

    handlers: absolute topic -> ``handler(message, received_s)``, called after the message is
    written (the demo scores what it records). Callbacks run on the node's executor; run that
    executor single-threaded (BagWriter is not thread safe).
    """

    def __init__(self, node: Node, specs: Iterable[str], writer: BagWriter, *,
                 namespace: str = "", record_feature_payload: bool = False,
                 handlers: Optional[Dict[str, Handler]] = None,
                 colour_topics: Iterable[str] = ()):
        self.node = node
        self.writer = writer
        self.record_feature_payload = bool(record_feature_payload)
        self.handlers = dict(handlers or {})
        self.colour_topics = {node.resolve_topic_name(resolve_topic(t, namespace))
                              for t in colour_topics}
        self.topics: List[str] = []
        self.undecodable = 0   # messages written as received that did not deserialise
        for text in specs:
            spec = parse_topic_spec(text)
            topic = node.resolve_topic_name(resolve_topic(spec.topic, namespace))
            self.topics.append(topic)
            node.create_subscription(
                spec.msg_type, topic,
                lambda data, info, s=spec, t=topic: self._on_message(s, t, data, info),
                record_qos(spec.qos), raw=True)
        unknown = set(self.handlers) - set(self.topics)
        if unknown:
            raise ValueError(f"handlers for topics that are not recorded: {sorted(unknown)}; "
                             f"recorded: {self.topics}")
        if self.colour_topics - set(self.topics):
            node.get_logger().info(f"not colouring {sorted(self.colour_topics - set(self.topics))}: "
                                   "not among the recorded topics")
            self.colour_topics &= set(self.topics)

    def _offered_qos(self, topic: str) -> list:
        return [qos_dict(info.qos_profile)
                for info in self.node.get_publishers_info_by_topic(topic)]

    def _on_message(self, spec: TopicSpec, topic: str, data: bytes, info: dict) -> None:
        if self.writer.closed:
            return
        received_ns = int(info.get("received_timestamp") or 0) or time.time_ns()
        sent_ns = int(info.get("source_timestamp") or 0)
        if not self.writer.has_topic(topic):
            self.writer.add_topic(topic, spec.type_name, self._offered_qos(topic))
        handler = self.handlers.get(topic)
        colour = topic in self.colour_topics
        strip = PAYLOAD_FIELDS.get(spec.type_name) if not self.record_feature_payload else None
        message = None
        if handler is not None or colour or strip:
            try:
                message = deserialize_message(data, spec.msg_type)
            except Exception as error:  # noqa: BLE001 - whatever a peer sent, keep recording
                self.undecodable += 1
                self.node.get_logger().warning(
                    f"{topic}: a message that does not deserialise as {spec.type_name} ({error}) "
                    f"is recorded as received ({self.undecodable} so far)",
                    throttle_duration_sec=5.0)
        stored = data
        if message is not None and strip:
            kept = getattr(message, strip)
            setattr(message, strip, [])
            stored = serialize_message(message)
            setattr(message, strip, kept)
        self.writer.write(topic, stored, received_ns, sent_ns)
        if message is None:
            return
        if colour:
            self._write_colour(topic + COLOUR_SUFFIX, message, received_ns, sent_ns)
        if handler is not None:
            handler(message, received_ns * 1e-9)

    def _write_colour(self, topic: str, ids_msg, received_ns: int, sent_ns: int) -> None:
        import numpy as np
        from sensor_msgs.msg import Image

        from dedelayed_local.image_codec import fill_image_msg
        from dedelayed_models.classes import colorize

        if ids_msg.encoding != "mono8":
            return
        ids = np.frombuffer(bytes(ids_msg.data), np.uint8).reshape(
            ids_msg.height, ids_msg.step)[:, :ids_msg.width]
        out = fill_image_msg(Image(header=ids_msg.header), colorize(ids), "rgb8")
        if not self.writer.has_topic(topic):
            self.writer.add_topic(topic, IMAGE_TYPE)
        self.writer.write(topic, serialize_message(out), received_ns, sent_ns)
