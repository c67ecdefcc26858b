"""Robot side of Dedelayed: local segmenter + fusion + uplink nodes in one process.

    ros2 launch dedelayed_bringup robot.launch.py namespace:=robot1 cloud_address:=10.0.0.2 \
        checkpoint:=/opt/dedelayed/small.pt backend:=tensorrt device:=cuda

All node parameters come from `params_file` (default: dedelayed_local/config/robot.yaml); the
arguments below override the ones people change most. Without launch_ros (pip-only machines)
`make demo` / dedelayed_bringup.stack start the same executable with the same YAML.
"""


from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("namespace", "", "robot namespace, e.g. robot1 (one per robot served by a cloud)"),
    ("params_file", PathJoinSubstitution([FindPackageShare("dedelayed_local"), "config",
                                          "robot.yaml"]), "robot parameter YAML"),
    ("checkpoint", "", "local/dedelayed checkpoint (.pt); empty = the YAML's value"),
    ("onnx_path", "", "robot ONNX graph; empty = exported from the checkpoint"),
    ("engine_path", "", "TensorRT engine file; empty = cached by ONNX hash, TensorRT, GPU"),
    ("backend", "auto", "tensorrt, onnxruntime, torch or auto"),
    ("device", "cpu", "cpu or cuda (torch / onnxruntime backends)"),
    ("image_topic", "/camera/image_raw", "camera topic (sensor_msgs/Image)"),
    ("cloud_address", "", "cloud host address(es), comma separated: DDS unicast peers "
                          "(no multicast); empty = default DDS discovery"),
    ("use_sim_time", "false", "use /clock"),
)

# Launch arguments that override the same-named node parameter when not empty.
OVERRIDES = ("checkpoint", "onnx_path", "engine_path", "backend", "device", "image_topic")


def _peer_environment(context):
    """Point Fast DDS at the cloud by unicast when cloud_address is given."""
    from dedelayed_bringup.transport import unicast_env_from_addresses

    env = unicast_env_from_addresses(LaunchConfiguration("cloud_address").perform(context),
                                     "dedelayed_robot_peers")
    return [SetEnvironmentVariable(name, value) for name, value in env.items()]


def _robot_node(context):
    overrides = {name: ParameterValue(LaunchConfiguration(name), value_type=str)
                 for name in OVERRIDES if LaunchConfiguration(name).perform(context)}
    overrides["use_sim_time"] = ParameterValue(LaunchConfiguration("use_sim_time"),
                                               value_type=bool)
    return [Node(package="dedelayed_local", executable="robot",
                 namespace=LaunchConfiguration("namespace"),
                 parameters=[LaunchConfiguration("params_file"), overrides],
                 output="screen", emulate_tty=True)]


def generate_launch_description():
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS]
        + [OpaqueFunction(function=_peer_environment), OpaqueFunction(function=_robot_node)])
