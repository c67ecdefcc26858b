"""Stack: command lines, output forwarding, clean stop, escalation, and a dying node."""

import io
import signal
import sys

import pytest

from dedelayed_bringup.stack import NodeProcess, Stack, StackError, node_command
from dedelayed_bringup.stack_command import node_env, parameter_value_text


def _python_child(name, code, **kwargs):
    return NodeProcess(name, executable=sys.executable, arguments=["-c", code], **kwargs)


def test_node_env_lets_the_node_settings_win(monkeypatch):
    monkeypatch.setenv("ROS_DOMAIN_ID", "0")
    monkeypatch.setenv("DEDELAYED_TEST_INHERITED", "yes")
    env = node_env(NodeProcess("n", module="m", env={"ROS_DOMAIN_ID": 7, "PYTHONUNBUFFERED": "0"}),
                   PYTHONUNBUFFERED="1", RCUTILS_COLORIZED_OUTPUT="0")
    assert env["ROS_DOMAIN_ID"] == "7" and env["PYTHONUNBUFFERED"] == "0"
    assert env["RCUTILS_COLORIZED_OUTPUT"] == "0" and env["DEDELAYED_TEST_INHERITED"] == "yes"


def test_command_line_like_ros2_run():
    spec = NodeProcess(
        "emulator", module="dedelayed_bringup.link_emulation.emulator_node", namespace="/robot1",
        node_name="link", params_files=["a.yaml"], remappings={"image": "/camera/image_raw"},
        parameters={"uplink_delay_ms": 50.0, "link_up": False, "seed": 3,
                    "uplink_topics": ["a|b/msg/C|sensor"], "outage_windows_s": [10.0, 3.0]})
    assert node_command(spec, "/py") == [
        "/py", "-m", "dedelayed_bringup.link_emulation.emulator_node", "--ros-args",
        "-r", "__ns:=/robot1", "-r", "__node:=link", "-r", "image:=/camera/image_raw",
        "--params-file", "a.yaml", "-p", "uplink_delay_ms:=50.0", "-p", "link_up:=false",
        "-p", "seed:=3", "-p", "uplink_topics:=['a|b/msg/C|sensor']",
        "-p", "outage_windows_s:=[10.0, 3.0]"]
    assert parameter_value_text("it's") == "'it''s'"
    with pytest.raises(ValueError, match="exactly one of module= or executable="):
        node_command(NodeProcess("x"), "/py")
    with pytest.raises(TypeError, match="no ROS form"):
        parameter_value_text({"a": 1})


def test_unknown_executable_names_the_fix():
    with pytest.raises(FileNotFoundError, match="not in the ament index"):
        node_command(NodeProcess("x", executable="no_such_pkg/exe"), "/py")


def test_output_is_prefixed_and_a_dying_required_node_stops_the_rest():
    out = io.StringIO()
    stack = Stack([
        _python_child("sleeper", "import time; print('up', flush=True); time.sleep(60)"),
        _python_child("crasher", "import time; time.sleep(0.5); print('bye'); raise SystemExit(3)"),
    ], output=out, stop_timeout_s=3.0)
    with stack:
        stack.wait_for_output("sleeper", "^up$", timeout_s=10)
        failure = stack.wait(timeout_s=20)
    assert failure is not None and "'crasher' exited with code 3" in failure and "bye" in failure
    codes = stack.returncodes()
    assert codes["crasher"] == 3 and codes["sleeper"] is not None  # stopped by the stack
    assert "[sleeper] up" in out.getvalue() and "[crasher] bye" in out.getvalue()


def test_a_node_ignoring_sigint_is_terminated():
    stubborn = ("import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)")
    stack = Stack([_python_child("stubborn", stubborn)], output=None, stop_timeout_s=0.5)
    with stack:
        stack.wait_for_output("stubborn", "ready", timeout_s=10)
    assert stack.returncodes() == {"stubborn": -15}  # SIGTERM after the SIGINT grace period


def test_wait_for_output_reports_an_early_exit_with_its_output():
    with Stack([_python_child("short", "print('no luck')")], output=None) as stack:
        with pytest.raises(StackError, match="(?s)'short' exited with code 0.*no luck"):
            stack.wait_for_output("short", "never printed", timeout_s=10)


@pytest.mark.ros
@pytest.mark.parametrize("parent_sigint", ["default", "ignored"])
def test_link_emulator_by_executable_stops_cleanly_on_sigint(ros_domain_id, parent_sigint):
    """Also when started with SIGINT ignored, as a background job of a script (`... &`) is:
    a process inherits that, and ignored it would outlive the SIGINT of ros2 launch."""
    out = io.StringIO()
    spec = NodeProcess("link_emulator", executable="dedelayed_bringup/link_emulator",
                       namespace="/robot1", env={"ROS_DOMAIN_ID": ros_domain_id},
                       params_files=[_installed_config("link_emulator.yaml")])
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN if parent_sigint == "ignored"
                             else signal.default_int_handler)
    stack = Stack([spec], output=out)
    try:
        stack.start()  # the child inherits the disposition
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        line = stack.wait_for_output("link_emulator", "relaying robot domain", timeout_s=30)
        assert f"robot domain {ros_domain_id} <-> cloud domain {ros_domain_id + 1}" in line
    finally:
        stack.stop()
    assert stack.returncodes() == {"link_emulator": 0}, out.getvalue()
    assert "[link_emulator] [link_emulator] stopped" in out.getvalue()


def _installed_config(name):
    import os

    from ament_index_python.packages import get_package_share_directory

    return os.path.join(get_package_share_directory("dedelayed_bringup"), "config", name)
