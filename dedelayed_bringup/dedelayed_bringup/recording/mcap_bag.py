"""rosbag2-compatible MCAP files: write serialised ROS 2 messages, read them back (even cut short).

What makes an MCAP file a rosbag2 bag (what ``ros2 bag info`` / ``ros2 bag play`` and Foxglove
read), as rosbag2_storage_mcap writes it:

- profile ``ros2``; one channel per topic, ``cdr`` message encoding, channel metadata
  ``offered_qos_profiles`` (YAML list of the publishers' QoS) and ``topic_type_hash`` (RIHS01);
- one schema per type, encoding ``ros2msg``: the type's installed ``.msg`` text, then every type
  it uses (recursively), each after a line of 80 ``=`` and ``MSG: package/Type``;
- a metadata record ``rosbag2`` whose ``serialized_metadata`` is the bag's metadata as YAML
  (version 9, the Jazzy layout), written when the file is closed;
- message log time = receive time, publish time = the publisher's source time [ns].

The file format itself is the ``mcap`` package's (chunked, zstd or lz4 compressed, indexed,
CRCs). A writer killed mid-drive leaves whole chunks behind it; ``read_bag`` reads every message
up to the last whole chunk. Plain Python (no rclpy): the recorder node feeds it bytes.
"""

from __future__ import annotations

import json
import os
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import yaml
from mcap.exceptions import McapError
from mcap.records import Channel, Message, Schema
from mcap.stream_reader import StreamReader
from mcap.writer import CompressionType, Writer

PROFILE = "ros2"
SCHEMA_ENCODING = "ros2msg"
MESSAGE_ENCODING = "cdr"
METADATA_NAME = "rosbag2"
METADATA_VERSION = 9          # rosbag2 metadata layout of ROS 2 Jazzy
DELIMITER = "=" * 80
COMPRESSIONS = {"zstd": CompressionType.ZSTD, "lz4": CompressionType.LZ4,
                "none": CompressionType.NONE}


def _split_type(type_name: str) -> Tuple[str, str]:
    """'sensor_msgs/msg/Image' or 'sensor_msgs/Image' -> ('sensor_msgs', 'Image')."""
    parts = type_name.split("/")
    if len(parts) == 2 or (len(parts) == 3 and parts[1] == "msg"):
        return parts[0], parts[-1]
    raise ValueError(f"message type '{type_name}' is not 'package/msg/Type'")


def _interface_file(package: str, name: str, extension: str) -> str:
    from ament_index_python.packages import PackageNotFoundError, get_package_share_directory

    try:
        share = get_package_share_directory(package)
    except PackageNotFoundError:
        raise ValueError(f"message package '{package}' is not installed (no share/{package} in "
                         "AMENT_PREFIX_PATH); source the workspace (install/setup.bash)") from None
    path = os.path.join(share, "msg", f"{name}{extension}")
    if not os.path.isfile(path):
        raise ValueError(f"no {path}: package '{package}' has no message '{name}'")
    return path


def message_definition(type_name: str) -> str:
    """The ``ros2msg`` schema text of ``type_name``, built from the installed ``.msg`` files as
    rosbag2 builds it: the type's own text, then each type it uses once, depth first, each
    after the two-line delimiter."""
    from rosidl_adapter.parser import parse_message_string

    seen = set()

    def text_of(package: str, name: str) -> str:
        with open(_interface_file(package, name, ".msg")) as f:
            text = f.read()
        used = sorted({f"{fld.type.pkg_name or package}/{fld.type.type}"
                       for fld in parse_message_string(package, name, text).fields
                       if not fld.type.is_primitive_type()})
        for dep in used:
            if dep not in seen:
                seen.add(dep)
                text += f"\n{DELIMITER}\nMSG: {dep}\n" + text_of(*dep.split("/"))
        return text

    return text_of(*_split_type(type_name))


def type_hash(type_name: str) -> str:
    """The type's RIHS01 hash as rosidl generated it (share/<package>/msg/<Type>.json)."""
    package, name = _split_type(type_name)
    with open(_interface_file(package, name, ".json")) as f:
        hashes = json.load(f)["type_hashes"]
    full = f"{package}/msg/{name}"
    return next(h["hash_string"] for h in hashes if h["type_name"] == full)


@dataclass
class _Topic:
    name: str
    type_name: str
    channel_id: int
    offered_qos: List[dict]
    messages: int = 0
    first_ns: Optional[int] = None
    last_ns: Optional[int] = None


class BagWriter:
    """One rosbag2-compatible MCAP file. Not thread safe: call from one thread (or lock).

    ``max_duration_s`` / ``max_size_bytes`` (0 = unbounded) bound the recording:
    ``limit_reached()`` says when to stop, and ``write`` refuses nothing on its own.
    """

    def __init__(self, path: str, *, compression: str = "zstd", chunk_size_bytes: int = 1 << 20,
                 max_duration_s: float = 0.0, max_size_bytes: int = 0, ros_distro: str = ""):
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression '{compression}' is unknown; use one of "
                             f"{sorted(COMPRESSIONS)}")
        if chunk_size_bytes < 1024:
            raise ValueError(f"chunk size {chunk_size_bytes} B is below 1024 B; a chunk is what "
                             "a crash can lose, 1 MiB is the rosbag2 default")
        if max_duration_s < 0 or max_size_bytes < 0:
            raise ValueError(f"limits must be >= 0 (0 = unbounded), got max_duration_s "
                             f"{max_duration_s}, max_size_bytes {max_size_bytes}")
        self.path = os.path.abspath(path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._file = open(self.path, "wb")
        self._writer = Writer(self._file, chunk_size=chunk_size_bytes,
                              compression=COMPRESSIONS[compression])
        self._writer.start(profile=PROFILE, library="dedelayed_bringup mcap_bag (mcap "
                                                    f"{_mcap_version()})")
        self.compression = compression
        self.max_duration_s = float(max_duration_s)
        self.max_size_bytes = int(max_size_bytes)
        self.ros_distro = ros_distro or os.environ.get("ROS_DISTRO", "")
        self.started_monotonic = time.monotonic()
        self._schemas: Dict[str, int] = {}
        self._topics: Dict[str, _Topic] = {}
        self.closed = False

    # -- writing ------------------------------------------------------------------------------
    def add_topic(self, topic: str, type_name: str, offered_qos: List[dict] = ()) -> None:
        """Register ``topic`` (once) with its type ('pkg/msg/Type') and the QoS its publishers
        offered (rosbag2's dicts, see ``qos_dict``)."""
        if topic in self._topics:
            return
        package, name = _split_type(type_name)
        full = f"{package}/msg/{name}"
        if full not in self._schemas:
            self._schemas[full] = self._writer.register_schema(
                full, SCHEMA_ENCODING, message_definition(full).encode())
        metadata = {"offered_qos_profiles": yaml.safe_dump(list(offered_qos), sort_keys=False)
                    if offered_qos else "",
                    "topic_type_hash": type_hash(full)}
        channel = self._writer.register_channel(topic, MESSAGE_ENCODING, self._schemas[full],
                                                metadata)
        self._topics[topic] = _Topic(topic, full, channel, list(offered_qos))

    def has_topic(self, topic: str) -> bool:
        return topic in self._topics

    def write(self, topic: str, data: bytes, log_time_ns: int, publish_time_ns: int = 0) -> None:
        """One serialised (CDR) message of a registered topic, received at ``log_time_ns``."""
        entry = self._topics[topic]
        self._writer.add_message(entry.channel_id, log_time=int(log_time_ns),
                                 publish_time=int(publish_time_ns or log_time_ns),
                                 data=bytes(data), sequence=entry.messages)
        # A closed chunk goes to the OS at once (a no-op while the chunk fills in memory), so a
        # SIGKILL loses at most the chunk being filled.
        self._file.flush()
        entry.messages += 1
        entry.first_ns = log_time_ns if entry.first_ns is None else entry.first_ns
        entry.last_ns = log_time_ns

    # -- limits and figures -------------------------------------------------------------------
    @property
    def size_bytes(self) -> int:
        """Bytes written to the file so far (whole chunks; the open chunk is in memory)."""
        return os.path.getsize(self.path)

    def message_counts(self) -> Dict[str, int]:
        return {t.name: t.messages for t in self._topics.values()}

    def limit_reached(self) -> str:
        """'' while recording may go on, else which bound was reached."""
        elapsed = time.monotonic() - self.started_monotonic
        if self.max_duration_s and elapsed >= self.max_duration_s:
            return f"max_duration_s {self.max_duration_s:g} s reached"
        if self.max_size_bytes and self.size_bytes >= self.max_size_bytes:
            return f"max size {self.max_size_bytes} B reached ({self.size_bytes} B)"
        return ""

    def _span_ns(self) -> Tuple[int, int]:
        firsts = [t.first_ns for t in self._topics.values() if t.first_ns is not None]
        lasts = [t.last_ns for t in self._topics.values() if t.last_ns is not None]
        return (min(firsts), max(lasts)) if firsts else (0, 0)

    def rosbag2_metadata(self) -> dict:
        """The bag's metadata in rosbag2's YAML layout (what ``ros2 bag info`` prints)."""
        start, end = self._span_ns()
        total = sum(t.messages for t in self._topics.values())
        name = os.path.basename(self.path)
        return {
            "version": METADATA_VERSION, "storage_identifier": "mcap",
            "duration": {"nanoseconds": end - start},
            "starting_time": {"nanoseconds_since_epoch": start},
            "message_count": total,
            "topics_with_message_count": [
                {"topic_metadata": {"name": t.name, "type": t.type_name,
                                    "serialization_format": MESSAGE_ENCODING,
                                    "offered_qos_profiles": t.offered_qos,
                                    "type_description_hash": type_hash(t.type_name)},
                 "message_count": t.messages} for t in self._topics.values()],
            "compression_format": "", "compression_mode": "",
            "relative_file_paths": [name],
            "files": [{"path": name, "starting_time": {"nanoseconds_since_epoch": start},
                       "duration": {"nanoseconds": end - start}, "message_count": total}],
            "custom_data": {}, "ros_distro": self.ros_distro,
        }

    def close(self) -> None:
        """Write the rosbag2 metadata record, the summary and the footer; close the file."""
        if self.closed:
            return
        self._writer.add_metadata(METADATA_NAME, {
            "serialized_metadata": yaml.safe_dump(self.rosbag2_metadata(), sort_keys=False)})
        self._writer.finish()
        self._file.close()
        self.closed = True


def qos_dict(profile) -> dict:
    """An rclpy QoSProfile as rosbag2 (metadata version 9) writes it."""
    def duration(d):
        ns = d.nanoseconds
        return {"sec": ns // 1_000_000_000, "nsec": ns % 1_000_000_000}

    def policy(value):
        return value.name.lower()

    return {"history": policy(profile.history), "depth": int(profile.depth),
            "reliability": policy(profile.reliability), "durability": policy(profile.durability),
            "deadline": duration(profile.deadline), "lifespan": duration(profile.lifespan),
            "liveliness": policy(profile.liveliness),
            "liveliness_lease_duration": duration(profile.liveliness_lease_duration),
            "avoid_ros_namespace_conventions": bool(profile.avoid_ros_namespace_conventions)}


@dataclass
class BagContents:
    """Everything ``read_bag`` found, in file order."""

    schemas: Dict[int, Schema] = field(default_factory=dict)
    channels: Dict[int, Channel] = field(default_factory=dict)
    messages: List[Message] = field(default_factory=list)
    metadata: Dict[str, Dict[str, str]] = field(default_factory=dict)
    complete: bool = False          # the footer was read (the writer closed the file)
    stopped_by: str = ""            # why reading stopped early (a cut-off record)

    def by_topic(self) -> Dict[str, List[Message]]:
        out: Dict[str, List[Message]] = {c.topic: [] for c in self.channels.values()}
        for m in self.messages:
            out[self.channels[m.channel_id].topic].append(m)
        return out

    def counts(self) -> Dict[str, int]:
        return dict(Counter(self.channels[m.channel_id].topic for m in self.messages))

    def type_of(self, topic: str) -> str:
        channel = next(c for c in self.channels.values() if c.topic == topic)
        return self.schemas[channel.schema_id].name


def read_bag(path: str) -> BagContents:
    """Read an MCAP file front to back with mcap's stream reader. A file whose writer died (no
    summary, no footer, a half-written last chunk) yields every message of its whole chunks;
    ``complete`` says whether the footer was reached."""
    from mcap.records import Footer, Metadata

    contents = BagContents()
    with open(path, "rb") as f:
        try:
            for record in StreamReader(f, validate_crcs=True).records:
                if isinstance(record, Schema):
                    contents.schemas[record.id] = record
                elif isinstance(record, Channel):
                    contents.channels[record.id] = record
                elif isinstance(record, Message):
                    contents.messages.append(record)
                elif isinstance(record, Metadata):
                    contents.metadata[record.name] = dict(record.metadata)
                elif isinstance(record, Footer):
                    contents.complete = True
                    break            # only the closing magic follows
        except (McapError, EOFError, ValueError, OSError, struct.error) as error:
            contents.stopped_by = f"{type(error).__name__}: {error}"
    return contents


def _mcap_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcap")
    except PackageNotFoundError:
        return "unknown"
