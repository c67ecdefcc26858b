"""Cloud side of Dedelayed: the remote predictive model server for one or many robots.

    ros2 launch dedelayed_bringup cloud.launch.py robot_namespaces:="['/robot1', '/robot2']" \
        checkpoint:=/opt/dedelayed/small.pt device:=cuda robot_addresses:=10.0.0.5,10.0.0.6

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
    from dedelayed_bringup.transport import unicast_env_from_addresses

    env = unicast_env_from_addresses(LaunchConfiguration("robot_addresses").perform(context),
                                     "dedelayed_cloud_peers")
    return [SetEnvironmentVariable(name, value) for name, value in env.items()]


def _remote_node(context):
    from dedelayed_bringup.launch_arguments import given_overrides

    overrides = given_overrides({name: LaunchConfiguration(name).perform(context)
                                 for name, _, _ in OVERRIDES}, OVERRIDES)
    return [Node(package="dedelayed_remote", executable="remote_node",
                 namespace=LaunchConfiguration("namespace"),
                 parameters=[LaunchConfiguration("params_file")] + ([overrides] if overrides else []),
                 output="screen", emulate_tty=True)]


def generate_launch_description():
    from dedelayed_bringup.launch_arguments import declared_arguments

    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS + tuple(declared_arguments(OVERRIDES))]
        + [OpaqueFunction(function=_peer_environment), OpaqueFunction(function=_remote_node)])
