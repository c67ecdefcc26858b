"""robot.launch.py and cloud.launch.py wire real executables and real parameters.

`launch`/`launch_ros` are not installable from PyPI, so the launch files are also checked
statically: every executable the graph (dedelayed_bringup.graph, which the launch files start) names
is a console script of its package, every argument they override is a parameter that node declares,
and every override argument defaults to empty. The overrides they build
(launch_arguments.given_overrides) are then applied the way both launchers apply them (params file
first, overrides after) to real rclpy nodes declaring the robot's real parameter tables: a params-
file value survives when the argument is not given, and the argument wins when it is. Where
launch_ros is installed, the descriptions are also built for real.
"""

import ast
import importlib.util
import os
import re
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_DIR = os.path.join(REPO, "dedelayed_bringup", "launch")


def _tree(name):
    return ast.parse(open(os.path.join(LAUNCH_DIR, name)).read())


def _constant(tree, name):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == name for t in node.targets):
            return node.value
    raise AssertionError(f"{name} not defined")


def _argument_names(tree):
    names = [elt.elts[0].value for elt in _constant(tree, "ARGUMENTS").elts]
    return names + _override_names(tree)


def _override_names(tree):
    return [elt.elts[0].value for elt in _constant(tree, "OVERRIDES").elts]


def _launch_module(launch_file):
    spec = importlib.util.spec_from_file_location("launch_under_test",
                                                  os.path.join(LAUNCH_DIR, launch_file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _console_scripts(package):
    text = open(os.path.join(REPO, package, "setup.py")).read()
    return set(re.findall(r'"(\w+) = [\w.]+:main"', text))


@pytest.mark.parametrize("launch_file, package, params_module", [
    ("robot.launch.py", "dedelayed_local", "robot"),
    ("cloud.launch.py", "dedelayed_remote", "remote"),
])
def test_launch_files_start_declared_executables_with_declared_parameters(
        launch_file, package, params_module):
    from dedelayed_bringup.launch_arguments import VALUE_TYPES

    tree = _tree(launch_file)
    arguments = _argument_names(tree)
    for required in ("namespace", "params_file", "checkpoint", "device", "use_sim_time"):
        assert required in arguments, f"{launch_file} lacks launch argument {required}"
    assert any("address" in name for name in arguments), "no cloud/robot address argument"
    from dedelayed_bringup import graph

    started = {"robot.launch.py": (graph.ROBOT_EXECUTABLE, graph.UPLINK_EXECUTABLE),
               "cloud.launch.py": (graph.CLOUD_EXECUTABLE,)}[launch_file]
    # link:=zenoh adds the secure link's bridge (dedelayed_bringup link_bridge)
    assert "link" in arguments and "certs_dir" in arguments
    for executable in started + (graph.BRIDGE_EXECUTABLE,):
        owner, name = executable.split("/")
        assert owner == package or executable == graph.BRIDGE_EXECUTABLE
        assert name in _console_scripts(owner), executable
    yaml_file = os.path.join(REPO, package, "config", f"{params_module}.yaml")
    declared = set(re.findall(r"^    (\w+):", open(yaml_file).read(), re.MULTILINE))
    declared.add("use_sim_time")   # every rclpy node declares it
    overrides = _override_names(tree)
    assert overrides and set(overrides) <= declared, set(overrides) - declared
    assert len(set(arguments)) == len(arguments), arguments
    # a launch-only argument must not share a node parameter's name (it would never reach it)
    assert not set(arguments) - set(overrides) & declared, set(arguments) & declared
    for elt in _constant(tree, "OVERRIDES").elts:
        assert elt.elts[1].value in VALUE_TYPES, ast.dump(elt)
    assert "max_feature_age_ms" in overrides or launch_file == "cloud.launch.py"
    assert {"remote_height", "remote_width"} <= set(overrides) or launch_file == "cloud.launch.py"


def _robot_overrides(**given):
    from dedelayed_bringup.launch_arguments import given_overrides

    overrides = _override_names(_tree("robot.launch.py"))
    table = [(elt.elts[0].value, elt.elts[1].value, "")
             for elt in _constant(_tree("robot.launch.py"), "OVERRIDES").elts]
    return given_overrides({name: given.get(name, "") for name in overrides}, table)


def _robot_parameters(params_file, overrides, ros_domain_id):
    """Real rclpy nodes named and declared like the robot's, started with the ROS arguments
    a launcher gives them (params file, then overrides); {node: {parameter: value}}."""
    import rclpy
    from rclpy.node import Node

    from dedelayed_bringup.stack_command import NodeProcess, node_command
    from dedelayed_link.params import declare_parameters
    from dedelayed_local import fusion_node, segmenter_node, uplink_node

    command = node_command(NodeProcess("robot", module="dedelayed_local.robot_main",
                                       namespace="/robot1", params_files=[str(params_file)],
                                       parameters=overrides), sys.executable)
    ros_args = command[command.index("--ros-args"):]
    context = rclpy.Context()
    rclpy.init(args=["robot"] + ros_args, context=context, domain_id=ros_domain_id)
    try:
        values = {}
        for name, module in (("dedelayed_segmenter", segmenter_node),
                             ("dedelayed_fusion", fusion_node), ("dedelayed_uplink", uplink_node)):
            node = Node(name, context=context)
            values[name] = declare_parameters(node, module.PARAMETERS)
            values[name]["use_sim_time"] = node.get_parameter("use_sim_time").value
            node.destroy_node()
        return values
    finally:
        context.try_shutdown()


@pytest.mark.ros
def test_params_file_values_reach_the_nodes_unless_the_argument_is_given(tmp_path,
                                                                          ros_domain_id):
    user_yaml = tmp_path / "my_robot.yaml"
    user_yaml.write_text(
        "/**/dedelayed_segmenter:\n  ros__parameters:\n    backend: torch\n    device: cuda\n"
        "    use_sim_time: true\n"
        "/**/dedelayed_fusion:\n  ros__parameters:\n    max_feature_age_ms: 450.0\n"
        "/**/dedelayed_uplink:\n  ros__parameters:\n"
        "    remote_height: 96\n    remote_width: 192\n")
    assert _robot_overrides() == {}, "an argument not given must pass nothing on"
    got = _robot_parameters(user_yaml, _robot_overrides(), ros_domain_id)
    seg, fusion, uplink = (got[n] for n in ("dedelayed_segmenter", "dedelayed_fusion",
                                            "dedelayed_uplink"))
    assert (seg["backend"], seg["device"]) == ("torch", "cuda")
    assert seg["use_sim_time"] is True
    assert fusion["max_feature_age_ms"] == 450.0
    assert (uplink["remote_height"], uplink["remote_width"]) == (96, 192)
    # the YAML says nothing: defaults (the shipped checkpoint, managed nodes that autostart)
    assert seg["checkpoint"] == "shipped:world" and seg["preset"] == "small"
    assert seg["autostart"] is True

    overrides = _robot_overrides(backend="onnxruntime",
                                 max_feature_age_ms="300", remote_height="192",
                                 remote_width="384", use_sim_time="false", autostart="false")
    assert overrides == {"backend": "onnxruntime",
                         "max_feature_age_ms": 300.0, "remote_height": 192,
                         "remote_width": 384, "use_sim_time": False, "autostart": False}
    got = _robot_parameters(user_yaml, overrides, ros_domain_id)
    seg, fusion, uplink = (got[n] for n in ("dedelayed_segmenter", "dedelayed_fusion",
                                            "dedelayed_uplink"))
    assert (seg["backend"], seg["device"]) == ("onnxruntime", "cuda")
    assert seg["use_sim_time"] is False and fusion["max_feature_age_ms"] == 300.0
    assert (uplink["remote_height"], uplink["remote_width"]) == (192, 384)
    assert not any(n["autostart"] for n in got.values())


def test_bad_launch_argument_values_name_the_argument_and_the_fix():
    with pytest.raises(ValueError, match=r"max_feature_age_ms:='soon' is not a float.*600.0"):
        _robot_overrides(max_feature_age_ms="soon")
    with pytest.raises(ValueError, match=r"remote_height:='19.5' is not a int"):
        _robot_overrides(remote_height="19.5")
    from dedelayed_bringup.launch_arguments import given_overrides

    with pytest.raises(ValueError, match="robot_namespaces"):
        given_overrides({"robot_namespaces": "/robot1"}, [("robot_namespaces", "str_list", "")])
    assert given_overrides({"robot_namespaces": "['/robot1', '/robot2']"},
                           [("robot_namespaces", "str_list", "")]) == {
        "robot_namespaces": ["/robot1", "/robot2"]}


def test_parent_launch_file_scopes_each_include_and_forwards_what_it_inherits():
    """robot_and_cloud.launch.py: each include in GroupAction(scoped=True, forwarding=True)
    with the arguments both declare handed over explicitly: neither reads the other's
    params_file, and what a parent sets (remaps, namespace, global parameters) still reaches
    the nodes (forwarding=False would clear it)."""
    tree = _tree("robot_and_cloud.launch.py")
    groups = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
              and getattr(n.func, "id", "") == "GroupAction"]
    assert groups, "no GroupAction around the includes"
    for group in groups:
        keywords = {kw.arg: kw.value for kw in group.keywords}
        assert keywords["scoped"].value is True and keywords["forwarding"].value is True
        assert "launch_configurations" in keywords
    included = {c.args[0].value for c in ast.walk(tree) if isinstance(c, ast.Call)
                and getattr(c.func, "id", "") == "_include"}
    assert included == {"robot.launch.py", "cloud.launch.py"}
    parent = [elt.elts[0].value for elt in _constant(tree, "ARGUMENTS").elts]
    assert "params_file" not in parent and {"robot_params_file", "cloud_params_file"} <= set(parent)


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None,
                    reason="launch_ros is not installed (not on PyPI); checked statically above")
@pytest.mark.parametrize("launch_file", ["robot.launch.py", "cloud.launch.py",
                                         "robot_and_cloud.launch.py"])
def test_launch_descriptions_build(launch_file):
    assert _launch_module(launch_file).generate_launch_description().entities


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None,
                    reason="launch_ros is not installed (not on PyPI); checked statically above")
def test_robot_launch_passes_only_given_arguments_on(tmp_path):
    from launch import LaunchContext

    module = _launch_module("robot.launch.py")
    context = LaunchContext()
    for name, default, _ in module.ARGUMENTS:
        context.launch_configurations[name] = default if isinstance(default, str) else ""
    for name, _, _ in module.OVERRIDES:
        context.launch_configurations[name] = ""
    context.launch_configurations.update(namespace="robot1", params_file=str(tmp_path / "r.yaml"))
    from dedelayed_bringup.launch_arguments import nodes_for

    (node,) = nodes_for(context, module.OVERRIDES, module.processes)
    assert len(node._Node__parameters) == 1, "an empty argument was passed on"
    context.launch_configurations["backend"] = "torch"
    (node,) = nodes_for(context, module.OVERRIDES, module.processes)
    assert len(node._Node__parameters) == 2, "a given argument was not passed on"
    text = open(node._Node__parameters[1].evaluate(context)).read()
    assert not re.search(r"[&*]id\d", text), "rcl refuses YAML anchors and aliases"
    written = yaml.safe_load(text)
    # keyed by each node of the process, like the params file, so it wins over it
    assert written == {f"/**/{name}": {"ros__parameters": {"backend": "torch"}}
                       for name in ("dedelayed_segmenter", "dedelayed_fusion", "dedelayed_uplink")}
    context.launch_configurations["uplink"] = "own_process"
    assert len(nodes_for(context, module.OVERRIDES, module.processes)) == 2


def test_peer_address_arguments_become_a_unicast_profile(tmp_path, monkeypatch):
    from dedelayed_bringup.transport.discovery import unicast_env_from_addresses

    monkeypatch.setenv("HOME", str(tmp_path))
    assert unicast_env_from_addresses(" , ", "dedelayed_robot_peers") == {}
    env = unicast_env_from_addresses("10.0.0.2, 10.0.0.3", "dedelayed_robot_peers")
    profile = tmp_path / ".ros" / "dedelayed_robot_peers.xml"
    assert env["FASTRTPS_DEFAULT_PROFILES_FILE"] == str(profile)
    xml = profile.read_text()
    assert "10.0.0.2" in xml and "10.0.0.3" in xml
