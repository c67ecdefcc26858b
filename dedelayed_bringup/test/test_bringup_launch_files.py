"""robot.launch.py and cloud.launch.py wire real executables and real parameters.

`launch`/`launch_ros` are not installable from PyPI, so on pip-only machines the launch files are
checked statically: every executable they start is a console script of its package, every
argument they override is a parameter that node declares, and the default params files exist.
Where launch_ros is installed, the descriptions are also built for real.
"""

import ast
import importlib.util
import os
import re

import pytest

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
    return [elt.elts[0].value for elt in _constant(tree, "ARGUMENTS").elts]


def _started_nodes(tree):
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", "") == "Node"]
    return [{kw.arg: kw.value.value for kw in call.keywords
             if isinstance(kw.value, ast.Constant)} for call in calls]


def _console_scripts(package):
    text = open(os.path.join(REPO, package, "setup.py")).read()
    return set(re.findall(r'"(\w+) = [\w.]+:main"', text))


@pytest.mark.parametrize("launch_file, package, overrides_name, params_module", [
    ("robot.launch.py", "dedelayed_local", "OVERRIDES", "robot"),
    ("cloud.launch.py", "dedelayed_remote", "STRING_OVERRIDES", "remote"),
])
def test_launch_files_start_declared_executables_with_declared_parameters(
        launch_file, package, overrides_name, params_module):
    tree = _tree(launch_file)
    arguments = _argument_names(tree)
    for required in ("namespace", "params_file", "checkpoint", "device", "use_sim_time"):
        assert required in arguments, f"{launch_file} lacks launch argument {required}"
    assert any("address" in name for name in arguments), "no cloud/robot address argument"
    (node,) = _started_nodes(tree)
    assert node["package"] == package
    assert node["executable"] in _console_scripts(package)
    yaml_file = os.path.join(REPO, package, "config", f"{params_module}.yaml")
    declared = set(re.findall(r"^    (\w+):", open(yaml_file).read(), re.MULTILINE))
    overrides = [elt.value for elt in _constant(tree, overrides_name).elts]
    assert overrides and set(overrides) <= declared, set(overrides) - declared
    for name in overrides:
        assert name in arguments


@pytest.mark.skipif(importlib.util.find_spec("launch_ros") is None,
                    reason="launch_ros is not installed (not on PyPI); checked statically above")
@pytest.mark.parametrize("launch_file", ["robot.launch.py", "cloud.launch.py"])
def test_launch_descriptions_build(launch_file):
    spec = importlib.util.spec_from_file_location("launch_under_test",
                                                  os.path.join(LAUNCH_DIR, launch_file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate_launch_description().entities


def test_peer_address_arguments_become_a_unicast_profile(tmp_path, monkeypatch):
    from dedelayed_bringup.transport import unicast_env_from_addresses

    monkeypatch.setenv("HOME", str(tmp_path))
    assert unicast_env_from_addresses(" , ", "dedelayed_robot_peers") == {}
    env = unicast_env_from_addresses("10.0.0.2, 10.0.0.3", "dedelayed_robot_peers")
    profile = tmp_path / ".ros" / "dedelayed_robot_peers.xml"
    assert env["FASTRTPS_DEFAULT_PROFILES_FILE"] == str(profile)
    xml = profile.read_text()
    assert "10.0.0.2" in xml and "10.0.0.3" in xml
