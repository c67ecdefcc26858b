"""Secure link benchmark: a FeatureMap through the Zenoh TLS bridges vs direct DDS, one run.

    python -m dedelayed_bringup.bench.link_latency --out bench_out/link_latency.json

For a 37 kB (64x12x24 float16, the shipped model) and a 1.2 MB (96x60x108 float16, paper)
FeatureMap: publish-to-receive latency (median, p99) at 10 Hz, throughput back to back
(delivered messages/s and MB/s; newest-only QoS drops the rest), and bytes per message: the
serialised CDR size (what DDS carries) and the TCP bytes the TLS connection carried (``ss``).
Direct DDS: publisher and receiver are two processes in one domain (Fast DDS defaults, same
host). Bridge: publisher in the cloud's domain -> cloud bridge -> Zenoh over TLS on loopback ->
robot bridge -> receiver in the robot's domain. Prints a markdown table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from dedelayed_link import FEATURES, robot_topic
from dedelayed_link.stamps import stamp_to_ns

SIZES = {"37 kB (64x12x24 float16)": (64, 12, 24), "1.2 MB (96x60x108 float16)": (96, 60, 108)}
TOPIC = robot_topic("/robot1", FEATURES.name)


def _tls_bytes(port: int) -> int:
    """Bytes the robot side received on its TLS connection to ``port`` so far (ss -ti)."""
    out = subprocess.run(["ss", "-tinH", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, text=True).stdout
    return sum(int(n) for n in re.findall(r"bytes_received:(\d+)", out))


def _bridge(role, domain_id, certs, port):
    from dedelayed_bringup.graph import link_bridge_process
    from dedelayed_bringup.secure_link.zenoh_link import bridge_endpoints
    from dedelayed_bringup.stack_command import node_command, node_env

    stem, ns = ("cloud", "/") if role == "cloud" else ("robot1", "/robot1")
    spec = link_bridge_process(f"{stem}_bridge", role=role, namespace=ns,
                               env={"ROS_DOMAIN_ID": str(domain_id)},
                               endpoint=bridge_endpoints("", port)[role], certs=certs, stem=stem,
                               robots=["/robot1"])
    return subprocess.Popen(node_command(spec, sys.executable), env=node_env(spec),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Receiver:
    def __init__(self, domain_id):
        import rclpy

        from dedelayed_link import qos as link_qos
        from dedelayed_msgs.msg import FeatureMap

        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node("link_bench_receiver", context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.samples = []  # (receive wall ns, publish wall ns, serialised bytes)
        self.node.create_subscription(FeatureMap, TOPIC, self._on, link_qos.newest_reliable())

    def _on(self, msg):
        now = time.time_ns()
        sent = stamp_to_ns(msg.remote_publish_time)
        self.samples.append((now, sent))

    def run_publisher(self, domain_id, shape, count, rate_hz, timeout_s=120):
        self.samples.clear()
        publisher = subprocess.Popen(
            [sys.executable, "-m", "dedelayed_bringup.bench.link_publisher", "--topic", TOPIC,
             "--shape", *map(str, shape), "--count", str(count), "--rate-hz", str(rate_hz)],
            env=dict(os.environ, ROS_DOMAIN_ID=str(domain_id)))
        deadline = time.monotonic() + timeout_s
        while publisher.poll() is None and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.01)
        if publisher.poll() is None:
            publisher.kill()
        for _ in range(20):
            self.executor.spin_once(timeout_sec=0.01)
        return list(self.samples)

    def close(self):
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()


def _figures(latency_samples, burst_samples, count, burst_count):
    latencies = [(r - s) / 1e6 for r, s in latency_samples]
    span_s = ((burst_samples[-1][0] - burst_samples[0][1]) / 1e9) if burst_samples else 0.0
    return {"received": len(latencies), "sent": count,
            "latency_median_ms": statistics.median(latencies) if latencies else None,
            "latency_p99_ms": float(np.percentile(latencies, 99)) if latencies else None,
            "burst_sent": burst_count, "burst_received": len(burst_samples),
            "burst_messages_per_s": len(burst_samples) / span_s if span_s > 0 else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=60, help="messages per size at 10 Hz")
    parser.add_argument("--burst", type=int, default=60, help="back-to-back messages per size")
    parser.add_argument("--out", default="bench_out/link_latency.json")
    args = parser.parse_args(argv)

    from rclpy.serialization import serialize_message

    from dedelayed_bringup.secure_link.link_certificates import make_certificates
    from dedelayed_bringup.secure_link.zenoh_link import free_tcp_port
    from dedelayed_models.transport import encode_features
    from dedelayed_models.transport.feature_msg import fill_feature_map
    from dedelayed_msgs.msg import FeatureMap

    robot_domain = random.SystemRandom().randint(120, 200)
    cloud_domain = robot_domain + 1
    results = {}
    with tempfile.TemporaryDirectory() as certs:
        make_certificates(certs, cloud_hosts=["localhost", "127.0.0.1"], robots=["/robot1"])
        port = free_tcp_port()
        cloud = _bridge("cloud", cloud_domain, certs, port)
        robot = _bridge("robot", robot_domain, certs, port)
        receiver = Receiver(robot_domain)
        try:
            time.sleep(3.0)  # bridges up and connected
            for label, shape in SIZES.items():
                probe = fill_feature_map(FeatureMap(), encode_features(
                    np.zeros(shape, np.float32), "float16"))
                cdr_bytes = len(serialize_message(probe))
                row = {"cdr_bytes_per_message": cdr_bytes}
                for mode, domain in (("dds", robot_domain), ("zenoh_tls_bridge", cloud_domain)):
                    before = _tls_bytes(port)
                    timed = receiver.run_publisher(domain, shape, args.count, 10.0)
                    tls = (_tls_bytes(port) - before) / max(1, len(timed))
                    burst = receiver.run_publisher(domain, shape, args.burst, 0.0)
                    figures = _figures(timed, burst, args.count, args.burst)
                    if figures["burst_messages_per_s"]:
                        figures["burst_mbytes_per_s"] = figures["burst_messages_per_s"] * cdr_bytes / 1e6
                    if mode == "zenoh_tls_bridge":
                        figures["tls_tcp_bytes_per_message"] = tls
                    row[mode] = figures
                results[label] = row
        finally:
            receiver.close()
            for process in (cloud, robot):
                process.terminate()
                process.wait(timeout=15)
    print("| FeatureMap | path | median ms | p99 ms | received / sent at 10 Hz | back to back "
          "msg/s (MB/s) | bytes per message |\n|---|---|---|---|---|---|---|")
    for label, row in results.items():
        for mode in ("dds", "zenoh_tls_bridge"):
            f = row[mode]
            wire = (f"{row['cdr_bytes_per_message']} CDR" if mode == "dds" else
                    f"{f['tls_tcp_bytes_per_message']:.0f} TLS/TCP payload")
            rate = (f"{f['burst_messages_per_s']:.1f} ({f.get('burst_mbytes_per_s', 0):.1f})"
                    if f["burst_messages_per_s"] else "-")
            print(f"| {label} | {mode} | {f['latency_median_ms']:.2f} | {f['latency_p99_ms']:.2f} "
                  f"| {f['received']} / {f['sent']} | {rate} | {wire} |")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump({"sizes": results, "load_average": os.getloadavg(),
                   "note": "one run on loopback; same host clock for both ends"}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
