"""The real `ros2` CLI sees the workspace: `ros2 launch` reads the bringup launch files,
`ros2 pkg` finds the console scripts, and a launch stops cleanly on Ctrl-C.

Skipped, with the reason, where launch / launch_ros / ros2cli are not installed (`make test`
installs them from ../shared/ros-src when that folder exists; see test/ros2_cli.py).
"""

import os
import textwrap

import pytest
from ros2_cli import Ros2Launch, require_ros2_cli, ros2

pytestmark = pytest.mark.ros


def test_robot_launch_file_shows_its_arguments():
    require_ros2_cli()
    result = ros2("launch", "dedelayed_bringup", "robot.launch.py", "--show-args")
    assert result.returncode == 0, result.stdout
    assert "'params_file':" in result.stdout, result.stdout


def test_pkg_executables_lists_the_robot():
    require_ros2_cli()
    result = ros2("pkg", "executables", "dedelayed_local")
    assert result.returncode == 0, result.stdout
    assert "dedelayed_local robot" in result.stdout.splitlines(), result.stdout


CHILD = """\
import os, signal, time
signal.signal(signal.SIGINT, lambda *_: os._exit(0))
print("child ready pid=%d" % os.getpid(), flush=True)
time.sleep(60)
"""


def test_launch_stops_its_processes_on_sigint(tmp_path, ros_domain_id):
    require_ros2_cli()
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    launch_file = tmp_path / "sleeper.launch.py"
    launch_file.write_text(textwrap.dedent(f"""\
        import sys
        from launch import LaunchDescription
        from launch.actions import ExecuteProcess

        def generate_launch_description():
            return LaunchDescription([ExecuteProcess(cmd=[sys.executable, {str(child)!r}],
                                                     output="screen")])
        """))
    with Ros2Launch(None, str(launch_file), env={"ROS_DOMAIN_ID": ros_domain_id}) as launch:
        line = launch.wait_for(r"child ready pid=\d+", timeout_s=30)
        child_pid = int(line.rsplit("=", 1)[1])
        launch.sigint()
        # launch itself took the SIGINT (not only its child): it says so, then exits 0
        launch.wait_for(r"user interrupted with ctrl-c", timeout_s=10)
        assert launch.wait_exit(timeout_s=20) == 0, launch.output()
    assert not os.path.exists(f"/proc/{child_pid}") or \
        open(f"/proc/{child_pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
