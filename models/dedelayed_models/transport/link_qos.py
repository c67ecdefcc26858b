"""QoS of the robot <-> cloud link topics: the one place both sides build them from.

The robot (``dedelayed_local.qos``) and the cloud (``dedelayed_remote.remote_node``) must agree:
a best-effort writer never matches a reliable reader, and the depth bounds how stale a
repaired message can be. So both sides call the functions here instead of spelling the
policies out. The uplink (camera frames) uses rclpy's ``qos_profile_sensor_data`` on both
sides. rclpy is imported on call, so ``dedelayed_models`` stays importable without ROS.
"""

NEWEST_ONLY_DEPTH = 1  # a stale z or delay report is useless: keep the newest only


def newest_reliable():
    """QoSProfile for FeatureMap (cloud -> robot) and DelayReport (robot -> cloud).

    Keep-last 1, reliable, volatile: a FeatureMap is ~1 MB of UDP fragments and best effort
    lost most of them on loopback (2 of 20 arrived); with keep-last 1 a retransmission never
    holds a newer message behind an older one for long.
    """
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=NEWEST_ONLY_DEPTH,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)
