"""`recorder`: records a robot's drive into one rosbag2-compatible MCAP file.

    ros2 run dedelayed_bringup recorder --ros-args -r __ns:=/robot1 \
        -p output_path:=drive.mcap -p max_duration_s:=600.0
    # without ros2: python -m dedelayed_bringup.recording.recorder_node --ros-args ...   (same arguments)

Records ``topics`` (default: camera, the three segmentations, the overlay, FeatureMaps without
their payload, DelayReports, /diagnostics) until Ctrl-C or a bound (``max_duration_s``,
``max_size_mb``), then closes the file (summary, rosbag2 metadata, footer) and exits 0. Killed
without a chance to close, the file still holds every whole chunk (``mcap_bag.read_bag``).
Open it in Foxglove (config/foxglove_layout.json) or with ``ros2 bag info`` / ``ros2 bag play``.
"""

import os
import sys
import time

from rclpy.node import Node

from dedelayed_bringup.recording.mcap_bag import COMPRESSIONS, BagWriter
from dedelayed_bringup.recording.topic_recorder import COLOUR_TOPICS, RECORDED_TOPICS, TopicRecorder
from dedelayed_link.params import Parameter, declare_parameters
from dedelayed_link.ros_main import run_nodes

NODE_NAME = "dedelayed_recorder"
PARAMETERS = (
    Parameter("topics", RECORDED_TOPICS, "topics recorded, each 'topic|package/msg/Type|qos' with qos "
                                         "'sensor' (the publisher offers best effort) or 'reliable'; "
                                         "relative names resolve under `namespace`"),
    Parameter("namespace", "", "robot namespace that relative topics resolve under, e.g. /robot1; "
                               "empty = this node's namespace (-r __ns:=/robot1)"),
    Parameter("output_path", "", "MCAP file written; empty = `dedelayed_<date>_<time>.mcap` in the "
                                 "working directory"),
    Parameter("max_duration_s", 0.0, "stop and close the file after this long [s]; 0 = until Ctrl-C"),
    Parameter("max_size_mb", 0.0, "stop and close the file once it holds this much [MB, 1e6 B]; "
                                  "0 = unbounded"),
    Parameter("colour_topics", COLOUR_TOPICS, "recorded class-id images (mono8) also written in class "
                                              "colours as `<topic>/colour` (rgb8, in the file only)"),
    Parameter("record_feature_payload", False, "also record FeatureMap payloads (data); false = every "
                                               "other field, the payload left empty"),
    Parameter("compression", "zstd", "chunk compression: zstd, lz4 or none"),
    Parameter("chunk_size_kb", 1024, "MCAP chunk size [KiB]: what a crash can lose at most"),
)
LIMIT_CHECK_PERIOD_S = 0.5


class RecorderNode(Node):
    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        p = self.params = declare_parameters(self, PARAMETERS)
        if p["compression"] not in COMPRESSIONS:
            raise ValueError(f"compression '{p['compression']}' is unknown; use one of "
                             f"{sorted(COMPRESSIONS)}")
        if p["max_duration_s"] < 0 or p["max_size_mb"] < 0:
            raise ValueError(f"max_duration_s {p['max_duration_s']} and max_size_mb "
                             f"{p['max_size_mb']} must be >= 0 (0 = unbounded)")
        path = p["output_path"] or time.strftime("dedelayed_%Y%m%d_%H%M%S.mcap")
        self.writer = BagWriter(path, compression=p["compression"],
                                chunk_size_bytes=int(p["chunk_size_kb"]) * 1024,
                                max_duration_s=p["max_duration_s"],
                                max_size_bytes=int(p["max_size_mb"] * 1e6))
        self.recorder = TopicRecorder(self, p["topics"], self.writer, namespace=p["namespace"],
                                      record_feature_payload=p["record_feature_payload"],
                                      colour_topics=[t for t in p["colour_topics"] if t])
        self.stopped_by = ""
        self.create_timer(LIMIT_CHECK_PERIOD_S, self._check_limits)
        self.get_logger().info(f"recording {len(self.recorder.topics)} topics to "
                               f"{self.writer.path}: {', '.join(self.recorder.topics)}")

    def _check_limits(self) -> None:
        self.stopped_by = self.writer.limit_reached()
        if self.stopped_by:
            self.close()
            self.context.try_shutdown()   # ends the spin (run_nodes), then destroy_node

    def close(self) -> None:
        """Close the file (summary, rosbag2 metadata, footer), once."""
        if self.writer.closed:
            return
        self.writer.close()
        counts = self.writer.message_counts()
        self.get_logger().info(
            f"closed {self.writer.path}: {sum(counts.values())} messages, "
            f"{os.path.getsize(self.writer.path)} B"
            + (f" ({self.stopped_by})" if self.stopped_by else ""))

    def destroy_node(self):
        self.close()
        return super().destroy_node()


def main(args=None) -> int:
    return run_nodes(lambda: [RecorderNode()], name=NODE_NAME, args=args)


if __name__ == "__main__":
    sys.exit(main())
