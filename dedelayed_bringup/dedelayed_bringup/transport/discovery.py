"""How the robot and the cloud find each other across hosts: three ways, one function each.

Each returns the environment variables to set for every ROS process of one host (pass them
as ``NodeProcess(env=...)`` or export them); nothing here needs ROS. Use one way per host and
leave the other ways' variables unset (ROS_STATIC_PEERS, ROS_DISCOVERY_SERVER,
FASTRTPS_DEFAULT_PROFILES_FILE / FASTDDS_DEFAULT_PROFILES_FILE).

1. ``unicast_profile_env`` - a Fast DDS XML profile with unicast initial peers and multicast
   off (the robot lists the cloud's address, the cloud the robot's; 127.0.0.1 is added so the
   processes of one host still find each other). Works through routers and VPNs that drop
   multicast; the profile also fixes the transports and the number of ports probed per peer.
2. ``static_peers_env`` - ROS 2's own (Jazzy and later) ``ROS_STATIC_PEERS`` with
   ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``: rmw_fastrtps then stops listening to
   multicast and sends discovery to the listed peers and 127.0.0.1. No file, any RMW.
3. ``discovery_server_env`` - Fast DDS discovery server: one ``fast-discovery-server`` process
   (e.g. on the cloud) that every participant registers with; see ``discovery_server_command``.

And for processes of ONE host (the demo, the tests): ``same_host_profile_env`` - Fast DDS's
shared-memory transport with 16 MB segments. Its default 512 KB segment cannot hold a 1.24 MB
FeatureMap, which then goes over loopback UDP instead: measured here, the emulator's relay hop
for a FeatureMap took a median 17 ms with the defaults and 6 ms with this profile.

Ports (UDP; Fast DDS defaults, RTPS spec 9.6.1.1; d = ROS_DOMAIN_ID, p = participant index
0, 1, 2, ... per process on a host): discovery unicast 7410 + 250 d + 2 p, user data unicast
7411 + 250 d + 2 p (multicast 7400 + 250 d and 7401 + 250 d are not used by 1 and 2). Open
them between the hosts for p up to the number of ROS processes per host; the discovery
server listens on its own port (11811 default).
"""

import os
import xml.etree.ElementTree as ET
from typing import Dict, Iterable, Optional

PROFILE_NAME = "dedelayed_unicast_peers"
DISCOVERY_SERVER_PORT = 11811
# How many participant indexes (processes per host) each initial peer is probed on. Fast DDS's
# default is 4; a robot runs camera, segmenter+fusion, uplink, the emulator, tools: say 16.
DEFAULT_MAX_PARTICIPANTS_PER_HOST = 16


def discovery_ports(domain_id: int, participant_index: int) -> Dict[str, int]:
    """UDP ports of one participant (Fast DDS defaults): where a firewall must let traffic in."""
    base = 7400 + 250 * domain_id
    return {"discovery_unicast": base + 10 + 2 * participant_index,
            "user_unicast": base + 11 + 2 * participant_index,
            "discovery_multicast": base, "user_multicast": base + 1}


FASTDDS_PROFILES_NS = "http://www.eprosima.com/XMLSchemas/fastRTPS_Profiles"


def _element(parent: ET.Element, tag: str, text=None, comment: Optional[str] = None) -> ET.Element:
    """Append ``<tag>text</tag>`` to ``parent`` (after ``<!-- comment -->`` if given)."""
    if comment:
        parent.append(ET.Comment(f" {comment} "))
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = str(text)
    return child


def _transport(descriptors: ET.Element, transport_id: str, kind: str, settings=()) -> None:
    """One ``<transport_descriptor>``: id, type (UDPv4, SHM) and (tag, value, comment) settings."""
    descriptor = _element(descriptors, "transport_descriptor")
    _element(descriptor, "transport_id", transport_id)
    _element(descriptor, "type", kind)
    for tag, value, comment in settings:
        _element(descriptor, tag, value, comment)


def _profile_document(header: str, profile_name: str, transports: list) -> tuple:
    """The skeleton every Fast DDS profile here shares.

    ``transports``: (transport_id, type, settings) triples, all used by the one default
    participant profile, with Fast DDS's builtin transports off. Returns (root, rtps): add
    participant settings under ``rtps``, then pass ``root`` to ``_profile_text``.
    """
    root = ET.Element("dds")
    root.append(ET.Comment(header))
    profiles = _element(root, "profiles")
    profiles.set("xmlns", FASTDDS_PROFILES_NS)
    descriptors = _element(profiles, "transport_descriptors")
    for transport_id, kind, settings in transports:
        _transport(descriptors, transport_id, kind, settings)
    participant = _element(profiles, "participant")
    participant.set("profile_name", profile_name)
    participant.set("is_default_profile", "true")
    rtps = _element(participant, "rtps")
    user = _element(rtps, "userTransports")
    for transport_id, _, _ in transports:
        _element(user, "transport_id", transport_id)
    _element(rtps, "useBuiltinTransports", "false")
    return root, rtps


def _profile_text(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _write_profile(profile_path: str, xml: str) -> Dict[str, str]:
    """Write a profile; the env vars that make rmw_fastrtps load it (Fast DDS 2.x reads
    FASTRTPS_DEFAULT_PROFILES_FILE (Humble, Jazzy), Fast DDS 3.x (Kilted) FASTDDS_...)."""
    path = os.path.abspath(profile_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(xml)
    return {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp",
            "FASTRTPS_DEFAULT_PROFILES_FILE": path, "FASTDDS_DEFAULT_PROFILES_FILE": path}


UNICAST_HEADER = """ Dedelayed: Fast DDS discovery by unicast initial peers, multicast off.
     Written by dedelayed_bringup/transport/discovery.py. Use: FASTRTPS_DEFAULT_PROFILES_FILE=<this file>
     (Fast DDS 2.x: Humble, Jazzy; FASTDDS_DEFAULT_PROFILES_FILE on Fast DDS 3.x) and
     ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET (so rmw_fastrtps leaves the profile as it is). """


def unicast_profile_xml(peers: Iterable[str], *, include_localhost: bool = True,
                        shared_memory: bool = True,
                        max_participants_per_host: int = DEFAULT_MAX_PARTICIPANTS_PER_HOST,
                        socket_buffer_bytes: Optional[int] = None) -> str:
    """The Fast DDS XML profile text (see config/fastdds_unicast_peers.xml for an example).

    ``peers``: IPv4 addresses (or names) of the OTHER host(s). ``shared_memory`` keeps Fast
    DDS's shared-memory transport for processes of the same host (large local messages);
    turn it off to force every byte through UDP. ``socket_buffer_bytes`` raises the UDP
    buffers for the ~1.2 MB FeatureMaps (capped by net.core.rmem_max / wmem_max).
    """
    peers = list(peers) + (["127.0.0.1"] if include_localhost else [])
    if not peers:
        raise ValueError("no initial peers: give the other host's address, e.g. ['10.0.0.2']")
    udp = [("maxInitialPeersRange", int(max_participants_per_host),
            "participant indexes probed on each peer: processes per host")]
    if socket_buffer_bytes is not None:
        udp += [("sendBufferSize", int(socket_buffer_bytes), None),
                ("receiveBufferSize", int(socket_buffer_bytes), None)]
    transports = [("dedelayed_udpv4", "UDPv4", udp)]
    if shared_memory:
        transports.append(("dedelayed_shm", "SHM", ()))
    root, rtps = _profile_document(UNICAST_HEADER, PROFILE_NAME, transports)
    builtin = _element(rtps, "builtin")
    metatraffic = _element(builtin, "metatrafficUnicastLocatorList",
                           comment="an explicit (any-address) unicast metatraffic locator: no multicast listener")
    _element(metatraffic, "locator")
    initial_peers = _element(builtin, "initialPeersList")
    for peer in peers:
        _element(_element(_element(initial_peers, "locator"), "udpv4"), "address", peer)
    return _profile_text(root)


def unicast_profile_env(profile_path: str, peers: Iterable[str], **profile_options
                        ) -> Dict[str, str]:
    """Write the unicast-peers profile to ``profile_path``; return the env vars that use it."""
    env = _write_profile(profile_path, unicast_profile_xml(peers, **profile_options))
    # SUBNET = "use the middleware's configuration": LOCALHOST would add its own peers
    # and OFF would disable discovery altogether (rmw_fastrtps participant.cpp).
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "SUBNET"
    return env


def unicast_env_from_addresses(addresses: str, profile_name: str) -> Dict[str, str]:
    """For launch arguments: "10.0.0.2, 10.0.0.3" -> the env vars of a unicast-peers profile
    written to ~/.ros/<profile_name>.xml; {} when no address is given (default discovery)."""
    peers = [address.strip() for address in addresses.split(",") if address.strip()]
    if not peers:
        return {}
    profile = os.path.join(os.path.expanduser("~"), ".ros", profile_name + ".xml")
    return unicast_profile_env(profile, peers)


def static_peers_env(peers: Iterable[str], *, shared_memory: bool = True) -> Dict[str, str]:
    """ROS_STATIC_PEERS (Jazzy+): unicast discovery to ``peers`` and 127.0.0.1, no multicast."""
    peers = list(peers)
    if not peers:
        raise ValueError("no static peers: give the other host's address, e.g. ['10.0.0.2']")
    env = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_STATIC_PEERS": ";".join(peers)}
    if not shared_memory:
        env["FASTDDS_BUILTIN_TRANSPORTS"] = "UDPv4"  # Fast DDS >= 2.13
    return env


def discovery_server_env(server_address: str, port: int = DISCOVERY_SERVER_PORT, *,
                         shared_memory: bool = True) -> Dict[str, str]:
    """Register with a Fast DDS discovery server at ``server_address:port`` (server id 0)."""
    env = {"RMW_IMPLEMENTATION": "rmw_fastrtps_cpp",
           "ROS_DISCOVERY_SERVER": f"{server_address}:{port}",
           "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}
    if not shared_memory:
        env["FASTDDS_BUILTIN_TRANSPORTS"] = "UDPv4"
    return env


def discovery_server_command(listen_address: str, port: int = DISCOVERY_SERVER_PORT,
                             server_id: int = 0) -> list:
    """argv of the discovery server (the `fast-discovery-server` of the Fast DDS install)."""
    return ["fast-discovery-server", "-i", str(server_id), "-l", listen_address,
            "-p", str(port)]


SAME_HOST_PROFILE_NAME = "dedelayed_same_host_large_data"
SHM_SEGMENT_BYTES = 16 * 1024 * 1024  # holds several 1.24 MB float16 FeatureMaps at once


SAME_HOST_HEADER = """ Dedelayed: processes on one host; large messages (FeatureMaps) through shared memory.
     Written by dedelayed_bringup/transport/discovery.py. Use: FASTRTPS_DEFAULT_PROFILES_FILE=<this file>
     (FASTDDS_DEFAULT_PROFILES_FILE on Fast DDS 3.x). Discovery stays as ROS configures it. """


def same_host_profile_xml(segment_bytes: int = SHM_SEGMENT_BYTES) -> str:
    """Fast DDS profile: shared memory with ``segment_bytes`` segments, plus UDP (discovery)."""
    shm = [("segment_size", int(segment_bytes), "the default 512 KB segment cannot hold one 1.24 MB FeatureMap"),
           ("maxMessageSize", int(segment_bytes), None)]
    root, _ = _profile_document(SAME_HOST_HEADER, SAME_HOST_PROFILE_NAME,
                                [("dedelayed_shm_large", "SHM", shm), ("dedelayed_udpv4", "UDPv4", ())])
    return _profile_text(root)


def same_host_profile_env(profile_path: str, segment_bytes: int = SHM_SEGMENT_BYTES
                          ) -> Dict[str, str]:
    """Write the same-host large-data profile to ``profile_path``; the env vars that use it."""
    return _write_profile(profile_path, same_host_profile_xml(segment_bytes))
