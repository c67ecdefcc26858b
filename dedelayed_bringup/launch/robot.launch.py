"""Robot side of Dedelayed: local segmenter + fusion + uplink nodes in one process.

    ros2 launch dedelayed_bringup robot.launch.py namespace:=robot1 cloud_address:=10.0.0.2 \
        checkpoint:=/opt/dedelayed/small.pt backend:=tensorrt device:=cuda
    ros2 launch dedelayed_bringup robot.launch.py namespace:=robot1 link:=zenoh \
        cloud_endpoint:=tls/cloud.example.org:7447 certs_dir:=/etc/dedelayed/certs

link:=dds (default, a LAN) joins the cloud over DDS; link:=zenoh also starts link_bridge, which
dials the cloud over mutual TLS with certs_dir/ca.pem and certs_dir/<namespace>.pem/.key
(link_certificates). With certs_dir given, FeatureMaps must be signed by certs_dir/cloud.pem.

All node parameters come from `params_file` (default: dedelayed_local/config/robot.yaml). The
override arguments below default to empty and are passed on only when given, so a value in
your params file is obeyed unless you also give it here. Without launch_ros (pip-only
machines) `make demo` / dedelayed_bringup.stack start the same executable with the same YAML.
"""


from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("namespace", "", "robot namespace, e.g. robot1 (one per robot served by a cloud)"),
    ("params_file", PathJoinSubstitution([FindPackageShare("dedelayed_local"), "config",
                                          "robot.yaml"]), "robot parameter YAML"),
    ("cloud_address", "", "cloud host address(es), comma separated: DDS unicast peers "
                          "(no multicast); empty = default DDS discovery"),
    ("link", "dds", "robot-cloud link: dds (LAN) or zenoh (mutual TLS to cloud_endpoint)"),
    ("cloud_endpoint", "tls/localhost:7447", "link:=zenoh: the cloud's TLS endpoint to dial"),
    ("certs_dir", "", "link_certificates folder: ca.pem, <namespace>.pem/.key and cloud.pem "
                      "(FeatureMaps must be signed by it); empty = the params file's "
                      "feature_verify_key"),
)

# Launch arguments that override the same-named node parameter when given:
# (name, type, description).
OVERRIDES = (
    ("checkpoint", "str", "local/dedelayed checkpoint (.pt)"),
    ("onnx_path", "str", "robot ONNX graph"),
    ("engine_path", "str", "TensorRT engine file"),
    ("backend", "str", "tensorrt, onnxruntime, torch or auto"),
    ("device", "str", "cpu or cuda (torch / onnxruntime backends)"),
    ("image_topic", "str", "camera topic (sensor_msgs/Image)"),
    ("max_feature_age_ms", "float", "older features are not fused [ms]; 0 = the largest delay "
                                    "the checkpoint was trained for"),
    ("remote_height", "int", "uplinked frame height [px]; 0 = the checkpoint's remote input"),
    ("remote_width", "int", "uplinked frame width [px]; 0 = the checkpoint's remote input"),
    ("use_sim_time", "bool", "use /clock"),
)


def _peer_environment(context):
    """Point Fast DDS at the cloud by unicast when cloud_address is given."""
    from dedelayed_bringup.transport.discovery import unicast_env_from_addresses

    env = unicast_env_from_addresses(LaunchConfiguration("cloud_address").perform(context),
                                     "dedelayed_robot_peers")
    return [SetEnvironmentVariable(name, value) for name, value in env.items()]


def _robot_node(context):
    from dedelayed_bringup.launch_arguments import given_overrides

    overrides = given_overrides({name: LaunchConfiguration(name).perform(context)
                                 for name, _, _ in OVERRIDES}, OVERRIDES)
    certs = LaunchConfiguration("certs_dir").perform(context)
    if certs:
        overrides["feature_verify_key"] = f"{certs}/cloud.pem"
    return [Node(package="dedelayed_local", executable="robot",
                 namespace=LaunchConfiguration("namespace"),
                 parameters=[LaunchConfiguration("params_file")] + ([overrides] if overrides else []),
                 output="screen", emulate_tty=True)] + _link_bridge(context, certs)


def _link_bridge(context, certs):
    """link:=zenoh: the robot's end of the secure link, in the robot namespace."""
    link = LaunchConfiguration("link").perform(context)
    if link not in ("dds", "zenoh"):
        raise ValueError(f"link:={link} is unknown; use link:=dds or link:=zenoh")
    if link == "dds":
        return []
    name = LaunchConfiguration("namespace").perform(context).strip("/")
    if not certs or not name:
        raise ValueError("link:=zenoh needs namespace:=<robot> and certs_dir:=<folder with "
                         "ca.pem and <robot>.pem/.key> (python -m dedelayed_bringup.secure_link.link_certificates)")
    return [Node(package="dedelayed_bringup", executable="link_bridge", namespace=name,
                 parameters=[{"role": "robot",
                              "endpoint": LaunchConfiguration("cloud_endpoint").perform(context),
                              "ca_certificate": f"{certs}/ca.pem",
                              "certificate": f"{certs}/{name}.pem",
                              "private_key": f"{certs}/{name}.key"}],
                 output="screen", emulate_tty=True)]


def generate_launch_description():
    from dedelayed_bringup.launch_arguments import declared_arguments

    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS + tuple(declared_arguments(OVERRIDES))]
        + [OpaqueFunction(function=_peer_environment), OpaqueFunction(function=_robot_node)])
