"""A robot host and a cloud host on one machine: Linux network namespaces behind a router.

Used by tests that must prove a cross-host transport (no shared loopback, no multicast between
the hosts, so only unicast peers or a discovery server can make DDS discovery work):

    from dedelayed_bringup.transport.netns import NetnsUnavailable, routed_hosts
    with routed_hosts() as (robot, cloud):
        robot.address, cloud.address          # e.g. "10.213.1.2", "10.213.2.2"
        robot.exec_prefix()                   # ["ip", "netns", "exec", "ddl-…-robot"]
        NodeProcess(..., prefix=robot.exec_prefix())   # run a Stack node inside it

Needs root (or CAP_NET_ADMIN) and iproute2's ``ip``; otherwise ``veth_pair`` raises
NetnsUnavailable with the reason (tests skip on it). Namespace names are unique per use and
all three namespaces (with the veth pairs inside them) are deleted on exit, also after errors.
Processes still running inside a namespace keep it alive: stop them first.
"""

import contextlib
import os
import random
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from typing import Iterator, List, Tuple


class NetnsUnavailable(RuntimeError):
    """Network namespaces cannot be created here (not root, no `ip`, no kernel support)."""


@dataclass(frozen=True)
class Namespace:
    name: str  # `ip netns` name
    address: str  # IPv4 address of its veth end
    interface: str  # its veth end's name inside the namespace

    def exec_prefix(self) -> List[str]:
        """argv prefix that runs a command inside this namespace."""
        return ["ip", "netns", "exec", self.name]

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return _ip_run([*self.exec_prefix(), *argv], check=check)


def _ip_run(argv, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed ({result.returncode}): "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result


def netns_unavailable_reason() -> str:
    """'' when namespaces can be made here, else why not (for pytest.skip)."""
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "creating network namespaces needs root (or CAP_NET_ADMIN)"
    return ""


@contextlib.contextmanager
def routed_hosts(prefix: str = "ddl") -> Iterator[Tuple[Namespace, Namespace]]:
    """Yield (robot, cloud): two namespaces on two subnets joined through a router namespace.

        robot 10.N.1.2 --veth-- 10.N.1.1 [router, ip_forward] 10.N.2.1 --veth-- 10.N.2.2 cloud

    Unicast is routed; multicast is not (no multicast routing, TTL 1), exactly like a robot
    and a cloud on different networks, so DDS's default multicast discovery cannot cross and
    only configured unicast peers (or a discovery server) can. (A plain veth pair would not
    do: multicast crosses it even with the MULTICAST flag off, and this kernel has no tc
    classifiers to drop it.)
    """
    reason = netns_unavailable_reason()
    if reason:
        raise NetnsUnavailable(reason)
    tag = uuid.uuid4().hex[:8]
    net = f"10.{random.randint(200, 249)}"
    robot = Namespace(f"{prefix}-{tag}-robot", f"{net}.1.2", f"veth{tag}r")
    cloud = Namespace(f"{prefix}-{tag}-cloud", f"{net}.2.2", f"veth{tag}c")
    router = f"{prefix}-{tag}-router"
    created = []
    try:
        for name in (robot.name, cloud.name, router):
            result = _ip_run(["ip", "netns", "add", name], check=False)
            if result.returncode != 0:
                raise NetnsUnavailable(f"`ip netns add` failed: {result.stderr.strip()}")
            created.append(name)
        in_router = ["ip", "netns", "exec", router]
        _ip_run([*in_router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
        for host, subnet in ((robot, f"{net}.1"), (cloud, f"{net}.2")):
            router_end = host.interface[:-1] + "x" + host.interface[-1]
            # Create the pair inside the router, then move the host's end into the host.
            _ip_run([*in_router, "ip", "link", "add", router_end, "type", "veth", "peer",
                     "name", host.interface])
            _ip_run([*in_router, "ip", "link", "set", host.interface, "netns", host.name])
            _ip_run([*in_router, "ip", "addr", "add", f"{subnet}.1/24", "dev", router_end])
            _ip_run([*in_router, "ip", "link", "set", router_end, "up"])
            host.run("ip", "addr", "add", f"{host.address}/24", "dev", host.interface)
            host.run("ip", "link", "set", host.interface, "up")
            host.run("ip", "link", "set", "lo", "up")
            host.run("ip", "route", "add", "default", "via", f"{subnet}.1")
        yield robot, cloud
    finally:
        for name in created:  # deleting a namespace also deletes the veth ends inside it
            _ip_run(["ip", "netns", "delete", name], check=False)
