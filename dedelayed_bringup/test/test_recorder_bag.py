"""The `recorder` executable over a real rclpy graph: MCAP files that ROS tools and Foxglove read.

A probe in this test process publishes camera frames (best effort), FeatureMaps and
/diagnostics (reliable); the recorder is a child process. The files are read back with mcap's
reader; every message deserialises with rclpy into its type and decodes with mcap_ros2 from
the schema stored in the file (an independent parser of our ros2msg text).
"""

import os
import signal
import time

import numpy as np
import pytest
from domain_probe import DomainProbe, wait_until

from dedelayed_bringup.recording.mcap_bag import METADATA_NAME, read_bag
from dedelayed_bringup.stack import NodeProcess, Stack

pytestmark = pytest.mark.ros

NAMESPACE = "/robot3"
TOPICS = ["/camera/image_raw|sensor_msgs/msg/Image|sensor",
          "dedelayed/remote_features|dedelayed_msgs/msg/FeatureMap|reliable",
          "/diagnostics|diagnostic_msgs/msg/DiagnosticArray|reliable"]
FEATURES = f"{NAMESPACE}/dedelayed/remote_features"
JUNK, JUNK_MESSAGES = b"\x00\x01\x00\x00" + b"\xff" * 12, 3   # not a FeatureMap in CDR


def _recorder(path, **parameters):
    return NodeProcess("recorder", module="dedelayed_bringup.recording.recorder_node", namespace=NAMESPACE,
                       parameters={"output_path": str(path), "topics": TOPICS, **parameters})


def _messages():
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
    from sensor_msgs.msg import Image

    from dedelayed_msgs.msg import FeatureMap

    image = Image(height=96, width=128, encoding="rgb8", step=128 * 3)
    image.data = np.random.default_rng(0).integers(0, 255, 96 * 128 * 3, np.uint8).tobytes()
    features = FeatureMap(model_identity="remote-test", channels=8, height=4, width=6,
                          encoding="float16", delay_ms=100.0)
    features.data = bytes(range(192)) * 2
    diagnostics = DiagnosticArray(status=[DiagnosticStatus(
        name="/robot3/dedelayed_segmenter: segmentation",
        values=[KeyValue(key="mode", value="fused"), KeyValue(key="tau_ms", value="120.0")])])
    return image, features, diagnostics


class _Drive:
    """Publishes camera / features / diagnostics at 20 / 10 / 5 Hz with wall-clock stamps."""

    def __init__(self, probe):
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import Image

        from dedelayed_bringup.recording.topic_recorder import record_qos
        from dedelayed_msgs.msg import FeatureMap

        self.image, self.features, self.diagnostics = _messages()
        self.pubs = [probe.node.create_publisher(Image, "/camera/image_raw",
                                                 qos_profile_sensor_data),
                     probe.node.create_publisher(FeatureMap, FEATURES, record_qos("reliable")),
                     probe.node.create_publisher(DiagnosticArray, "/diagnostics", 10)]
        self.sent = 0

    def matched(self) -> bool:
        return all(p.get_subscription_count() > 0 for p in self.pubs)

    def run(self, duration_s: float, until=lambda: False) -> None:
        end = time.monotonic() + duration_s
        while time.monotonic() < end and not until():
            now = time.time()
            for msg in (self.image, self.features):
                msg.header.stamp.sec, msg.header.stamp.nanosec = int(now), int(now % 1 * 1e9)
            self.pubs[0].publish(self.image)
            if self.sent % 2 == 0:
                self.pubs[1].publish(self.features)
            if self.sent % 4 == 0:
                self.pubs[2].publish(self.diagnostics)
            self.sent += 1
            time.sleep(0.05)


def _check_messages(contents, record_payload: bool):
    """Every message deserialises into its type (rclpy) and decodes from the stored schema
    (mcap_ros2); stamps rise per channel; FeatureMap payload as configured."""
    from mcap_ros2.decoder import DecoderFactory
    from rclpy.serialization import deserialize_message

    from dedelayed_bringup.relay_topics import import_message_type

    decoders = DecoderFactory()
    image, features, _ = _messages()
    for topic, messages in contents.by_topic().items():
        type_name = contents.type_of(topic)
        msg_type = import_message_type(type_name)
        channel = next(c for c in contents.channels.values() if c.topic == topic)
        schema = contents.schemas[channel.schema_id]
        assert schema.encoding == "ros2msg" and channel.message_encoding == "cdr"
        assert channel.metadata["topic_type_hash"].startswith("RIHS01_")
        assert "reliability" in channel.metadata["offered_qos_profiles"]
        decode = decoders.decoder_for("cdr", schema)
        log_times = [m.log_time for m in messages]
        assert log_times == sorted(log_times), topic
        for m in messages:
            msg = deserialize_message(m.data, msg_type)
            dynamic = decode(m.data)
            if type_name == "sensor_msgs/msg/Image":
                assert bytes(msg.data) == bytes(image.data) and msg.width == 128
                assert bytes(dynamic.data) == bytes(image.data)
            if type_name == "dedelayed_msgs/msg/FeatureMap":
                assert msg.model_identity == dynamic.model_identity == "remote-test"
                assert (msg.channels, msg.height, msg.width) == (8, 4, 6)
                assert bytes(msg.data) == (bytes(features.data) if record_payload else b"")
            stamp_ns = getattr(msg, "header", None) and (
                msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec)
            if stamp_ns:
                assert abs(m.log_time - stamp_ns) < 5e9, (topic, m.log_time, stamp_ns)


def test_recorder_stops_at_its_duration_bound_and_closes_a_complete_bag(ros_domain_id, tmp_path):
    import yaml

    path = tmp_path / "drive.mcap"
    with DomainProbe(ros_domain_id, "drive") as probe, \
            Stack([_recorder(path, max_duration_s=4.0, record_feature_payload=True)],
                  output=None) as stack:
        stack.wait_for_output("recorder", "recording 3 topics", timeout_s=30)
        drive = _Drive(probe)
        assert wait_until(drive.matched, 20.0), stack.output_of("recorder")
        process = stack.children["recorder"].process
        for _ in range(JUNK_MESSAGES):   # a peer's malformed bytes: recorded, nothing stops
            drive.pubs[1].publish(JUNK)
        drive.run(10.0, until=lambda: process.poll() is not None)
        assert process.poll() is not None, "the 4 s bound did not stop it within 10 s"
        assert process.returncode == 0, stack.output_of("recorder")
        assert "max_duration_s 4 s reached" in stack.output_of("recorder")
    contents = read_bag(str(path))
    assert contents.complete and not contents.stopped_by, contents.stopped_by
    counts = contents.counts()
    assert set(counts) == {"/camera/image_raw", FEATURES, "/diagnostics"}, counts
    # at most 4 s (counted from the recorder's start, before discovery) of 20 / 10 / 5 Hz
    assert 10 <= counts["/camera/image_raw"] <= 4.0 * 20 + 2, counts
    assert counts[FEATURES] >= 5 and counts["/diagnostics"] >= 2, counts
    junk = [m for m in contents.by_topic()[FEATURES] if m.data == JUNK]
    assert len(junk) == JUNK_MESSAGES, counts
    contents.messages = [m for m in contents.messages if m.data != JUNK]
    _check_messages(contents, record_payload=True)
    meta = yaml.safe_load(contents.metadata[METADATA_NAME]["serialized_metadata"])
    assert meta["version"] == 9 and meta["storage_identifier"] == "mcap"
    assert 0 < meta["duration"]["nanoseconds"] <= 4.0e9
    assert meta["message_count"] == sum(counts.values())
    assert {t["topic_metadata"]["name"]: t["message_count"]
            for t in meta["topics_with_message_count"]} == counts
    from mcap.reader import make_reader

    with open(path, "rb") as f:   # the seeking reader needs the summary the writer closed with
        summary = make_reader(f).get_summary()
    assert summary.statistics.message_count == sum(counts.values())


def test_sigkill_mid_drive_leaves_every_whole_chunk_readable(ros_domain_id, tmp_path):
    path = tmp_path / "killed.mcap"
    with DomainProbe(ros_domain_id, "drive") as probe, \
            Stack([_recorder(path, chunk_size_kb=64)], output=None) as stack:
        stack.wait_for_output("recorder", "recording 3 topics", timeout_s=30)
        drive = _Drive(probe)
        assert wait_until(drive.matched, 20.0), stack.output_of("recorder")
        drive.run(1.0)
        for _ in range(JUNK_MESSAGES):   # deserialised here (to drop the payload): logged, kept
            drive.pubs[1].publish(JUNK)
        drive.run(2.0)
        assert "does not deserialise as dedelayed_msgs/msg/FeatureMap" in stack.output_of(
            "recorder")
        os.killpg(stack.children["recorder"].process.pid, signal.SIGKILL)
        assert wait_until(lambda: stack.children["recorder"].process.poll() is not None, 5.0)
        sent = drive.sent
    size = path.stat().st_size
    contents = read_bag(str(path))
    assert not contents.complete and contents.metadata == {}, "a killed writer wrote no footer"
    counts = contents.counts()
    # 64 KiB chunks of ~37 kB frames (compressed): all but the last chunk or two survive
    assert counts.get("/camera/image_raw", 0) >= sent - 12, (counts, sent, size,
                                                             contents.stopped_by)
    assert sum(m.data == JUNK for m in contents.messages) == JUNK_MESSAGES
    contents.messages = [m for m in contents.messages if m.data != JUNK]
    _check_messages(contents, record_payload=False)


def test_recorder_yaml_lists_every_declared_parameter_with_its_default():
    import yaml

    from dedelayed_bringup.recording.recorder_node import NODE_NAME, PARAMETERS

    path = os.path.join(os.path.dirname(__file__), "..", "config", "recorder.yaml")
    in_yaml = yaml.safe_load(open(path))[f"/**/{NODE_NAME}"]["ros__parameters"]
    assert in_yaml == {p.name: p.default for p in PARAMETERS}
    assert all(p.description for p in PARAMETERS)
