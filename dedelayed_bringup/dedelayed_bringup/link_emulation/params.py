"""Every parameter of the link emulator node: name, default, description (one place).

The node declares exactly these, ``config/link_emulator.yaml`` lists exactly these with the
same defaults, and the README table is written from them; a test checks the first two agree.
"""

from dedelayed_link.contract import DOWN, LINK_TOPICS, UP
from dedelayed_link.params import Parameter

NODE_NAME = "link_emulator"

# The link contract's topics, as relay specs (FeatureMaps are ~1.2 MB: best effort loses most of
# them between processes, so the cloud publishes them reliable and the relay reads them reliable).
DEFAULT_UPLINK_TOPICS = [t.relay_spec for t in LINK_TOPICS if t.direction == UP]
DEFAULT_DOWNLINK_TOPICS = [t.relay_spec for t in LINK_TOPICS if t.direction == DOWN]


_DIRECTION = {"uplink": "robot -> cloud", "downlink": "cloud -> robot"}


def _direction_parameters(direction: str):
    path = _DIRECTION[direction]
    return [
        Parameter(f"{direction}_delay_ms", 50.0,
                  f"One-way propagation delay {path} [ms] (round trip = uplink + downlink)."),
        Parameter(f"{direction}_jitter_ms", 2.0,
                  f"Standard deviation of Gaussian jitter added to the {direction} delay [ms]; "
                  "delay + jitter is clipped at 0 and FIFO order per topic is kept."),
        Parameter(f"{direction}_loss", 0.0,
                  f"Probability [0-1] that a {direction} message is lost."),
        Parameter(f"{direction}_bandwidth_mbps", 0.0,
                  f"{direction.capitalize()} link rate [Mbit/s] shared by all its topics: "
                  "a message takes size*8/rate on the link and queues behind earlier ones. "
                  "0 = unlimited."),
        Parameter(f"{direction}_max_queue_ms", 1000.0,
                  f"Longest wait for the {direction} link before a message is tail-dropped "
                  "[ms] (a router's finite buffer); only matters with a bandwidth limit. "
                  "0 = unbounded."),
    ]


PARAMETERS = [
    Parameter("robot_domain_id", -1,
              "DDS domain (ROS_DOMAIN_ID) of the robot side; the node's own parameter "
              "services and /diagnostics live here. -1 = this process's ROS_DOMAIN_ID "
              "(0 if unset)."),
    Parameter("cloud_domain_id", -1,
              "DDS domain of the cloud side; must differ from the robot's. "
              "-1 = robot domain + 1."),
    Parameter("uplink_topics", DEFAULT_UPLINK_TOPICS,
              "Topics relayed robot -> cloud, each 'topic|package/msg/Type|qos' with qos "
              "'sensor' (reads best effort) or 'reliable' (reads reliable; the producer must "
              "publish reliable). The relay always publishes reliable. Relative names resolve under the "
              "node's namespace in both domains."),
    Parameter("downlink_topics", DEFAULT_DOWNLINK_TOPICS,
              "Topics relayed cloud -> robot, same form as uplink_topics. FeatureMaps (about 1.2 MB) "
              "must be read reliable: best effort loses most of them."),
    *_direction_parameters("uplink"),
    *_direction_parameters("downlink"),
    Parameter("seed", 0,
              "Seeds loss and jitter (uplink uses seed, downlink seed + 1): same seed and "
              "same traffic give the same decisions."),
    Parameter("link_up", True,
              "Run-time switch: false drops everything in both directions, including "
              "messages still in flight (an outage). Set at run time to cut and restore "
              "the link.", read_only=False),
    Parameter("outage_windows_s", [0.0, 0.0],
              "Scheduled outages as a flat list [start_s, duration_s, ...] counted from "
              "node start [s]; e.g. [20.0, 3.0] cuts the link from 20 s to 23 s. "
              "Zero-length windows are ignored ([0.0, 0.0] = none)."),
    Parameter("diagnostics_period_s", 1.0,
              "Period of the counters published on /diagnostics in the robot domain [s]."),
]

PARAMETER_BY_NAME = {p.name: p for p in PARAMETERS}
