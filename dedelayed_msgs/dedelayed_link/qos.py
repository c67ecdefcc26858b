"""The QoS profiles behind the contract's QoS names (``contract`` module docstring says why)."""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

NEWEST_ONLY_DEPTH = 1  # a stale z or delay report is useless: keep the newest only


def newest_reliable() -> QoSProfile:
    """Keep-last 1, reliable, volatile: FeatureMap, DelayReport, remote-only segmentation."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=NEWEST_ONLY_DEPTH,
                      reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE)


def profile(name: str) -> QoSProfile:
    """QoSProfile for a contract QoS name."""
    if name == "sensor":
        return qos_profile_sensor_data
    if name == "newest_reliable":
        return newest_reliable()
    raise ValueError(f"link QoS '{name}' is unknown; use 'sensor' or 'newest_reliable'")
