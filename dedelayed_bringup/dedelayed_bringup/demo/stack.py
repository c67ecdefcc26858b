"""The demo's processes: cloud, link emulator and robot (one Stack), then the camera.

Cloud and robot live in different DDS domains; the link emulator is the only bridge. Every
process gets the same-host large-data Fast DDS profile (transport.same_host_profile_env):
with Fast DDS defaults the emulator's relay hop for FeatureMaps goes over loopback UDP and adds
tens of ms to tau. ``prefixes`` lets a test put robot and cloud into network namespaces.
"""

from dataclasses import dataclass
from typing import Dict, List, Sequence

from dedelayed_bringup.demo.models import DemoModels
from dedelayed_bringup.graph import cloud_processes, robot_processes
from dedelayed_bringup.link_emulation.params import DEFAULT_DOWNLINK_TOPICS
from dedelayed_bringup.secure_link.zenoh_link import DEFAULT_PORT, bridge_endpoints
from dedelayed_bringup.stack import NodeProcess
from dedelayed_link import REMOTE_SEGMENTATION
from dedelayed_models.shipped import RANDOM_WEIGHTS

LINKS = ("dds", "zenoh-tls")

NAMESPACE = "/robot1"
EMULATOR_NODE = f"{NAMESPACE}/link_emulator"
# What each node prints once it is ready to work (waited for before the drive starts).
READY_LINES = {"cloud": r"serving ", "link": r"relaying robot domain", "robot": r"segmenting "}
BRIDGE_READY_LINES = {"cloud_bridge": r"link up", "robot_bridge": r"link up"}


@dataclass(frozen=True)
class LinkSettings:
    delay_ms: float = 50.0        # one way, each direction
    jitter_ms: float = 2.0
    loss: float = 0.0
    seed: int = 0

    @property
    def round_trip_ms(self) -> float:
        return 2.0 * self.delay_ms


def system_processes(models: DemoModels, link: LinkSettings, *, robot_domain: int,
                     cloud_domain: int, env: Dict[str, str], max_feature_age_ms: float,
                     output_lag_ms: float = -1.0, prefixes: Dict[str, Sequence[str]] = None,
                     envs: Dict[str, Dict[str, str]] = None, certs: str = "",
                     link_mode: str = "dds", port: int = DEFAULT_PORT,
                     cloud_host: str = "") -> List[NodeProcess]:
    """NodeProcesses of cloud, link emulator and robot for ``models`` over ``link``.

    certs: a link_certificates folder; the cloud then signs FeatureMaps with cloud.key and the
    robot verifies them with cloud.pem. link_mode 'zenoh-tls': the emulator relays into a
    second robot-side domain (cloud_domain), where the robot's link_bridge dials the cloud's
    link_bridge over mutual TLS on ``port``; the cloud runs in cloud_domain + 1. cloud_host: the
    cloud's address, listened on and dialled (its certificate must name it); '' = loopback.
    """
    prefixes, envs = prefixes or {}, envs or {}
    zenoh = link_mode == "zenoh-tls"
    if zenoh and not certs:
        raise ValueError("link 'zenoh-tls' needs a certificate folder (link_certificates)")
    downlink_topics = [*DEFAULT_DOWNLINK_TOPICS, REMOTE_SEGMENTATION.relay_spec]
    bridge_domain, server_domain = cloud_domain, cloud_domain + (1 if zenoh else 0)
    weights = ({"checkpoint": models.checkpoint} if models.trained
               else {"checkpoint": RANDOM_WEIGHTS, "preset": models.preset, "seed": models.seed})
    endpoints = bridge_endpoints(cloud_host, port)
    bridge_parameters = {"downlink_topics": downlink_topics}

    def env_for(name, domain):
        return {**env, **envs.get(name, {}), "ROS_DOMAIN_ID": str(domain)}

    cloud = cloud_processes(
        robot_namespaces=[NAMESPACE], certs=certs, link="zenoh" if zenoh else "dds",
        listen_endpoint=endpoints["cloud"], env=env_for("cloud", server_domain),
        bridge_env=env_for("cloud_bridge", server_domain), prefix=prefixes.get("cloud", ()),
        bridge_prefix=prefixes.get("cloud_bridge", ()), bridge_parameters=bridge_parameters,
        parameters={**weights, "local_height": models.local_hw[0],
                    "local_width": models.local_hw[1],
                    "default_delay_ms": float(link.round_trip_ms),
                    "publish_remote_segmentation": True})
    emulator = NodeProcess(
        "link", executable="dedelayed_bringup/link_emulator", namespace=NAMESPACE,
        env=env_for("link", robot_domain), prefix=prefixes.get("link", ()),
        parameters={"robot_domain_id": robot_domain, "cloud_domain_id": cloud_domain,
                    "downlink_topics": downlink_topics,
                    **{f"{d}_{k}": float(v) for d in ("uplink", "downlink")
                       for k, v in (("delay_ms", link.delay_ms), ("jitter_ms", link.jitter_ms),
                                    ("loss", link.loss))},
                    "seed": int(link.seed), "diagnostics_period_s": 1.0})
    remote_size = {"remote_height": models.remote_hw[0], "remote_width": models.remote_hw[1]}
    # The uplink runs as its own process: inside the robot process it would wait behind each
    # segmentation for the interpreter, and that wait adds straight to tau on 2 cores.
    robot = robot_processes(
        namespace=NAMESPACE, uplink="own_process", certs=certs,
        link="zenoh" if zenoh else "dds", cloud_endpoint=endpoints["robot"],
        env=env_for("robot", robot_domain), bridge_env=env_for("robot_bridge", bridge_domain),
        prefix=prefixes.get("robot", ()), bridge_prefix=prefixes.get("robot_bridge", ()),
        bridge_parameters=bridge_parameters, uplink_parameters=remote_size,
        # A deep camera queue: the demo scores every frame, and 2 shared cores stall now and then.
        parameters={**weights, "publish_local_only": True, "publish_overlay": True,
                    "image_queue_depth": 60,
                    "diagnostics_period_s": 0.2, "max_feature_age_ms": float(max_feature_age_ms),
                    "output_lag_ms": float(output_lag_ms), **remote_size})
    return [*cloud, emulator, *robot]


# Who subscribes to the demo's camera images: the robot's segmenter, the uplink process and the
# recorder. The camera plays only once all of them are matched; with fewer, a robot whose
# discovery was slow under load missed the drive's first frames (6 in one 12 s test drive).
CAMERA_SUBSCRIBERS = 3


def camera_process(*, seed: int, motion: float, fps: float, camera_hw, duration_s: float,
                   robot_domain: int, env: Dict[str, str], prefix: Sequence[str] = (),
                   source_parameters: Dict[str, object] = None) -> NodeProcess:
    """The camera node playing world ``seed`` at ``fps`` [Hz] and ``camera_hw`` (H, W) [px] for
    ``duration_s``; ``source_parameters`` adds node parameters, e.g. a frames folder to play
    instead (``demo.video.DemoVideo.camera_parameters``)."""
    return NodeProcess(
        "camera", module="dedelayed_bringup.synthetic_camera_node", required=False,
        env={**env, "ROS_DOMAIN_ID": str(robot_domain)}, prefix=prefix,
        parameters={"seed": int(seed), "motion": float(motion), "fps": float(fps),
                    "height": int(camera_hw[0]), "width": int(camera_hw[1]),
                    "duration_s": float(duration_s), "min_subscribers": CAMERA_SUBSCRIBERS,
                    "start_delay_s": 1.0, **(source_parameters or {})})
