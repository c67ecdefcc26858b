"""The Dedelayed ROS graph, described once: which executables run, in which namespace, with
which parameters, remappings and certificates.

Everything that starts the system builds its processes here: the launch files (turned into
launch_ros ``Node`` actions by ``launch_nodes.py``), ``make demo``, the system tests and the
benches (run by ``stack.Stack`` where `ros2 launch` does not exist). So the graph the tests and
the demo exercise is the graph users launch.

    robot_processes(namespace="/robot1", image="/cam/front/image_raw")
        robot            dedelayed_local/robot: segmenter + fusion (+ uplink) nodes, managed
        <name>_uplink    dedelayed_local/uplink_node, with uplink="own_process"
        <name>_bridge    dedelayed_bringup/link_bridge (role robot), with link="zenoh"
    cloud_processes(robot_namespaces=["/robot1"])
        cloud            dedelayed_remote/remote_node, managed
        <name>_bridge    dedelayed_bringup/link_bridge (role cloud), with link="zenoh"

Rules written only here:
- the robot's camera input is the relative name ``image`` (IMAGE_INPUT), remapped to the camera
  topic given as ``image=`` (default CAMERA_TOPIC, /camera/image_raw);
- with ``certs`` (a link_certificates folder) the cloud signs FeatureMaps with cloud.key and
  the robot verifies them with cloud.pem; the bridges use ca.pem and their own pair;
- the uplink runs in the robot process (the default: its stamps reach the robot's ledger in
  memory) or in its own process (``own_process``: on 2 cores the in-process encoder waits behind
  each segmentation, and that wait adds to tau; the robot then watches the uplink topic).
"""

from typing import Dict, List, Mapping, Optional, Sequence

from dedelayed_bringup.stack_command import NodeProcess
from dedelayed_link import CAMERA_TOPIC, IMAGE_INPUT

ROBOT_EXECUTABLE = "dedelayed_local/robot"
UPLINK_EXECUTABLE = "dedelayed_local/uplink_node"
CLOUD_EXECUTABLE = "dedelayed_remote/remote_node"
BRIDGE_EXECUTABLE = "dedelayed_bringup/link_bridge"

# The ROS nodes each executable hosts (their names in the config YAML files).
EXECUTABLE_NODES = {
    ROBOT_EXECUTABLE: ("dedelayed_segmenter", "dedelayed_fusion", "dedelayed_uplink"),
    UPLINK_EXECUTABLE: ("dedelayed_uplink",),
    CLOUD_EXECUTABLE: ("remote_node",),
    BRIDGE_EXECUTABLE: ("link_bridge",),
}

UPLINK_LAYOUTS = ("in_process", "own_process")
LINKS = ("dds", "zenoh")
DEFAULT_CLOUD_ENDPOINT = "tls/localhost:7447"
DEFAULT_LISTEN_ENDPOINT = "tls/0.0.0.0:7447"


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``; ValueError naming the argument otherwise."""
    if value not in choices:
        raise ValueError(f"{name}:={value} is unknown; use one of {', '.join(choices)}")
    return value


def robot_processes(*, name: str = "robot", namespace: str = "", params_files: Sequence[str] = (),
                    parameters: Optional[Mapping[str, object]] = None, image: str = CAMERA_TOPIC,
                    uplink: str = "in_process",
                    uplink_parameters: Optional[Mapping[str, object]] = None,
                    remappings: Optional[Mapping[str, str]] = None, certs: str = "",
                    link: str = "dds", cloud_endpoint: str = DEFAULT_CLOUD_ENDPOINT,
                    bridge_parameters: Optional[Mapping[str, object]] = None,
                    env: Optional[Mapping[str, object]] = None,
                    bridge_env: Optional[Mapping[str, object]] = None,
                    prefix: Sequence[str] = (), bridge_prefix: Optional[Sequence[str]] = None
                    ) -> List[NodeProcess]:
    """The robot's processes (see the module docstring).

    params_files / parameters: the robot's node parameters (files first, then these win);
    uplink_parameters: parameters of the separate uplink process (uplink="own_process");
    image: the camera topic the segmenter and the uplink read; remappings: further
    remappings of every robot node (e.g. {"dedelayed/segmentation": "/planner/segmentation"});
    bridge_env / bridge_prefix: the robot bridge's environment and command prefix where they
    differ (a link emulator in front, another network namespace).
    """
    check_choice("uplink", uplink, UPLINK_LAYOUTS)
    check_choice("link", link, LINKS)
    verifying = {"feature_verify_key": f"{certs}/cloud.pem"} if certs else {}
    remaps = {IMAGE_INPUT: image, **(remappings or {})}
    own_uplink = uplink == "own_process"
    processes = [NodeProcess(
        name, executable=ROBOT_EXECUTABLE, namespace=namespace, params_files=tuple(params_files),
        parameters={**verifying, **(parameters or {})}, remappings=remaps,
        arguments=["--without-uplink"] if own_uplink else [], env=dict(env or {}), prefix=prefix)]
    if own_uplink:
        processes.append(NodeProcess(
            f"{name}_uplink", executable=UPLINK_EXECUTABLE, namespace=namespace,
            params_files=tuple(params_files), parameters=dict(uplink_parameters or {}),
            remappings=remaps, env=dict(env or {}), prefix=prefix))
    if link == "zenoh":
        if not certs or not namespace.strip("/"):
            raise ValueError("link:=zenoh needs namespace:=<robot> and certs_dir:=<folder with "
                             "ca.pem and <robot>.pem/.key> (python -m "
                             "dedelayed_bringup.secure_link.link_certificates)")
        from dedelayed_bringup.secure_link.link_certificates import robot_common_name

        processes.append(link_bridge_process(
            f"{name}_bridge", role="robot", namespace=namespace, endpoint=cloud_endpoint,
            certs=certs, stem=robot_common_name(namespace), robots=[namespace], env=bridge_env or env,
            prefix=prefix if bridge_prefix is None else bridge_prefix,
            parameters=bridge_parameters))
    return processes


def cloud_processes(*, name: str = "cloud", namespace: str = "",
                    robot_namespaces: Sequence[str] = (), params_files: Sequence[str] = (),
                    parameters: Optional[Mapping[str, object]] = None, certs: str = "",
                    link: str = "dds", listen_endpoint: str = DEFAULT_LISTEN_ENDPOINT,
                    bridge_parameters: Optional[Mapping[str, object]] = None,
                    env: Optional[Mapping[str, object]] = None,
                    bridge_env: Optional[Mapping[str, object]] = None,
                    prefix: Sequence[str] = (), bridge_prefix: Optional[Sequence[str]] = None
                    ) -> List[NodeProcess]:
    """The cloud's processes (see the module docstring). robot_namespaces: the robots served
    (a parameter of remote_node; empty = its params file's); with link="zenoh" the bridge's
    access control admits exactly these."""
    check_choice("link", link, LINKS)
    signing = {"feature_signing_key": f"{certs}/cloud.key"} if certs else {}
    served = {"robot_namespaces": list(robot_namespaces)} if robot_namespaces else {}
    processes = [NodeProcess(
        name, executable=CLOUD_EXECUTABLE, namespace=namespace, params_files=tuple(params_files),
        parameters={**signing, **served, **(parameters or {})}, env=dict(env or {}),
        prefix=prefix)]
    if link == "zenoh":
        if not certs or not robot_namespaces:
            raise ValueError("link:=zenoh needs robot_namespaces:=\"['/robot1']\" (access control "
                             "serves only these) and certs_dir:=<folder with ca.pem, "
                             "cloud.pem/.key>")
        processes.append(link_bridge_process(
            f"{name}_bridge", role="cloud", namespace="/", endpoint=listen_endpoint, certs=certs,
            stem="cloud", robots=robot_namespaces, env=bridge_env or env,
            prefix=prefix if bridge_prefix is None else bridge_prefix,
            parameters=bridge_parameters))
    return processes


def link_bridge_process(name: str, *, role: str, namespace: str, endpoint: str, certs: str,
                        stem: str, robots: Sequence[str], cert_dir: str = "",
                        env: Optional[Mapping[str, object]] = None, prefix: Sequence[str] = (),
                        parameters: Optional[Mapping[str, object]] = None) -> NodeProcess:
    """A link_bridge process: ``role`` 'cloud' (listens on ``endpoint``, serves ``robots``) or
    'robot' (dials it); CA from ``certs``, its own certificate and key
    ``<cert_dir or certs>/<stem>.pem|.key``; ``parameters`` adds or overrides node parameters."""
    folder = cert_dir or certs
    return NodeProcess(
        name, executable=BRIDGE_EXECUTABLE, namespace=namespace, env=dict(env or {}),
        prefix=prefix,
        parameters={"role": role, "endpoint": endpoint, "ca_certificate": f"{certs}/ca.pem",
                    "certificate": f"{folder}/{stem}.pem", "private_key": f"{folder}/{stem}.key",
                    "robot_namespaces": list(robots), **(parameters or {})})


def with_domain(env: Optional[Mapping[str, object]], domain_id: int) -> Dict[str, str]:
    """``env`` with ROS_DOMAIN_ID set to ``domain_id``."""
    return {**{k: str(v) for k, v in (env or {}).items()}, "ROS_DOMAIN_ID": str(domain_id)}
