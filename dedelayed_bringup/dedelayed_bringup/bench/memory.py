"""Peak resident memory of the real node processes under a short synthetic camera stream.

Starts the ``robot`` process (segmenter + fusion + uplink) and the cloud ``remote_node`` as
child processes (``Stack``) on a DDS domain of their own, publishes world frames at 30 fps to
the robot's camera topic, and reads each process's peak resident set (``VmHWM`` in
/proc/<pid>/status, Linux) before stopping them. Counting the outputs proves the pipeline ran.
"""

from __future__ import annotations

import random
import time
from typing import Dict

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from sensor_msgs.msg import Image

from dedelayed_bringup.graph import cloud_processes, robot_processes
from dedelayed_bringup.stack import Stack
from dedelayed_link import FEATURES, SEGMENTATION_TOPIC, robot_topic
from dedelayed_models.data import WorldSequence
from dedelayed_models.data.timing import DEFAULT_FPS
from dedelayed_models.modeling import get_config
from dedelayed_models.shipped import RANDOM_WEIGHTS

NAMESPACE = "/bench"
CAMERA_TOPIC = "/bench/camera/image_raw"


def proc_memory_mib(pid: int) -> Dict[str, float]:
    """{"peak_rss_mib": VmHWM, "rss_mib": VmRSS} of a live process [MiB]."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) / 1024.0  # kB -> MiB
    return {"peak_rss_mib": fields.get("VmHWM", float("nan")),
            "rss_mib": fields.get("VmRSS", float("nan"))}


def node_specs(preset: str, domain_id: int):
    cfg = get_config(preset)
    env = {"ROS_DOMAIN_ID": domain_id, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    weights = {"checkpoint": RANDOM_WEIGHTS, "preset": preset}
    [robot] = robot_processes(namespace=NAMESPACE, env=env, image=CAMERA_TOPIC,
                              parameters={**weights, "remote_height": cfg.remote_hw[0],
                                          "remote_width": cfg.remote_hw[1]})
    [remote] = cloud_processes(name="remote", namespace=NAMESPACE, env=env, parameters=weights)
    return [robot, remote]


def peak_memory(preset: str, camera_hw, duration_s: float = 10.0,
                start_timeout_s: float = 120.0) -> Dict:
    """Run robot + remote for ``duration_s`` of 30 fps camera frames; their memory and counts."""
    from dedelayed_msgs.msg import FeatureMap

    domain_id = random.SystemRandom().randint(120, 210)
    frames = WorldSequence(1001, num_frames=30, camera_hw=tuple(camera_hw))
    images = [frames.frame(t) for t in range(30)]
    counts = {"camera_frames": 0, "segmentations": 0, "feature_maps": 0}
    with Stack(node_specs(preset, domain_id), output=None) as stack:
        stack.wait_for_output("robot", r"segmenting", start_timeout_s)
        stack.wait_for_output("remote", r"serving", start_timeout_s)
        context = rclpy.Context()
        rclpy.init(context=context, domain_id=domain_id)
        try:
            node = Node("dedelayed_bench_camera", context=context)
            pub = node.create_publisher(Image, CAMERA_TOPIC, 10)
            node.create_subscription(Image, robot_topic(NAMESPACE, SEGMENTATION_TOPIC),
                                     lambda _m: _count(counts, "segmentations"), 10)
            node.create_subscription(FeatureMap, robot_topic(NAMESPACE, FEATURES.name),
                                     lambda _m: _count(counts, "feature_maps"), FEATURES.qos_profile())
            executor = SingleThreadedExecutor(context=context)
            executor.add_node(node)
            _wait_for_subscriber(pub, executor, start_timeout_s)
            _stream(node, pub, executor, images, duration_s, counts)
        finally:
            rclpy.try_shutdown(context=context)
        memory = {name: proc_memory_mib(child.process.pid)
                  for name, child in stack.children.items()}
    return {"preset": preset, "camera_hw": list(camera_hw), "duration_s": duration_s,
            "rate_hz": DEFAULT_FPS, "counts": counts, "processes": memory}


def _count(counts: Dict[str, int], key: str) -> None:
    counts[key] += 1


def _wait_for_subscriber(pub, executor, timeout_s: float) -> None:
    """Frames published before DDS discovery matched the robot would be lost, not measured."""
    deadline = time.monotonic() + timeout_s
    while pub.get_subscription_count() == 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the robot never subscribed to {CAMERA_TOPIC} in {timeout_s:g} s")
        executor.spin_once(timeout_sec=0.1)


def _stream(node, pub, executor, images, duration_s: float, counts: Dict[str, int]) -> None:
    from dedelayed_local.image_codec import fill_image_msg

    period_s = 1.0 / DEFAULT_FPS
    start = time.monotonic()
    while time.monotonic() - start < duration_s:
        msg = fill_image_msg(Image(), images[counts["camera_frames"] % len(images)], "rgb8")
        msg.header.stamp = node.get_clock().now().to_msg()
        msg.header.frame_id = "camera"
        pub.publish(msg)
        counts["camera_frames"] += 1
        next_s = start + counts["camera_frames"] * period_s
        while time.monotonic() < next_s:
            executor.spin_once(timeout_sec=max(0.0, next_s - time.monotonic()))
    end = time.monotonic() + 1.0  # let the last outputs arrive
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.1)
