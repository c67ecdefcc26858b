"""QoS profiles of the robot's topics (one place; the link's come from the link contract)."""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

from dedelayed_link import DELAY_REPORT, FEATURES

# Camera frames and uplink: sensor data (best effort, shallow): a late frame is worthless.
SENSOR = qos_profile_sensor_data


def sensor_with_depth(depth: int) -> QoSProfile:
    """Sensor-data QoS (best effort, volatile) keeping the last ``depth`` samples."""
    if depth < 1:
        raise ValueError(f"queue depth {depth} must be at least 1")
    return QoSProfile(depth=depth, reliability=SENSOR.reliability, durability=SENSOR.durability,
                      history=HistoryPolicy.KEEP_LAST)


# Remote features and the delay report: the link contract shared with the cloud
# (dedelayed_link.contract: newest only, reliable).
FEATURES = FEATURES.qos_profile()
REPORT = DELAY_REPORT.qos_profile()
# Segmentation outputs: reliable so default-QoS subscribers (planners, RViz) match.
OUTPUT = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE,
                    history=HistoryPolicy.KEEP_LAST)
# Class names: published once, kept for late subscribers (latched).
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL, history=HistoryPolicy.KEEP_LAST)
