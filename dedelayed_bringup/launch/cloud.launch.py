"""Cloud side of Dedelayed: the remote predictive model server for one or many robots.

    ros2 launch dedelayed_bringup cloud.launch.py robot_namespaces:="['/robot1', '/robot2']" \
        checkpoint:=/opt/dedelayed/small.pt device:=cuda robot_addresses:=10.0.0.5,10.0.0.6

    ros2 launch dedelayed_bringup cloud.launch.py robot_namespaces:="['/robot1']" link:=zenoh \
        listen_endpoint:=tls/0.0.0.0:7447 certs_dir:=/etc/dedelayed/certs

link:=zenoh also starts link_bridge, listening on listen_endpoint (open that one TCP port) with
mutual TLS and access control for robot_namespaces only. With certs_dir given, every FeatureMap
is signed with certs_dir/cloud.key.

All node parameters come from `params_file` (default: dedelayed_remote/config/remote.yaml). The
override arguments below default to empty and are passed on only when given, so a value in
your params file is obeyed unless you also give it here.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("namespace", "", "namespace of the cloud node itself"),
    ("params_file", PathJoinSubstitution([FindPackageShare("dedelayed_remote"), "config",
                                          "remote.yaml"]), "cloud parameter YAML"),
    ("robot_addresses", "", "robot host address(es), comma separated: DDS unicast peers "
                            "(no multicast); empty = default DDS discovery"),
    ("link", "dds", "robot-cloud link: dds (LAN) or zenoh (listen on listen_endpoint, TLS)"),
    ("listen_endpoint", "tls/0.0.0.0:7447", "link:=zenoh: the TLS endpoint robots dial"),
    ("certs_dir", "", "link_certificates folder: ca.pem, cloud.pem, cloud.key (also signs "
                      "FeatureMaps); empty = the params file's feature_signing_key"),
)

# Launch arguments that override the same-named node parameter when given:
# (name, type, description).
OVERRIDES = (
    ("checkpoint", "str", "remote/dedelayed checkpoint (.pt)"),
    ("device", "str", "cpu, cuda or cuda:N"),
    ("feature_encoding", "str", "float16, int8 or float32"),
    ("robot_namespaces", "str_list", "robots served, e.g. \"['/robot1', '/robot2']\""),
    ("max_frame_age_ms", "float", "frames that waited longer on the cloud are dropped [ms]"),
    ("use_sim_time", "bool", "use /clock"),
)


def _peer_environment(context):
    """Point Fast DDS at the robots by unicast when robot_addresses is given."""
    from dedelayed_bringup.transport.discovery import unicast_env_from_addresses

    env = unicast_env_from_addresses(LaunchConfiguration("robot_addresses").perform(context),
                                     "dedelayed_cloud_peers")
    return [SetEnvironmentVariable(name, value) for name, value in env.items()]


def _remote_node(context):
    from dedelayed_bringup.launch_arguments import given_overrides

    overrides = given_overrides({name: LaunchConfiguration(name).perform(context)
                                 for name, _, _ in OVERRIDES}, OVERRIDES)
    certs = LaunchConfiguration("certs_dir").perform(context)
    if certs:
        overrides["feature_signing_key"] = f"{certs}/cloud.key"
    return _link_bridge(context, certs, overrides) + [Node(package="dedelayed_remote", executable="remote_node",
                 namespace=LaunchConfiguration("namespace"),
                 parameters=[LaunchConfiguration("params_file")] + ([overrides] if overrides else []),
                 output="screen", emulate_tty=True)]


def _link_bridge(context, certs, overrides):
    """link:=zenoh: the cloud's end of the secure link (router, ACL for robot_namespaces)."""
    link = LaunchConfiguration("link").perform(context)
    if link not in ("dds", "zenoh"):
        raise ValueError(f"link:={link} is unknown; use link:=dds or link:=zenoh")
    if link == "dds":
        return []
    robots = overrides.get("robot_namespaces")
    if not certs or not robots:
        raise ValueError("link:=zenoh needs robot_namespaces:=\"['/robot1']\" (access control "
                         "serves only these) and certs_dir:=<folder with ca.pem, cloud.pem/.key>")
    return [Node(package="dedelayed_bringup", executable="link_bridge",
                 parameters=[{"role": "cloud",
                              "endpoint": LaunchConfiguration("listen_endpoint").perform(context),
                              "ca_certificate": f"{certs}/ca.pem",
                              "certificate": f"{certs}/cloud.pem",
                              "private_key": f"{certs}/cloud.key",
                              "robot_namespaces": robots}],
                 output="screen", emulate_tty=True)]


def generate_launch_description():
    from dedelayed_bringup.launch_arguments import declared_arguments

    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS + tuple(declared_arguments(OVERRIDES))]
        + [OpaqueFunction(function=_peer_environment), OpaqueFunction(function=_remote_node)])
