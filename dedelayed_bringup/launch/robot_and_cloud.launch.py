"""Robot and cloud from one parent launch file (one host, e.g. a bench test or a simulator).

    ros2 launch dedelayed_bringup robot_and_cloud.launch.py namespace:=robot1 \
        robot_params_file:=my_robot.yaml cloud_params_file:=my_cloud.yaml

It composes the way a ROS user's own parent file does: each include sits in a
GroupAction(scoped=True) that *forwards* what this file inherits (a parent's SetRemap,
PushROSNamespace, SetParameter such as use_sim_time, and launch arguments) and drops what the
include declares when it ends, so the cloud never reads the robot's params_file. Arguments both
includes declare (params_file, namespace, checkpoint) are handed to each explicitly. The cloud
serves the robot's namespace as resolved under any namespace a parent pushed.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("namespace", "robot1", "the robot's namespace; the cloud serves exactly this robot"),
    ("robot_params_file", PathJoinSubstitution([FindPackageShare("dedelayed_local"), "config",
                                                "robot.yaml"]), "robot parameter YAML"),
    ("cloud_params_file", PathJoinSubstitution([FindPackageShare("dedelayed_remote"), "config",
                                                "remote.yaml"]), "cloud parameter YAML"),
    ("checkpoint", "", "dedelayed checkpoint for both halves; empty = each YAML's value"),
)


def _include(launch_file, arguments):
    """``launch_file`` of this package with ``arguments``; what it declares ends with it."""
    source = PythonLaunchDescriptionSource(PathJoinSubstitution(
        [FindPackageShare("dedelayed_bringup"), "launch", launch_file]))
    return GroupAction([IncludeLaunchDescription(source)], scoped=True, forwarding=True,
                       launch_configurations=arguments)


def _robot_and_cloud(context):
    namespace = LaunchConfiguration("namespace").perform(context).strip("/")
    pushed = context.launch_configurations.get("ros_namespace", "") or ""
    served = "/" + "/".join(part for part in (pushed.strip("/"), namespace) if part)
    checkpoint = LaunchConfiguration("checkpoint").perform(context)
    robot = _include("robot.launch.py", {
        "namespace": namespace, "checkpoint": checkpoint,
        "params_file": LaunchConfiguration("robot_params_file").perform(context)})
    cloud = _include("cloud.launch.py", {
        "namespace": "", "checkpoint": checkpoint, "robot_namespaces": f"['{served}']",
        "params_file": LaunchConfiguration("cloud_params_file").perform(context)})
    return [robot, cloud]


def generate_launch_description():
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS]
        + [OpaqueFunction(function=_robot_and_cloud)])
