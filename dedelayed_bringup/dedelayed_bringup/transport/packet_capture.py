"""What crossed a network interface: a raw-socket capture (Linux AF_PACKET, root) and a search
for plaintext in it. Used by the tests that prove the secure link carries no readable data.

    capture = PacketCapture("lo", tcp_port=7447)   # in this process's network namespace
    ...                                            # traffic
    wire = capture.stop()                          # TCP payload to/from the port, both ways
    capture.other_flows()                          # {"ipv4/udp 7410": 3, ...}: anything else
    shared_runs(wire, [secret_bytes], run_bytes=64)  # [] unless a 64-byte run of a secret crossed

A capture inside another namespace runs as its own process (a raw socket belongs to the
namespace of the process that opens it) and writes what it saw when stopped (SIGINT/SIGTERM):

    ip netns exec NS python -m dedelayed_bringup.transport.packet_capture \\
        --interface veth0 --tcp-port 7447 --out capture_dir
    # capture_dir/tcp_payload.bin and capture_dir/summary.json (see CaptureSummary)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import sys
import threading
from collections import Counter
from typing import Dict, Iterable, List, NamedTuple

ETH_P_ALL = 0x0003
SOL_PACKET = 263          # <linux/socket.h>
PACKET_STATISTICS = 6     # <linux/if_packet.h>: struct tpacket_stats {packets, drops}
PACKET_OUTGOING = 4       # sockaddr_ll pkttype of a frame this host sent
ETHERTYPES = {0x0800: "ipv4", 0x86DD: "ipv6", 0x0806: "arp"}
IP_PROTOCOLS = {6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6", 0: "ipv6-hop-by-hop", 2: "igmp"}
# Link housekeeping that carries no application data: address resolution, IPv6 neighbour
# discovery and multicast listener reports (hop-by-hop + ICMPv6), ping, IGMP.
HOUSEKEEPING = {"arp", "ipv4/icmp", "ipv4/igmp", "ipv6/icmpv6", "ipv6/ipv6-hop-by-hop"}
SUMMARY_FILE, PAYLOAD_FILE = "summary.json", "tcp_payload.bin"
READY_LINE = "capturing on"


class Frame(NamedTuple):
    flow: str            # "ipv4/tcp 7447>40312", "arp", "ipv6/icmpv6", "ethertype 0x88cc"
    tcp_payload: bytes   # TCP segment payload (b"" for anything else)
    ports: tuple         # (source, destination) for TCP/UDP, else ()


def parse_frame(frame: bytes) -> Frame:
    """Classify one Ethernet frame (as AF_PACKET delivers it, 'lo' included)."""
    if len(frame) < 14:
        return Frame("runt", b"", ())
    ethertype = struct.unpack("!H", frame[12:14])[0]
    kind = ETHERTYPES.get(ethertype, f"ethertype 0x{ethertype:04x}")
    if kind == "ipv4" and len(frame) >= 34:
        protocol, l4 = frame[23], 14 + (frame[14] & 0x0F) * 4
    elif kind == "ipv6" and len(frame) >= 54:
        protocol, l4 = frame[20], 54
    else:
        return Frame(kind, b"", ())
    name = f"{kind}/{IP_PROTOCOLS.get(protocol, f'protocol {protocol}')}"
    if protocol not in (6, 17) or len(frame) < l4 + 8:
        return Frame(name, b"", ())
    ports = struct.unpack("!HH", frame[l4:l4 + 4])
    payload = frame[l4 + (frame[l4 + 12] >> 4) * 4:] if protocol == 6 else b""
    return Frame(f"{name} {ports[0]}>{ports[1]}", payload, ports)


class PacketCapture:
    """Captures every frame on ``interface`` (of this process's namespace) in a thread.

    Keeps the TCP payload of segments to or from ``tcp_port`` (both directions, in arrival
    order) and counts every frame per flow. On 'lo' each packet passes twice (sent and
    received); only the received copy is kept. Needs root (PermissionError otherwise).
    """

    def __init__(self, interface: str, tcp_port: int, buffer_bytes: int = 64 << 20):
        self.interface, self.tcp_port = interface, int(tcp_port)
        self.payload, self.flows, self.frames, self.drops = bytearray(), Counter(), 0, 0
        self._stop = threading.Event()
        self._socket = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        # A deep kernel buffer: this Python thread shares the GIL (and 2 cores) with the
        # traffic it watches, and a shallow one drops segments of a 1.2 MB burst.
        self._socket.setsockopt(socket.SOL_SOCKET,
                                getattr(socket, "SO_RCVBUFFORCE", socket.SO_RCVBUF), buffer_bytes)
        self._socket.bind((interface, 0))
        self._socket.settimeout(0.1)
        self._thread = threading.Thread(target=self._run, name="packet_capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        loopback = self.interface == "lo"
        while not self._stop.is_set():
            try:
                frame, address = self._socket.recvfrom(1 << 17)
            except socket.timeout:
                continue
            if loopback and address[2] == PACKET_OUTGOING:
                continue
            parsed = parse_frame(frame)
            self.frames += 1
            if parsed.flow.startswith("ipv") and "/tcp " in parsed.flow and \
                    self.tcp_port in parsed.ports:
                self.flows[f"tcp {self.tcp_port}"] += 1
                self.payload += parsed.tcp_payload
            else:
                self.flows[parsed.flow] += 1

    def kernel_drops(self) -> int:
        """Frames the kernel dropped because this capture's buffer was full (since last call)."""
        _packets, drops = struct.unpack("II", self._socket.getsockopt(SOL_PACKET,
                                                                      PACKET_STATISTICS, 8))
        return drops

    def other_flows(self) -> Dict[str, int]:
        """Frames that were neither the watched TCP port nor link housekeeping (ARP, ND...)."""
        return {flow: count for flow, count in self.flows.items()
                if flow != f"tcp {self.tcp_port}" and flow not in HOUSEKEEPING}

    def stop(self) -> bytes:
        """Stop capturing; the TCP payload of the watched port."""
        self._stop.set()
        self._thread.join()
        self.drops = self.kernel_drops()
        self._socket.close()
        return bytes(self.payload)

    def summary(self) -> dict:
        """JSON-able counts (after stop): what summary.json holds."""
        return {"interface": self.interface, "tcp_port": self.tcp_port, "frames": self.frames,
                "tcp_payload_bytes": len(self.payload), "kernel_drops": self.drops,
                "flows": dict(self.flows), "other_flows": self.other_flows()}


class SharedRun(NamedTuple):
    secret: int          # index into the secrets searched for
    secret_offset: int
    wire_offset: int
    length_bytes: int    # the whole common run found there (>= run_bytes)


CHUNK_BYTES = 32          # four little-endian 64-bit words
_HASH_BASE = 0x9E3779B97F4A7C15


def _combine(words: list) -> "object":
    """Hash (mod 2**64) of a 32-byte chunk from its four uint64 words (arrays, element-wise)."""
    import numpy as np

    total = np.zeros(words[0].shape, np.uint64)
    for word in words:
        total = total * np.uint64(_HASH_BASE) + word
    return total


def _aligned_chunk_hashes(data: bytes) -> "object":
    """Hash of each CHUNK_BYTES-aligned chunk of ``data`` (a trailing part chunk is left out)."""
    import numpy as np

    words = np.frombuffer(data, "<u8", count=len(data) // CHUNK_BYTES * 4).reshape(-1, 4)
    return _combine([words[:, k] for k in range(4)])


def _window_hashes(data: bytes):
    """(offsets, hashes) of the CHUNK_BYTES window at every byte offset of ``data``, in 8 runs
    of offsets r, r + 8, r + 16, ... (each a view of whole words: no per-byte passes)."""
    import numpy as np

    for r in range(8):
        words = np.frombuffer(data, "<u8", count=(len(data) - r) // 8, offset=r)
        count = len(words) - 3
        if count <= 0:
            continue
        yield r + 8 * np.arange(count), _combine([words[k:k + count] for k in range(4)])


def shared_runs(wire: bytes, secrets: Iterable[bytes], run_bytes: int = 64,
                limit: int = 10) -> List[SharedRun]:
    """For each secret that has ``run_bytes`` or more consecutive bytes in ``wire``: one such
    run (for up to ``limit`` secrets); [] when no secret has. Exact, not sampled: any common
    run of ``run_bytes`` >= 2 * CHUNK_BYTES holds one CHUNK_BYTES-aligned chunk of the wire, so
    the wire's aligned chunks are hashed once and the window at every offset of each secret is
    looked up (numpy), then each hit is checked byte by byte and extended both ways.
    """
    import numpy as np

    if run_bytes < 2 * CHUNK_BYTES:
        raise ValueError(f"run_bytes {run_bytes} must be >= {2 * CHUNK_BYTES} (two chunks)")
    wire = bytes(wire)
    wire_hashes = _aligned_chunk_hashes(wire)
    if len(wire_hashes) == 0:
        return []
    order = np.argsort(wire_hashes)
    sorted_hashes = wire_hashes[order]
    found: List[SharedRun] = []
    for index, secret in enumerate(secrets):
        secret = bytes(secret)
        if len(secret) < run_bytes:
            continue
        for offsets, hashes in _window_hashes(secret):
            ascending = np.argsort(hashes)     # sorted needles: a cache-friendly search
            offsets, hashes = offsets[ascending], hashes[ascending]
            slots = np.minimum(np.searchsorted(sorted_hashes, hashes), len(sorted_hashes) - 1)
            run = next(filter(None, (
                _verified_run(wire, secret, int(offsets[i]), sorted_hashes, order,
                              hashes[i], run_bytes)
                for i in np.nonzero(sorted_hashes[slots] == hashes)[0])), None)
            if run:   # one run per secret is enough to fail on; look at the next secret
                found.append(SharedRun(index, *run))
                break
        if len(found) >= limit:
            break
    return found


def _verified_run(wire, secret, offset, sorted_hashes, order, value, run_bytes):
    """(secret offset, wire offset, length) of a real common run >= run_bytes through the
    chunk at ``offset`` of the secret, or None (a hash collision or a shorter run)."""
    import numpy as np

    first = int(np.searchsorted(sorted_hashes, value))
    while first < len(sorted_hashes) and sorted_hashes[first] == value:
        at = int(order[first]) * CHUNK_BYTES
        first += 1
        if wire[at:at + CHUNK_BYTES] != secret[offset:offset + CHUNK_BYTES]:
            continue
        left = 0
        while left < min(offset, at) and secret[offset - left - 1] == wire[at - left - 1]:
            left += 1
        right = CHUNK_BYTES
        while offset + right < len(secret) and at + right < len(wire) and \
                secret[offset + right] == wire[at + right]:
            right += 1
        if left + right >= run_bytes:
            return offset - left, at - left, left + right
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--interface", required=True,
                        help="interface to capture on, in this process's network namespace")
    parser.add_argument("--tcp-port", type=int, required=True,
                        help="TCP port whose payload is kept (both directions)")
    parser.add_argument("--out", required=True,
                        help=f"folder for {PAYLOAD_FILE} and {SUMMARY_FILE} (written on stop)")
    args = parser.parse_args(argv)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    try:
        capture = PacketCapture(args.interface, args.tcp_port)
    except PermissionError:
        print("packet_capture: a raw socket needs root (or CAP_NET_RAW); run it with sudo",
              file=sys.stderr)
        return 2
    except OSError as error:
        print(f"packet_capture: cannot capture on interface '{args.interface}': {error}; "
              "list this namespace's interfaces with `ip link`", file=sys.stderr)
        return 2
    print(f"{READY_LINE} {args.interface}, keeping TCP port {args.tcp_port}", flush=True)
    while not stopped.wait(0.2):
        pass
    wire = capture.stop()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, PAYLOAD_FILE), "wb") as handle:
        handle.write(wire)
    with open(os.path.join(args.out, SUMMARY_FILE), "w") as handle:
        json.dump(capture.summary(), handle, indent=1)
    print(f"captured {len(wire)} bytes on TCP port {args.tcp_port}, {capture.frames} frames, "
          f"other flows {capture.other_flows()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
