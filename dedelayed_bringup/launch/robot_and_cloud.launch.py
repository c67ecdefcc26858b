"""Robot and cloud from one parent launch file (one host, e.g. a bench test or a simulator).

    ros2 launch dedelayed_bringup robot_and_cloud.launch.py namespace:=robot1 \
        robot_params_file:=my_robot.yaml cloud_params_file:=my_cloud.yaml

robot.launch.py and cloud.launch.py declare arguments of the same names (params_file,
namespace, checkpoint, device, use_sim_time). An IncludeLaunchDescription is not scoped: a
value one of them declares stays set for the next, so the cloud would read the robot's
params_file. Each include therefore sits in its own GroupAction(scoped=True,
forwarding=False): it sees only the arguments handed to it here, and what it declares is gone
when the group ends. The parent's arguments have distinct names for the same reason.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = (
    ("namespace", "robot1", "the robot's namespace; the cloud serves exactly this robot"),
    ("robot_params_file", PathJoinSubstitution([FindPackageShare("dedelayed_local"), "config",
                                                "robot.yaml"]), "robot parameter YAML"),
    ("cloud_params_file", PathJoinSubstitution([FindPackageShare("dedelayed_remote"), "config",
                                                "remote.yaml"]), "cloud parameter YAML"),
    ("checkpoint", "", "dedelayed checkpoint (.pt) for both halves; empty = each YAML's value"),
)


def _scoped_include(launch_file, arguments):
    """``launch_file`` of this package with exactly ``arguments``, nothing leaking in or out.

    The group evaluates ``arguments`` in the parent's scope, then starts the include from a
    clean one holding only them (forwarding=False), and drops all of it afterwards."""
    source = PythonLaunchDescriptionSource(PathJoinSubstitution(
        [FindPackageShare("dedelayed_bringup"), "launch", launch_file]))
    return GroupAction([IncludeLaunchDescription(source)], scoped=True, forwarding=False,
                       launch_configurations=arguments)


def generate_launch_description():
    checkpoint = LaunchConfiguration("checkpoint")
    robot = _scoped_include("robot.launch.py", {
        "namespace": LaunchConfiguration("namespace"),
        "params_file": LaunchConfiguration("robot_params_file"), "checkpoint": checkpoint})
    cloud = _scoped_include("cloud.launch.py", {
        "params_file": LaunchConfiguration("cloud_params_file"), "checkpoint": checkpoint,
        "robot_namespaces": ["['/", LaunchConfiguration("namespace"), "']"]})
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in ARGUMENTS] + [robot, cloud])
