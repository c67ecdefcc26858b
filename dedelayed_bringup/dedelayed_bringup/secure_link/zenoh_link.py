"""The secure robot-cloud link over Zenoh, without ROS: keys, session configs, newest-only relay.

What crosses: exactly the link contract of the link emulator (``link_emulation.params``:
uplink CompressedImage + DelayReport up, FeatureMap down), each message as its serialised ROS 2
(CDR) bytes, under the key ``<robot namespace>/<topic>`` (``robot1/`` + ``FEATURES.name``).

- **Robot**: a Zenoh *client* that dials the cloud's one TLS port (``tls/<host>:7447``) with
  its own certificate (CN = its namespace, ``link_certificates``); nothing listens on the robot.
- **Cloud**: a Zenoh *router* listening on that port; mutual TLS against the project CA, and
  access control with default deny: each robot listed may put, get and subscribe under its own
  namespace only (subject = its certificate's common name).
- **Newest only**: messages arriving from Zenoh wait in one slot per key (a newer one replaces
  an older one that was not yet published), and are checked to deserialise as their type
  before they reach the ROS graph; Zenoh publishers drop rather than queue when congested.
"""

from __future__ import annotations

import threading
from typing import Callable, Dict, List, Optional

from dedelayed_bringup.link_emulation.params import DEFAULT_DOWNLINK_TOPICS, DEFAULT_UPLINK_TOPICS
from dedelayed_bringup.secure_link.link_certificates import robot_common_name

UPLINK_TOPICS = DEFAULT_UPLINK_TOPICS      # robot -> cloud
DOWNLINK_TOPICS = DEFAULT_DOWNLINK_TOPICS  # cloud -> robot
DEFAULT_PORT = 7447  # Zenoh's registered port; the only one the cloud opens (TCP)
ROLES = ("robot", "cloud")
ACL_MESSAGES = ["put", "delete", "declare_subscriber", "query", "reply", "declare_queryable",
                "liveliness_token", "liveliness_query", "declare_liveliness_subscriber"]


class MalformedMessage(ValueError):
    """Bytes from the link that do not deserialise as the topic's type (dropped, counted)."""


def robot_key(namespace: str) -> str:
    """'/robot1' -> 'robot1': the key prefix, the certificate CN and the ACL subject."""
    return robot_common_name(namespace)


def topic_key(namespace: str, topic: str) -> str:
    """Zenoh key of a link topic for a robot: '/robot1', 'dedelayed/x' -> 'robot1/dedelayed/x'."""
    return f"{robot_key(namespace)}/{topic.strip('/')}"


def _no_scouting() -> dict:
    # Only the configured endpoint: no multicast scouting, no gossip across networks.
    return {"multicast": {"enabled": False}, "gossip": {"enabled": False}}


def _transport(tls: dict) -> dict:
    # Zenoh moves large payloads through shared memory when both ends share a host, which would
    # bypass TLS (and the benchmark's network path): every byte goes through the TLS link.
    return {"link": {"tls": tls}, "shared_memory": {"enabled": False}}


def _tls(ca_certificate: str, certificate: str, private_key: str, side: str) -> dict:
    return {"root_ca_certificate": ca_certificate, f"{side}_certificate": certificate,
            f"{side}_private_key": private_key, "enable_mtls": True,
            "verify_name_on_connect": True}


def robot_session_config(endpoint: str, *, ca_certificate: str, certificate: str,
                         private_key: str) -> dict:
    """Zenoh config (JSON-able) of a robot: client dialling ``endpoint`` with mutual TLS."""
    _check_endpoint(endpoint)
    return {"mode": "client",
            "connect": {"endpoints": [endpoint]},
            "scouting": _no_scouting(),
            "transport": _transport(_tls(ca_certificate, certificate, private_key, "connect"))}


def access_control(robot_namespaces: List[str]) -> dict:
    """Default deny; robot '<ns>' (certificate CN) may use keys '<ns>/**' only."""
    rules, subjects, policies = [], [], []
    for namespace in robot_namespaces:
        name = robot_key(namespace)
        rules.append({"id": f"own_namespace_{name}", "messages": ACL_MESSAGES,
                      "flows": ["ingress", "egress"], "permission": "allow",
                      "key_exprs": [f"{name}/**"]})
        subjects.append({"id": f"robot_{name}", "cert_common_names": [name]})
        policies.append({"id": f"policy_{name}", "rules": [f"own_namespace_{name}"],
                         "subjects": [f"robot_{name}"]})
    return {"enabled": True, "default_permission": "deny", "rules": rules,
            "subjects": subjects, "policies": policies}


def cloud_session_config(endpoint: str, *, ca_certificate: str, certificate: str,
                         private_key: str, robot_namespaces: List[str]) -> dict:
    """Zenoh config of the cloud: router listening on ``endpoint``, mutual TLS, per-robot ACL."""
    _check_endpoint(endpoint)
    if not robot_namespaces:
        raise ValueError("robot_namespaces is empty: list the robots the cloud serves, "
                         "e.g. ['/robot1']; every other certificate is refused by default")
    return {"mode": "router",
            "listen": {"endpoints": [endpoint]},
            "scouting": _no_scouting(),
            "transport": _transport(_tls(ca_certificate, certificate, private_key, "listen")),
            "access_control": access_control(robot_namespaces)}


def bridge_endpoints(cloud_host: str, port: int) -> Dict[str, str]:
    """{'cloud': where the cloud bridge listens, 'robot': what the robot bridge dials}.

    cloud_host '' = one host: listen on 127.0.0.1, dial 'localhost' (certificates made with
    cloud_hosts ['localhost', '127.0.0.1'] name both: the demo's, the tests' and the
    benchmark's). Else both use cloud_host (an address or DNS name the certificate names).
    """
    if not cloud_host:
        return {"cloud": f"tls/127.0.0.1:{port}", "robot": f"tls/localhost:{port}"}
    return {"cloud": f"tls/{cloud_host}:{port}", "robot": f"tls/{cloud_host}:{port}"}


def _check_endpoint(endpoint: str) -> None:
    if not endpoint.startswith("tls/") or ":" not in endpoint:
        raise ValueError(f"endpoint '{endpoint}' is not a Zenoh TLS endpoint; use "
                         f"'tls/<host>:<port>', e.g. 'tls/cloud.example.org:{DEFAULT_PORT}' "
                         f"(robot) or 'tls/0.0.0.0:{DEFAULT_PORT}' (cloud)")


def certificate_name_warning(certificate: str, namespace: str) -> str:
    """'' if the certificate's CN is the robot's key, else what the cloud will do about it."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    with open(certificate, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names == [robot_key(namespace)]:
        return ""
    return (f"certificate '{certificate}' is issued for {names} but this robot is "
            f"'{namespace}': the cloud's access control will drop its data; use the "
            f"certificate made for it (link_certificates --robot {namespace})")


def certificate_validity_warning(certificate: str, ca_certificate: str, now=None) -> str:
    """'' if ``certificate`` is signed by the CA and valid now, else why the cloud refuses it.

    The cloud's refusal happens inside the TLS handshake and reaches the robot only as
    "Unable to connect"; this names the reason on the robot, where it can be fixed.
    """
    import datetime

    from cryptography import x509

    with open(certificate, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(ca_certificate, "rb") as handle:
        ca = x509.load_pem_x509_certificate(handle.read())
    fix = "issue a new one from the project CA (link_certificates)"
    try:
        cert.verify_directly_issued_by(ca)
    except Exception:  # noqa: BLE001 -- wrong issuer name, signature or key type: not ours
        return (f"certificate '{certificate}' is not signed by the project CA "
                f"'{ca_certificate}' (self-signed or another CA): the cloud refuses it at the "
                f"TLS handshake; {fix}")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now > cert.not_valid_after_utc:
        return (f"certificate '{certificate}' expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} "
                f"UTC: the cloud refuses it at the TLS handshake; {fix}")
    if now < cert.not_valid_before_utc:
        return (f"certificate '{certificate}' is valid only from "
                f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: the cloud refuses it until "
                "then; check this robot's clock")
    return ""


def check_serialized(payload: bytes, msg_type: type) -> None:
    """Raise MalformedMessage unless ``payload`` deserialises as ``msg_type``."""
    from rclpy.serialization import deserialize_message

    try:
        deserialize_message(payload, msg_type)
    except Exception as error:  # noqa: BLE001 -- any failure means: not this type's bytes
        raise MalformedMessage(f"{len(payload)} bytes are not a serialised "
                               f"{msg_type.__name__}: {type(error).__name__}: {error}") from None


class BridgeCounters:
    """What happened to one bridged topic's messages (several threads update it)."""

    FIELDS = ("received", "forwarded", "forwarded_bytes", "dropped_malformed",
              "dropped_superseded", "dropped_not_connected")

    def __init__(self):
        self._lock = threading.Lock()
        self._values = {name: 0 for name in self.FIELDS}

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._values[name] += amount

    def snapshot(self) -> Dict[str, int]:
        with self._lock:
            return dict(self._values)


class NewestOnlyRelay:
    """One slot per key and one thread that hands the newest payload to ``deliver``.

    ``offer`` (Zenoh's receive thread) never blocks on ROS; a payload replaced before it was
    delivered is counted as superseded. ``deliver(key, payload)`` runs on the relay's thread.
    """

    def __init__(self, deliver: Callable[[str, bytes], None],
                 counters: Dict[str, BridgeCounters]):
        self._deliver = deliver
        self._counters = counters
        self._slots: Dict[str, bytes] = {}
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="newest_only_relay", daemon=True)
        self._thread.start()

    def offer(self, key: str, payload: bytes) -> None:
        self._counters[key].add("received")
        with self._wake:
            if key in self._slots:
                self._counters[key].add("dropped_superseded")
            self._slots[key] = payload
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._slots and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                key = next(iter(self._slots))
                payload = self._slots.pop(key)
            self._deliver(key, payload)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=5.0)


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for loopback tests, benchmarks, the demo)."""
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def open_session(config: dict):
    """A Zenoh session for a config dict; raises zenoh.ZError when it cannot connect."""
    import json

    import zenoh

    return zenoh.open(zenoh.Config.from_json5(json.dumps(config)))


def session_peers(session) -> Optional[int]:
    """How many routers (robot) or clients/peers (cloud) this session is connected to."""
    info = session.info
    return len(list(info.routers_zid())) + len(list(info.peers_zid()))
