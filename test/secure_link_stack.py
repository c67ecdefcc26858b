"""Processes and observers of the secure-link system tests: a cloud (remote_node + cloud
link_bridge) and full robots (robot_main with its uplink, a robot link_bridge, a synthetic
camera), each robot in its own DDS domain, joined only by Zenoh over mutual TLS on loopback.

The camera and the ready lines are the demo's (``demo.stack``); the robot's link_bridge sits in
the robot's own domain here (the demo puts a link emulator in front of it).
"""

import threading
import time
from collections import deque
from typing import Dict, List

from dedelayed_bringup.demo.stack import BRIDGE_READY_LINES, READY_LINES, camera_process
from dedelayed_bringup.graph import cloud_processes as graph_cloud
from dedelayed_bringup.graph import link_bridge_process, with_domain
from dedelayed_bringup.graph import robot_processes as graph_robot
from dedelayed_bringup.secure_link.zenoh_link import bridge_endpoints
from dedelayed_bringup.stack import NodeProcess
from dedelayed_models.modeling import get_config

PRESET, SEED = "tiny", 5
WEIGHTS = {"checkpoint": "random", "preset": PRESET, "seed": SEED}
SEGMENTER_STATUS = "dedelayed_segmenter: segmentation"
BRIDGE_PARAMETERS = {"diagnostics_period_s": 0.2, "reconnect_period_s": 0.3}
__all__ = ["BRIDGE_READY_LINES", "READY_LINES", "cloud_processes", "robot_processes",
           "robot_bridge", "Observer"]


def cloud_processes(*, domain_id: int, env: Dict[str, str], certs: str, port: int,
                    robots: List[str]) -> List[NodeProcess]:
    """remote_node (signing with cloud.key) and the cloud link_bridge listening on ``port``."""
    return graph_cloud(robot_namespaces=list(robots), certs=certs, link="zenoh",
                       listen_endpoint=bridge_endpoints("", port)["cloud"],
                       env=with_domain(env, domain_id), bridge_parameters=BRIDGE_PARAMETERS,
                       parameters={**WEIGHTS, "diagnostics_period_s": 0.5})


def robot_bridge(name: str, *, namespace: str, domain_id: int, env: Dict[str, str], certs: str,
                 port: int, stem: str, cert_dir: str = None) -> NodeProcess:
    """A robot's link_bridge dialling the cloud with ``<cert_dir or certs>/<stem>.pem``."""
    return link_bridge_process(
        name, role="robot", namespace=namespace, env=with_domain(env, domain_id),
        endpoint=bridge_endpoints("", port)["robot"], certs=certs, stem=stem,
        robots=[namespace], cert_dir=cert_dir or "", parameters=BRIDGE_PARAMETERS)


def robot_processes(prefix: str, *, namespace: str, domain_id: int, env: Dict[str, str],
                    certs: str, tmp_path, fps: float, duration_s: float,
                    max_feature_age_ms: float) -> List[NodeProcess]:
    """robot_main (segmenter, fusion verifying cloud.pem, uplink) and the demo's camera."""
    config = get_config(PRESET)
    [robot] = graph_robot(
        name=prefix, namespace=namespace, certs=certs, env=with_domain(env, domain_id),
        parameters={**WEIGHTS, "backend": "onnxruntime",
                    "cache_dir": str(tmp_path), "diagnostics_period_s": 0.2,
                    "publish_overlay": False, "image_queue_depth": 60,
                    "max_feature_age_ms": float(max_feature_age_ms),
                    "remote_height": config.remote_hw[0], "remote_width": config.remote_hw[1]})
    camera = camera_process(seed=1_000_000 + domain_id, motion=1.0, fps=fps,
                            camera_hw=config.remote_hw, duration_s=duration_s,
                            robot_domain=domain_id, env=env)
    camera.name = f"{prefix}_camera"
    return [robot, camera]


class Observer:
    """One rclpy context on a DDS domain, spun by its own thread: records what arrives.

    ``segmented`` / ``camera``: (arrival time [s, monotonic], stamp [ns]) of the robot's
    segmentation and of the camera frames; ``statuses[name]``: (arrival time, message, values)
    of every /diagnostics status whose name ends with one of ``status_suffixes``;
    ``counts[topic]``: messages seen on extra topics (``count``); ``raw[topic]``: their
    serialised bytes (``record``).
    """

    def __init__(self, domain_id: int, name: str, namespace: str = "", status_suffixes=()):
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import Image

        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.segmented, self.camera = deque(maxlen=20000), deque(maxlen=20000)
        self.statuses: Dict[str, deque] = {}
        self.counts: Dict[str, int] = {}
        self.raw: Dict[str, deque] = {}
        self._suffixes = tuple(status_suffixes)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 50)
        if namespace:
            self.node.create_subscription(
                Image, f"{namespace}/dedelayed/segmentation",
                lambda m: self.segmented.append((time.monotonic(), _stamp_ns(m))), 50)
            self.node.create_subscription(
                Image, "/camera/image_raw",
                lambda m: self.camera.append((time.monotonic(), _stamp_ns(m))),
                qos_profile_sensor_data)
            # the demo's camera plays once the robot's two readers and this one (and a
            # ground-truth reader) are matched: no frame goes out unseen
            self.node.create_subscription(Image, "/camera/ground_truth", lambda m: None, 5)
        self._thread = threading.Thread(target=self._spin, daemon=True, name=f"spin-{name}")
        self._thread.start()

    def record(self, msg_type, topic: str, qos, maxlen: int = 500) -> None:
        """Keep the serialised bytes of what arrives on ``topic`` in ``raw[topic]``, as DDS
        carried them (no re-serialisation: CDR padding bytes are not defined)."""
        kept = self.raw[topic] = deque(maxlen=maxlen)
        self.node.create_subscription(msg_type, topic, lambda payload: kept.append(payload), qos,
                                      raw=True)

    def count(self, msg_type, topic: str, qos) -> None:
        self.counts[topic] = 0

        def add(_):
            self.counts[topic] += 1
        self.node.create_subscription(msg_type, topic, add, qos, raw=True)

    def _on_diagnostics(self, array) -> None:
        now = time.monotonic()
        for status in array.status:
            if status.name.endswith(self._suffixes):
                self.statuses.setdefault(status.name, deque(maxlen=5000)).append(
                    (now, status.message, {kv.key: kv.value for kv in status.values}))

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            self.executor.spin()
        except (ExternalShutdownException, Exception):  # noqa: BLE001 -- shutting down
            pass

    def latest(self, suffix: str):
        """(arrival time, message, values) of the newest status named ``*suffix``, or None."""
        found = [q[-1] for name, q in list(self.statuses.items()) if name.endswith(suffix) and q]
        return max(found, key=lambda entry: entry[0]) if found else None

    def since(self, suffix: str, start_s: float) -> list:
        """Every status named ``*suffix`` that arrived after ``start_s`` (monotonic [s])."""
        return sorted((e for name, q in list(self.statuses.items()) if name.endswith(suffix)
                       for e in list(q) if e[0] >= start_s), key=lambda e: e[0])

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=2.0)
        self.context.try_shutdown()
        self._thread.join(timeout=5.0)
        self.node.destroy_node()


def _stamp_ns(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def wait_for(condition, timeout_s: float, period_s: float = 0.05) -> bool:
    """Poll ``condition`` until it holds or ``timeout_s`` passes; its last value."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return bool(condition())
        time.sleep(period_s)
    return True
