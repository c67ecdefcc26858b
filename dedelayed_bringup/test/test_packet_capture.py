"""The plaintext checks of the secure-link tests can fail: the capture sees what crosses, the
run search finds what it is meant to find, and nothing shorter."""

import os
import socket
import time

import numpy as np
import pytest

from dedelayed_bringup.transport.packet_capture import PacketCapture, parse_frame, shared_runs


def test_shared_runs_finds_a_64_byte_run_at_any_offset_and_nothing_shorter():
    rng = np.random.default_rng(7)
    secrets = [rng.bytes(50_000) for _ in range(3)]
    noise = rng.bytes(200_000)
    assert shared_runs(noise, secrets) == []
    for wire_at, secret_at in ((0, 0), (12_345, 777), (199_936 - 64, 49_936)):
        wire = noise[:wire_at] + secrets[2][secret_at:secret_at + 64] + noise[wire_at + 64:]
        found = shared_runs(wire, secrets)
        assert [(r.secret, r.secret_offset, r.wire_offset) for r in found] == \
            [(2, secret_at, wire_at)], found
        assert found[0].length_bytes == 64
    short = noise[:1001] + secrets[0][500:563] + noise[1064:]
    assert shared_runs(short, secrets) == [], "a 63-byte run is below the threshold"
    whole = noise[:333] + secrets[1] + noise[333:]
    assert shared_runs(whole, secrets)[0].length_bytes == len(secrets[1])
    with pytest.raises(ValueError, match="run_bytes"):
        shared_runs(noise, secrets, run_bytes=40)


def test_parse_frame_names_the_flow():
    ethernet = b"\x00" * 12
    ipv4_udp = ethernet + b"\x08\x00" + bytes([0x45]) + b"\x00" * 8 + bytes([17]) + \
        b"\x00" * 10 + (7410).to_bytes(2, "big") + (7411).to_bytes(2, "big") + b"\x00" * 4
    assert parse_frame(ipv4_udp).flow == "ipv4/udp 7410>7411"
    assert parse_frame(ethernet + b"\x08\x06" + b"\x00" * 28).flow == "arp"


def test_capture_on_loopback_keeps_the_port_s_tcp_payload_and_names_other_traffic():
    if os.geteuid() != 0:
        pytest.skip("a raw-socket capture needs root")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        capture = PacketCapture("lo", port)
        with socket.create_connection(("127.0.0.1", port)) as client, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            accepted, _ = server.accept()
            client.sendall(b"plaintext that crossed" * 100)
            accepted.recv(1 << 16)
            udp.sendto(b"a datagram", ("127.0.0.1", 9))
            accepted.close()
            time.sleep(0.3)
        wire = capture.stop()
    assert b"plaintext that crossed" * 10 in wire
    assert any(flow.startswith("ipv4/udp ") and flow.endswith(">9")
               for flow in capture.other_flows()), capture.flows
    assert capture.summary()["tcp_payload_bytes"] == len(wire)
