"""Cloud side of Dedelayed: the remote predictive model server for one or many robots.

    ros2 launch dedelayed_bringup cloud.launch.py robot_namespaces:="['/robot1', '/robot2']" \
        checkpoint:=/opt/dedelayed/small.pt device:=cuda robot_addresses:=10.0.0.5,10.0.0.6

    ros2 launch dedelayed_bringup cloud.launch.py robot_namespaces:="['/robot1']" link:=zenoh \
        listen_endpoint:=tls/0.0.0.0:7447 certs_dir:=/etc/dedelayed/certs

With no arguments it serves the shipped checkpoint (the params file's ``checkpoint:
shipped:world``, what `make demo` runs) to the robot in its own namespace; the node is a
managed (lifecycle) node, configured and activated at start-up unless autostart:=false
(then ``ros2 lifecycle set /remote_node configure`` / ``activate``; a deactivated cloud answers
no robot). A parent launch file's SetRemap, PushROSNamespace and SetParameter reach it.

link:=zenoh also starts link_bridge, listening on listen_endpoint (open that one TCP port) with
mutual TLS and access control for robot_namespaces only. With certs_dir given, every FeatureMap
is signed with certs_dir/cloud.key. The processes are described once in
dedelayed_bringup/graph.py.

All node parameters come from `params_file` (default: dedelayed_remote/config/remote.yaml). The
override arguments below default to empty and are passed on only when given, so a value in
your params file is obeyed unless you also give it here.
"""

from launch.substitutions import PathJoinSubstitution
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
    ("checkpoint", "str", "remote/dedelayed checkpoint: a .pt file, shipped:world, "
                          "shipped:camvid or random"),
    ("device", "str", "cpu, cuda or cuda:N"),
    ("feature_encoding", "str", "float16, int8 or float32"),
    ("robot_namespaces", "str_list", "robots served, e.g. \"['/robot1', '/robot2']\""),
    ("max_frame_age_ms", "float", "frames that waited longer on the cloud are dropped [ms]"),
    ("autostart", "bool", "configure and activate the managed node at start-up"),
    ("use_sim_time", "bool", "use /clock"),
)


def processes(arg, overrides):
    """The cloud's processes (graph.py) for the launch arguments: ``arg(name)`` is one's text,
    ``overrides`` the node parameters given."""
    from dedelayed_bringup.graph import cloud_processes

    overrides = dict(overrides)
    return cloud_processes(
        namespace=arg("namespace"), robot_namespaces=overrides.pop("robot_namespaces", ()),
        params_files=[arg("params_file")], parameters=overrides, certs=arg("certs_dir"),
        link=arg("link"), listen_endpoint=arg("listen_endpoint"))


def generate_launch_description():
    from dedelayed_bringup.launch_arguments import launch_description

    return launch_description(ARGUMENTS, OVERRIDES, peers_argument="robot_addresses",
                              peers_profile="dedelayed_cloud_peers", processes=processes)
