"""Cloud side of Dedelayed: the remote predictive model server for one or many robots.

    ros2 launch dedelayed_bringup cloud.launch.py robot_namespaces:="['/robot1', '/robot2']" \
        checkpoint:=/opt/dedelayed/small.pt device:=cuda robot_addresses:=10.0.0.5,10.0.0.6

All node parameters come from `params_file` (default: dedelayed_remote/config/remote.yaml); the
arguments below override the ones people change most.
"""

from typing import List

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("namespace", "", "namespace of the cloud node itself"),
    ("params_file", PathJoinSubstitution([FindPackageShare("dedelayed_remote"), "config",
                                          "remote.yaml"]), "cloud parameter YAML"),
    ("checkpoint", "", "remote/dedelayed checkpoint (.pt); empty = the YAML's value"),
    ("device", "", "cpu, cuda or cuda:N; empty = the YAML's value"),
    ("feature_encoding", "", "float16, int8 or float32; empty = the YAML's value"),
    ("robot_namespaces", "", "robots served, e.g. \"['/robot1', '/robot2']\"; empty = YAML"),
    ("robot_addresses", "", "robot host address(es), comma separated: DDS unicast peers "
                            "(no multicast); empty = default DDS discovery"),
    ("use_sim_time", "false", "use /clock"),
)

STRING_OVERRIDES = ("checkpoint", "device", "feature_encoding")


def _peer_environment(context):
    """Point Fast DDS at the robots by unicast when robot_addresses is given."""
    from dedelayed_bringup.transport import unicast_env_from_addresses

    env = unicast_env_from_addresses(LaunchConfiguration("robot_addresses").perform(context),
                                     "dedelayed_cloud_peers")
    return [SetEnvironmentVariable(name, value) for name, value in env.items()]


def _remote_node(context):
    overrides = {name: ParameterValue(LaunchConfiguration(name), value_type=str)
                 for name in STRING_OVERRIDES if LaunchConfiguration(name).perform(context)}
    if LaunchConfiguration("robot_namespaces").perform(context):
        overrides["robot_namespaces"] = ParameterValue(LaunchConfiguration("robot_namespaces"),
                                                       value_type=List[str])
    overrides["use_sim_time"] = ParameterValue(LaunchConfiguration("use_sim_time"),
                                               value_type=bool)
    return [Node(package="dedelayed_remote", executable="remote_node",
                 namespace=LaunchConfiguration("namespace"),
                 parameters=[LaunchConfiguration("params_file"), overrides],
                 output="screen", emulate_tty=True)]


def generate_launch_description():
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS]
        + [OpaqueFunction(function=_peer_environment), OpaqueFunction(function=_remote_node)])
