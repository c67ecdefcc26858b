"""The topics the link emulator relays: "topic|package/msg/Type|qos" strings and their counters.

A spec string is what a ROS string-array parameter holds, e.g.
``camera/compressed|sensor_msgs/msg/CompressedImage|sensor`` (the link topics' specs come from
the link contract: ``LinkTopic.relay_spec``). The QoS name sets the
relay's READER (what the producer must offer):

- ``sensor``: best effort, keep last 5 (ROS sensor-data QoS): matches any producer, but a
  lost fragment loses the whole message, so use it only for small messages (WebP frames).
  Measured here: of twenty 1.24 MB FeatureMaps sent best effort between two local processes,
  2 arrived; reliable: 20 of 20.
- ``reliable``: reliable, keep last 10: the producer must publish reliable.

The relay's WRITER is always reliable (keep last, so it never blocks): a reliable writer
matches both best-effort and reliable consumers, and the local hop from the emulator to the
consumer adds no loss of its own - the emulated link is the only source of loss.
"""

import importlib
import threading
from typing import Dict, NamedTuple

from dedelayed_bringup.link_emulation.link_model import DROP_REASONS
from dedelayed_link import FEATURES

QOS_NAMES = ("sensor", "reliable")


class TopicSpec(NamedTuple):
    topic: str  # as given; relative names resolve under the emulator's namespace
    type_name: str  # "package/msg/Type"
    msg_type: type
    qos: str  # one of QOS_NAMES


def import_message_type(type_name: str) -> type:
    """'sensor_msgs/msg/CompressedImage' -> the generated Python class."""
    parts = type_name.split("/")
    if len(parts) != 3 or parts[1] != "msg" or not all(parts):
        raise ValueError(
            f"message type '{type_name}' is not of the form 'package/msg/Type', "
            "e.g. 'sensor_msgs/msg/CompressedImage'")
    package, _, name = parts
    try:
        module = importlib.import_module(f"{package}.msg")
    except ImportError as error:
        raise ValueError(
            f"message type '{type_name}': package '{package}' is not importable ({error}); "
            "is it built and is the workspace sourced (source install/setup.bash)?") from error
    try:
        return getattr(module, name)
    except AttributeError:
        raise ValueError(
            f"message type '{type_name}': {package}.msg has no message '{name}'; "
            f"check the spelling (it has: {', '.join(sorted(_message_names(module)))})") from None


def _message_names(module) -> list:
    return [n for n in dir(module) if not n.startswith("_") and isinstance(getattr(module, n), type)]


def parse_topic_spec(spec: str) -> TopicSpec:
    """'topic|package/msg/Type|qos' -> TopicSpec; errors name the bad part and the fix."""
    parts = [p.strip() for p in spec.split("|")]
    if len(parts) != 3 or not all(parts):
        raise ValueError(
            f"topic spec '{spec}' is not 'topic|package/msg/Type|qos', e.g. "
            f"'{FEATURES.relay_spec}'")
    topic, type_name, qos = parts
    if qos not in QOS_NAMES:
        raise ValueError(f"topic spec '{spec}': QoS '{qos}' is unknown; use one of {QOS_NAMES}")
    return TopicSpec(topic, type_name, import_message_type(type_name), qos)


def reader_qos(qos: str):
    """The rclpy QoSProfile of the relay's subscription for QoS name ``qos``."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

    if qos == "sensor":
        return qos_profile_sensor_data
    return QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


def writer_qos(qos: str):
    """The rclpy QoSProfile of the relay's publisher (reliable; depth as the reader)."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    return QoSProfile(depth=reader_qos(qos).depth, reliability=ReliabilityPolicy.RELIABLE)


class TopicCounters:
    """What happened to one relayed topic's messages; updated from several threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.received = 0
        self.relayed = 0
        self.relayed_bytes = 0
        self.dropped: Dict[str, int] = {reason: 0 for reason in DROP_REASONS}

    def count_received(self) -> None:
        with self._lock:
            self.received += 1

    def count_relayed(self, size_bytes: int) -> None:
        with self._lock:
            self.relayed += 1
            self.relayed_bytes += size_bytes

    def count_dropped(self, reason: str) -> None:
        with self._lock:
            self.dropped[reason] += 1

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            values = {"received": self.received, "relayed": self.relayed,
                      "relayed_bytes": self.relayed_bytes}
            values.update({f"dropped_{reason}": n for reason, n in self.dropped.items()})
        return values
