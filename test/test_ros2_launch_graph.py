"""The launch files run for real through the upstream `ros2 launch` and `ros2` CLI.

- A user's parent launch file composes: its PushROSNamespace, SetRemap and SetParameter reach
  every node of robot_and_cloud.launch.py, which with no arguments of its own serves the shipped
  checkpoint on both sides and says so.
- The nodes are managed: with autostart:=false `ros2 lifecycle` lists them unconfigured and
  drives them to a fused robot; a deactivated cloud answers no robot (the robot's diagnostics
  say its features went stale), a deactivated fusion node makes the segmenter say why it runs
  local-only, and cleanup unloads the cloud's model.
- Ctrl-C twice in quick succession ends every process cleanly: exit 0, no traceback.

Skipped with the reason where the upstream launch sources are not installed (ros2_cli.py).
"""

import dataclasses
import os
import re
import signal
import time

import pytest
from ros2_cli import Ros2Launch, require_ros2_cli, ros2
from secure_link_stack import Observer

from dedelayed_bringup.demo.stack import camera_process

pytestmark = [pytest.mark.ros, pytest.mark.slow]

SEGMENTER_STATUS = "dedelayed_segmenter: segmentation"
ROBOT_NODES = ("dedelayed_segmenter", "dedelayed_fusion", "dedelayed_uplink")
PARENT_LAUNCH = '''
from launch import LaunchDescription
from launch.actions import GroupAction, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import PathJoinSubstitution
from launch_ros.actions import PushROSNamespace, SetParameter, SetRemap
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    included = PythonLaunchDescriptionSource(PathJoinSubstitution(
        [FindPackageShare("dedelayed_bringup"), "launch", "robot_and_cloud.launch.py"]))
    return LaunchDescription([GroupAction([
        PushROSNamespace("fleet"),
        SetRemap(src="/camera/image_raw", dst="/cam/front/image_raw"),
        SetParameter(name="use_sim_time", value=True),
        IncludeLaunchDescription(included),
    ])])
'''


@pytest.fixture
def launch_env(ros_domain_id, tmp_path):
    require_ros2_cli()
    return {"ROS_DOMAIN_ID": str(ros_domain_id), "HOME": str(tmp_path)}


def _camera(ros_domain_id, topic="/camera/image_raw", **parameters):
    """The synthetic camera (a 60 s world drive at 15 fps, played 6 times over) publishing on
    ``topic`` from the start."""
    from dedelayed_bringup.stack import Stack

    spec = camera_process(seed=7, motion=1.0, fps=15.0, camera_hw=(128, 256), duration_s=60.0,
                          robot_domain=ros_domain_id, env={}, source_parameters={"loops": 6})
    spec = dataclasses.replace(spec, remappings={"camera/image_raw": topic},
                               parameters={**spec.parameters, "min_subscribers": 0, **parameters})
    return Stack([spec], output=None)


def _wait_status(observer, pattern, timeout_s, since_s=0.0):
    """The first segmenter status after ``since_s`` whose message matches ``pattern``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for _, message, values in observer.since(SEGMENTER_STATUS, since_s):
            if re.search(pattern, message):
                return message, values
        time.sleep(0.2)
    latest = observer.latest(SEGMENTER_STATUS)
    raise AssertionError(f"no segmenter status matching {pattern!r} in {timeout_s:g} s; "
                         f"the latest: {latest and latest[1:]}")


def _cli_until_found(env, *args, timeout_s=60.0):
    """stdout of ``ros2 *args``, retried while a fresh CLI participant has not discovered the
    node yet ("Node not found")."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = ros2(*args, env=env, timeout_s=90)
        if "not found" not in (result.stdout or "") + (result.stderr or "") \
                or time.monotonic() > deadline:
            return result
        time.sleep(1.0)


def _lifecycle(env, node, transition):
    result = _cli_until_found(env, "lifecycle", "set", node, transition)
    assert "Transitioning successful" in result.stdout, (node, transition, result.stdout,
                                                         result.stderr)


def _state(env, node):
    return _cli_until_found(env, "lifecycle", "get", node).stdout.strip()


def test_a_parent_launch_file_composes_with_robot_and_cloud(launch_env, ros_domain_id, tmp_path):
    parent = tmp_path / "fleet.launch.py"
    parent.write_text(PARENT_LAUNCH)
    from sensor_msgs.msg import Image

    observer = Observer(ros_domain_id, "observer")
    seen = []
    observer.node.create_subscription(Image, "/fleet/robot1/dedelayed/segmentation",
                                      lambda m: seen.append(m.header.stamp), 10)
    try:
        with Ros2Launch(None, parent, env=launch_env) as launch, \
                _camera(ros_domain_id, "/cam/front/image_raw"):
            launch.wait_for(r"\[fleet\.robot1\.dedelayed_segmenter\]: segmenting "
                            r"/cam/front/image_raw ", 120)
            served = launch.wait_for(r"fleet\.remote_node\]: serving ", 120)
            assert "['/fleet/robot1']" in served and "/fleet/robot1/dedelayed/uplink" in served
            # no arguments of its own: the shipped checkpoint on both sides, said at start-up
            assert re.search(r"fleet\.robot1\.dedelayed_segmenter\]: model dedelayed-local-\S+ "
                             r"from \S+dedelayed_streaming\.pt", launch.output())
            assert re.search(r"fleet\.remote_node\]: loaded dedelayed-remote-\S+ \(\S+dedelayed_streaming"
                             r"\.pt\)", launch.output())
            for node in ("/fleet/robot1/dedelayed_segmenter", "/fleet/remote_node"):
                value = _cli_until_found(launch_env, "param", "get", node, "use_sim_time").stdout
                assert "True" in value, (node, value)
            deadline = time.monotonic() + 60
            while not seen and time.monotonic() < deadline:
                time.sleep(0.2)
            assert seen, "no segmentation on /fleet/robot1/dedelayed/segmentation"
            assert "RANDOM" not in launch.output() and "UNTRAINED" not in launch.output()
    finally:
        observer.context.try_shutdown()


def test_managed_nodes_are_driven_by_ros2_lifecycle(launch_env, ros_domain_id):
    observer = Observer(ros_domain_id, "observer", status_suffixes=(SEGMENTER_STATUS,))
    robot = [f"/robot1/{name}" for name in ROBOT_NODES]
    try:
        with Ros2Launch("dedelayed_bringup", "robot_and_cloud.launch.py",
                        ["autostart:=false", "image:=/cam/image"], env=launch_env) as launch, \
                _camera(ros_domain_id, "/cam/image"):
            listed = ""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(
                    n in listed for n in robot + ["/remote_node"]):
                listed = ros2("lifecycle", "nodes", "--spin-time", "2", env=launch_env).stdout
                time.sleep(0.5)
            assert all(n in listed for n in robot + ["/remote_node"]), listed
            assert "unconfigured" in _state(launch_env, "/remote_node")
            assert "unconfigured" in _state(launch_env, robot[0])
            assert "segmenting" not in launch.output(), "autostart:=false started a node"

            _lifecycle(launch_env, "/remote_node", "configure")
            assert "inactive" in _state(launch_env, "/remote_node")
            _lifecycle(launch_env, "/remote_node", "activate")
            for node in robot:                     # the segmenter first: it loads the model
                _lifecycle(launch_env, node, "configure")
                _lifecycle(launch_env, node, "activate")
            launch.wait_for(r"segmenting /cam/image ", 30)
            _wait_status(observer, r"^fused$", 90)

            stopped_s = time.monotonic()
            _lifecycle(launch_env, "/remote_node", "deactivate")
            _, values = _wait_status(observer, r"local-only: features_stale", 30, stopped_s)
            assert "cloud or the link down" in values["reason_detail"]
            _lifecycle(launch_env, "/remote_node", "activate")
            _wait_status(observer, r"^fused$", 60, time.monotonic())

            _lifecycle(launch_env, robot[1], "deactivate")       # the fusion node
            _, values = _wait_status(observer, r"local-only: fusion_inactive", 30,
                                     time.monotonic())
            assert "activate dedelayed_fusion" in values["reason_detail"]
            _lifecycle(launch_env, robot[1], "activate")
            _wait_status(observer, r"^fused$", 60, time.monotonic())

            _lifecycle(launch_env, "/remote_node", "deactivate")
            _lifecycle(launch_env, "/remote_node", "cleanup")
            assert "unconfigured" in _state(launch_env, "/remote_node")
            launch.sigint()
            assert launch.wait_exit(60) == 0
            assert "Traceback" not in launch.output()
    finally:
        observer.context.try_shutdown()


@pytest.mark.parametrize("attempt", [1, 2])
def test_two_quick_sigints_end_every_process_cleanly(launch_env, attempt):
    with Ros2Launch("dedelayed_bringup", "robot_and_cloud.launch.py", env=launch_env) as launch:
        launch.wait_for(r"dedelayed_uplink\]: activated", 120)
        launch.wait_for(r"remote_node\]: activated", 120)
        os.killpg(launch.process.pid, signal.SIGINT)     # Ctrl-C: the terminal's whole group
        time.sleep(0.05 * attempt)
        os.killpg(launch.process.pid, signal.SIGINT)     # ... pressed twice
        assert launch.wait_exit(60) == 0, launch.output()
        output = launch.output()
        assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
        assert len(re.findall(r"process has finished cleanly", output)) == 2, output
