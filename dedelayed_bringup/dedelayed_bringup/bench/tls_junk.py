"""How long a robot's link_bridge needs to connect while junk hits the cloud's TLS port.

    python -m dedelayed_bringup.bench.tls_junk --mode junk --rate-hz 50 --json out.json
    python -m dedelayed_bringup.bench.tls_junk --mode none          # the same without junk

A cloud link_bridge listens on a free port of 127.0.0.1; a client with no certificate opens
``--rate-hz`` TCP connections a second to it (``junk``: 512 random bytes then close;
``halfopen``: connect, send nothing, keep at most ``--held`` of them open), for ``--warm-s``
before the robot's bridge starts and until it says "link up" or ``--timeout-s`` passes. The
junk goes to 127.0.0.1 only and stops with the run; it is bounded by rate, time and ``--held``.
Prints one JSON line (and writes it to ``--json``): connections sent, the robot's connect time
[s] (null when it did not connect in time) and how many lines the cloud bridge printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import tempfile
import threading
import time

from dedelayed_bringup.graph import link_bridge_process
from dedelayed_bringup.secure_link.link_certificates import make_certificates
from dedelayed_bringup.secure_link.zenoh_link import bridge_endpoints, free_tcp_port
from dedelayed_bringup.stack import Stack, StackError

MODES = ("none", "junk", "halfopen")


class JunkClient:
    """Opens ``rate_hz`` connections a second to 127.0.0.1:``port`` on its own thread."""

    def __init__(self, port: int, mode: str, rate_hz: float, held: int):
        self.port, self.mode, self.rate_hz, self.held = port, mode, rate_hz, held
        self.sent = 0
        self._open: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tls_junk", daemon=True)

    def start(self) -> "JunkClient":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        for connection in self._open:
            connection.close()

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            try:
                connection = socket.create_connection(("127.0.0.1", self.port), timeout=1.0)
                if self.mode == "junk":
                    connection.sendall(os.urandom(512))
                    connection.close()
                else:
                    self._open.append(connection)
                    while len(self._open) > self.held:
                        self._open.pop(0).close()
                self.sent += 1
            except OSError:
                pass
            due += 1.0 / self.rate_hz
            time.sleep(max(0.0, due - time.monotonic()))


def measure(mode: str, rate_hz: float, warm_s: float, timeout_s: float, held: int) -> dict:
    folder = tempfile.mkdtemp(prefix="tls_junk_")
    certs = os.path.join(folder, "certs")
    make_certificates(certs, cloud_hosts=["localhost", "127.0.0.1"], robots=["/robot1"])
    port = free_tcp_port()
    endpoints = bridge_endpoints("", port)
    domain = random.SystemRandom().randint(120, 200)
    cloud = link_bridge_process("cloud_bridge", role="cloud", namespace="/",
                                endpoint=endpoints["cloud"], certs=certs, stem="cloud",
                                robots=["/robot1"], env={"ROS_DOMAIN_ID": str(domain)})
    robot = link_bridge_process("robot_bridge", role="robot", namespace="/robot1",
                                endpoint=endpoints["robot"], certs=certs, stem="robot1",
                                robots=["/robot1"], env={"ROS_DOMAIN_ID": str(domain + 1)},
                                parameters={"reconnect_period_s": 0.3})
    junk = None
    with Stack([cloud], output=None) as cloud_stack:
        time.sleep(3.0)                              # the router is listening
        if mode != "none":
            junk = JunkClient(port, mode, rate_hz, held).start()
        time.sleep(warm_s)
        started = time.monotonic()
        with Stack([robot], output=None) as robot_stack:
            try:
                robot_stack.wait_for_output("robot_bridge", r"link up", timeout_s)
                connect_s = time.monotonic() - started
            except StackError:
                connect_s = None
        if junk is not None:
            junk.stop()
        cloud_lines = len(cloud_stack.output_of("cloud_bridge").splitlines())
    return {"mode": mode, "rate_hz": rate_hz, "warm_s": warm_s, "timeout_s": timeout_s,
            "connections_sent": junk.sent if junk else 0, "robot_connect_s": connect_s,
            "cloud_bridge_log_lines": cloud_lines}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=MODES, default="junk")
    parser.add_argument("--rate-hz", type=float, default=50.0, help="junk connections a second")
    parser.add_argument("--warm-s", type=float, default=5.0, help="junk before the robot starts [s]")
    parser.add_argument("--timeout-s", type=float, default=30.0, help="robot connect limit [s]")
    parser.add_argument("--held", type=int, default=200, help="halfopen: most connections held")
    parser.add_argument("--json", default="", help="also write the result here")
    args = parser.parse_args(argv)
    if not 0 < args.rate_hz <= 500:
        parser.error(f"--rate-hz {args.rate_hz}: give 0 < rate <= 500")
    result = measure(args.mode, args.rate_hz, args.warm_s, args.timeout_s, args.held)
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
