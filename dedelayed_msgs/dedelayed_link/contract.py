"""The link contract: what crosses between a robot and the cloud, defined once.

Every link topic is a relative name, so it resolves under the robot's namespace on the robot
and under ``<robot namespace>/`` on the cloud (``robot_topic``). Node parameter defaults, the
link emulator's relay specs, the recorder, the benchmarks and the YAML checks all read these
objects; a test fails if a YAML file or README spells a link topic another way, and the README
topic tables and node YAML files that name them are written from here (tools/generate_docs.py).

QoS names (``qos`` module):
- ``sensor``: best effort, shallow (ROS sensor-data QoS). A late camera frame is worthless,
  and a lost WebP frame costs one frame of context.
- ``newest_reliable``: reliable, keep last 1. A FeatureMap is about 1 MB of UDP fragments:
  best effort lost most of them between two processes, and keep-last 1 never holds a newer
  message behind an older one for long.
"""

from dataclasses import dataclass

UP = "robot -> cloud"
DOWN = "cloud -> robot"


@dataclass(frozen=True)
class LinkTopic:
    name: str          # relative topic name (resolves under the robot namespace)
    msg_type: str      # "package/msg/Type"
    qos: str           # "sensor" or "newest_reliable" (see the module docstring)
    direction: str     # UP or DOWN
    description: str

    @property
    def relay_qos(self) -> str:
        """The link emulator's reader QoS word for this topic ('sensor' or 'reliable')."""
        return "sensor" if self.qos == "sensor" else "reliable"

    @property
    def relay_spec(self) -> str:
        """'topic|package/msg/Type|qos', the link emulator's topic parameter form."""
        return f"{self.name}|{self.msg_type}|{self.relay_qos}"

    def qos_profile(self):
        """The rclpy QoSProfile both ends use (rclpy imported here, on call)."""
        from . import qos
        return qos.profile(self.qos)


UPLINK = LinkTopic("dedelayed/uplink/compressed", "sensor_msgs/msg/CompressedImage", "sensor", UP,
                   "camera frames at the remote resolution, WebP; header = the camera frame's, untouched")
DELAY_REPORT = LinkTopic("dedelayed/delay_report", "dedelayed_msgs/msg/DelayReport", "newest_reliable", UP,
                         "the delay tau the robot observes and the remote identity it accepts")
FEATURES = LinkTopic("dedelayed/remote_features", "dedelayed_msgs/msg/FeatureMap", "newest_reliable", DOWN,
                     "remote features z predicted for the present; header.stamp echoes the newest frame used")
REMOTE_SEGMENTATION = LinkTopic("dedelayed/remote_segmentation", "sensor_msgs/msg/Image", "newest_reliable",
                                DOWN, "optional: the remote-only baseline (mono8 trainIds), for demos and "
                                      "evaluation (publish_remote_segmentation)")

# Carried by every link between a robot and the cloud (the remote-only baseline is optional).
LINK_TOPICS = (UPLINK, DELAY_REPORT, FEATURES)
ALL_LINK_TOPICS = LINK_TOPICS + (REMOTE_SEGMENTATION,)

# The robot's outputs and inputs: fixed relative names (they resolve under the robot
# namespace), renamed by remapping, e.g. `-r image:=/cam/front/image_raw` or the launch files'
# `image:=` argument. The camera input IMAGE_INPUT is remapped to CAMERA_TOPIC by default:
# where the synthetic camera, started in the root namespace, publishes CAMERA_OUTPUT.
IMAGE_INPUT = "image"
CAMERA_OUTPUT = "camera/image_raw"
GROUND_TRUTH_OUTPUT = "camera/ground_truth"
CAMERA_TOPIC = "/" + CAMERA_OUTPUT
SEGMENTATION_TOPIC = "dedelayed/segmentation"
OVERLAY_TOPIC = "dedelayed/segmentation/overlay"
LOCAL_ONLY_TOPIC = "dedelayed/segmentation/local_only"
CLASS_NAMES_TOPIC = "dedelayed/class_names"
DIAGNOSTICS_TOPIC = "/diagnostics"


def robot_topic(namespace: str, name: str) -> str:
    """Topic ``name`` (relative, e.g. UPLINK.name) under a robot namespace ('' = unchanged)."""
    namespace = namespace.rstrip("/")
    return f"{namespace}/{name}" if namespace else name
