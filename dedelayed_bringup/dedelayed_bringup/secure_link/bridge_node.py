"""link_bridge: carries the robot-cloud link contract over Zenoh with mutual TLS (ROS plumbing).

Robot (``role: robot``, run in the robot's namespace): the uplink topics go up, the FeatureMap
topic comes down. Cloud (``role: cloud``): the reverse, for every robot in robot_namespaces.
Messages cross as their serialised ROS 2 bytes; keys, configs and the newest-only relay are in
``secure_link/zenoh_link.py``. The robot dials out and redials by itself after a link or cloud restart.

    ros2 run dedelayed_bringup link_bridge --ros-args -r __ns:=/robot1 -p role:=robot \
        -p endpoint:=tls/cloud.example.org:7447 -p ca_certificate:=certs/ca.pem \
        -p certificate:=certs/robot1.pem -p private_key:=certs/robot1.key
"""

from __future__ import annotations

import sys
import threading
from functools import partial
from typing import Dict, List

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

from dedelayed_bringup.relay_topics import parse_topic_spec, reader_qos
from dedelayed_bringup.secure_link.refusals import (
    REFUSAL_QUIET_S,
    ZENOH_LOG_FILTER,
    RefusalLog,
    StdoutTap,
    tls_refusal,
    unknown_robot_refusal,
)
from dedelayed_bringup.secure_link.zenoh_link import (
    DEFAULT_PORT,
    DOWNLINK_TOPICS,
    ROLES,
    UPLINK_TOPICS,
    BridgeCounters,
    MalformedMessage,
    NewestOnlyRelay,
    certificate_name_warning,
    certificate_validity_warning,
    check_serialized,
    cloud_session_config,
    open_session,
    robot_key,
    robot_session_config,
    session_peers,
    topic_key,
)
from dedelayed_link import qos as link_qos
from dedelayed_link import robot_topic
from dedelayed_link.params import Parameter, declare_parameters
from dedelayed_link.ros_main import run_nodes
from dedelayed_models.peer_text import peer_text
from dedelayed_remote.remote_params import normalize_namespace

NODE_NAME = "link_bridge"

PARAMETERS = (
    Parameter("role", "robot", "robot (dials the cloud, uplink out, features in) or cloud "
                               "(listens, serves robot_namespaces)"),
    Parameter("endpoint", f"tls/localhost:{DEFAULT_PORT}",
              "robot: the cloud endpoint it dials, tls/<host>:<port>; cloud: the endpoint it "
              f"listens on, e.g. tls/0.0.0.0:{DEFAULT_PORT} (the one TCP port to open)"),
    Parameter("ca_certificate", "", "project CA certificate (PEM) both sides verify the other "
                                    "against"),
    Parameter("certificate", "", "this side's certificate (PEM): cloud.pem, or <robot>.pem whose "
                                 "CN is the robot namespace"),
    Parameter("private_key", "", "this side's private key (PEM, mode 0600)"),
    Parameter("robot_namespaces", ["/robot1"], "cloud only: robots served and let through access "
                                               "control, each only under its own namespace"),
    Parameter("uplink_topics", UPLINK_TOPICS,
              "topics carried robot -> cloud, each 'topic|package/msg/Type|qos' (as the link "
              "emulator's); default: the link contract"),
    Parameter("downlink_topics", DOWNLINK_TOPICS, "topics carried cloud -> robot, same form"),
    Parameter("reconnect_period_s", 1.0, "robot only: retry period while the cloud cannot be "
                                         "reached [s]"),
    Parameter("diagnostics_period_s", 1.0, "period of /diagnostics [s]"),
    Parameter("refusal_log_quiet_s", REFUSAL_QUIET_S,
              "cloud only: a refused robot's reason is logged once, and again only after it "
              "stayed away this long [s]; every refusal is counted in /diagnostics"),
)


class LinkBridge(Node):
    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        p = self.params = declare_parameters(self, PARAMETERS)
        if p["role"] not in ROLES:
            raise ValueError(f"role '{p['role']}' is unknown; use one of {ROLES}")
        for name in ("ca_certificate", "certificate", "private_key"):
            if not p[name]:
                raise ValueError(f"parameter {name} is empty; the link needs the CA, this side's "
                                 "certificate and key: python -m dedelayed_bringup.secure_link.link_certificates")
        tls = dict(ca_certificate=p["ca_certificate"], certificate=p["certificate"],
                   private_key=p["private_key"])
        if p["role"] == "robot":
            namespaces = [self.get_namespace()]
            if namespaces[0] == "/":
                raise ValueError("a robot link_bridge needs the robot namespace "
                                 "(-r __ns:=/robot1): it names the keys and the certificate")
            self._config = robot_session_config(p["endpoint"], **tls)
            self._certificate_warning = "; ".join(filter(None, (
                certificate_validity_warning(p["certificate"], p["ca_certificate"]),
                certificate_name_warning(p["certificate"], namespaces[0]))))
            if self._certificate_warning:
                self.get_logger().error(self._certificate_warning)
            outgoing, incoming = p["uplink_topics"], p["downlink_topics"]
        else:
            namespaces = [normalize_namespace(n) for n in p["robot_namespaces"]]
            self._config = cloud_session_config(p["endpoint"], robot_namespaces=namespaces, **tls)
            self._certificate_warning = ""
            outgoing, incoming = p["downlink_topics"], p["uplink_topics"]
        self.counters: Dict[str, BridgeCounters] = {}
        self._outgoing: Dict[str, object] = {}  # key -> zenoh publisher, once the session is up
        self._incoming = {}                     # key -> (msg_type, ROS publisher)
        self._labels = {}
        self._session = None
        self._session_error = "not connected yet"
        for namespace in namespaces:
            ros_ns = namespace if p["role"] == "cloud" else ""
            for spec in map(parse_topic_spec, outgoing):
                key = topic_key(namespace, spec.topic)
                self.counters[key] = BridgeCounters()
                self._labels[key] = f"{'up' if p['role'] == 'robot' else 'down'} {key}"
                self.create_subscription(spec.msg_type, robot_topic(ros_ns, spec.topic),
                                         partial(self._on_ros, key), reader_qos(spec.qos),
                                         raw=True)
            for spec in map(parse_topic_spec, incoming):
                key = topic_key(namespace, spec.topic)
                self.counters[key] = BridgeCounters()
                self._labels[key] = f"{'down' if p['role'] == 'robot' else 'up'} {key}"
                self._incoming[key] = (spec.msg_type, self.create_publisher(
                    spec.msg_type, robot_topic(ros_ns, spec.topic), link_qos.newest_reliable()))
        self._relay = NewestOnlyRelay(self._to_ros, self.counters)
        self._diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.create_timer(p["diagnostics_period_s"], self._publish_diagnostics)
        self._stop = threading.Event()
        self.refusals = RefusalLog(quiet_s=p["refusal_log_quiet_s"])
        self._refusals_to_log: List[str] = []  # filled on Zenoh's threads, logged on ROS's
        self._stdout_tap = None
        if p["role"] == "cloud":
            import zenoh

            self._watch_tls_refusals()
            try:
                self._open()
            except zenoh.ZError as error:  # a cloud that cannot listen stops with the reason
                raise RuntimeError(f"cannot listen on {p['endpoint']}: {error}") from None
            self._served = [robot_key(n) for n in namespaces]
            self._link_events = self._session.info.declare_link_events_listener(
                self._on_link_event, history=True)
            self.create_timer(0.2, self._log_refusals)
        else:
            threading.Thread(target=self._dial, name="dial_cloud", daemon=True).start()

    def _watch_tls_refusals(self) -> None:
        """Cloud: turn Zenoh's log lines about refused TLS handshakes into counted refusals."""
        import zenoh

        try:
            self._stdout_tap = StdoutTap(self._on_stdout_line)
        except OSError as error:
            self.get_logger().warning(f"cannot read Zenoh's log ({error}): refused TLS "
                                      "handshakes will not be logged or counted")
            return
        zenoh.init_log_from_env_or(ZENOH_LOG_FILTER)

    def _on_stdout_line(self, line: str) -> bool:
        """StdoutTap: count a TLS refusal and keep its line back (logged once per episode)."""
        refusal = tls_refusal(line)
        if refusal is None:
            return False
        self._record_refusal(refusal)
        return True

    def _on_link_event(self, event) -> None:
        """Cloud: a link whose certificate CN is no served robot passed TLS; ACL drops its data."""
        import zenoh

        name = event.link.auth_identifier
        if event.kind == zenoh.SampleKind.PUT and name is not None and name not in self._served:
            self._record_refusal(unknown_robot_refusal(name, self._served),
                                 f"{peer_text(name)} from {peer_text(event.link.dst)}")

    def _record_refusal(self, refusal, peer: str = "peer address not logged by Zenoh") -> None:
        if self.refusals.record(refusal):
            self._refusals_to_log.append(
                f"refused a robot ({peer}): {refusal.detail} [{refusal.kind}; repeats are "
                f"counted in /diagnostics, logged again after {self.refusals.quiet_s:g} s "
                "without one]")

    def _log_refusals(self) -> None:
        while self._refusals_to_log:
            self.get_logger().warning(self._refusals_to_log.pop(0))

    def _dial(self) -> None:
        """Robot: open the session, retrying until the cloud answers (Zenoh then redials)."""
        import zenoh

        logged = None
        while not self._stop.is_set():
            try:
                self._open()
                return
            except zenoh.ZError as error:
                self._session_error = f"cannot reach the cloud at {self.params['endpoint']}: {error}"
                if logged != str(error):  # once per distinct failure, not every second
                    logged = str(error)
                    self.get_logger().warning(f"{self._session_error}; retrying every "
                                              f"{self.params['reconnect_period_s']} s")
            self._stop.wait(self.params["reconnect_period_s"])

    def _open(self) -> None:
        import zenoh

        session = open_session(self._config)
        publishers = {key: session.declare_publisher(
            key, congestion_control=zenoh.CongestionControl.DROP, express=True)
            for key in self.counters if key not in self._incoming}
        for key in self._incoming:
            session.declare_subscriber(
                key, lambda sample, k=key: self._relay.offer(k, bytes(sample.payload)))
        self._outgoing, self._session = publishers, session
        self._session_error = ""
        self.get_logger().info(f"link up ({self.params['role']}, {self.params['endpoint']}): "
                               f"{sorted(self._labels.values())}")

    def _on_ros(self, key: str, serialized: bytes) -> None:
        counters = self.counters[key]
        counters.add("received")
        publisher = self._outgoing.get(key)
        if publisher is None:
            counters.add("dropped_not_connected")
            return
        publisher.put(serialized)
        counters.add("forwarded")
        counters.add("forwarded_bytes", len(serialized))

    def _to_ros(self, key: str, payload: bytes) -> None:
        msg_type, publisher = self._incoming[key]
        try:
            check_serialized(payload, msg_type)
        except MalformedMessage as error:
            self.counters[key].add("dropped_malformed")
            self.get_logger().error(f"dropped a malformed message on {key}: {error}",
                                    throttle_duration_sec=5.0)
            return
        publisher.publish(payload)
        self.counters[key].add("forwarded")
        self.counters[key].add("forwarded_bytes", len(payload))

    def _publish_diagnostics(self) -> None:
        connected = self._session is not None and (self.params["role"] == "cloud" or
                                                   session_peers(self._session) > 0)
        not_connected = (self._session_error
                         or "cloud not connected (refused by TLS or unreachable; redialling)")
        message = self._certificate_warning or ("link up" if connected else not_connected)
        statuses: List[DiagnosticStatus] = []
        for key, counters in self.counters.items():
            values = [KeyValue(key=k, value=str(v)) for k, v in counters.snapshot().items()]
            values.append(KeyValue(key="connected", value=str(connected).lower()))
            statuses.append(DiagnosticStatus(
                level=DiagnosticStatus.OK if connected and not self._certificate_warning
                else DiagnosticStatus.WARN,
                name=f"{self.get_fully_qualified_name()}: {self._labels[key]}",
                message=message, hardware_id=self.params["endpoint"], values=values))
        if self.params["role"] == "cloud":
            statuses.append(self._refusal_status())
        array = DiagnosticArray(status=statuses)
        array.header.stamp = self.get_clock().now().to_msg()
        self._diagnostics.publish(array)

    def _refusal_status(self) -> DiagnosticStatus:
        """Cloud: robots refused at the TLS handshake or by access control, by kind."""
        counts = self.refusals.counts()
        values = [KeyValue(key="refused_total", value=str(sum(counts.values())))]
        values += [KeyValue(key=f"refused_{kind}", value=str(n))
                   for kind, n in sorted(counts.items())]
        values.append(KeyValue(key="refusals_watched", value=str(
            self._stdout_tap is not None).lower()))
        return DiagnosticStatus(
            level=DiagnosticStatus.WARN if counts else DiagnosticStatus.OK,
            name=f"{self.get_fully_qualified_name()}: refused robots",
            message=(f"last refusal: {self.refusals.last_detail}" if counts
                     else "no robot refused"),
            hardware_id=self.params["endpoint"], values=values)

    def destroy_node(self):
        self._stop.set()
        self._relay.stop()
        if self._session is not None:
            self._session.close()
        if self._stdout_tap is not None:
            self._stdout_tap.close()
        return super().destroy_node()


def main(args=None) -> int:
    return run_nodes(lambda: [LinkBridge()], name=NODE_NAME, args=args)


if __name__ == "__main__":
    sys.exit(main())
