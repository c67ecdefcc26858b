"""Declared parameters, config/remote.yaml and the README table agree; settings are checked."""

import os
import re

import pytest
import yaml

from dedelayed_link.params import defaults
from dedelayed_remote.remote_params import NODE_NAME, PARAMETERS, RemoteNodeSettings, normalize_namespace

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_yaml_holds_every_declared_parameter_with_its_default_and_nothing_else():
    with open(os.path.join(PACKAGE_DIR, "config", "remote.yaml")) as f:
        yaml_params = yaml.safe_load(f)["/**/" + NODE_NAME]["ros__parameters"]
    assert set(yaml_params) == set(defaults(PARAMETERS))
    for name, default in defaults(PARAMETERS).items():
        assert yaml_params[name] == default and type(yaml_params[name]) is type(default), name


def test_readme_table_documents_every_parameter_with_its_default():
    with open(os.path.join(PACKAGE_DIR, "README.md")) as f:
        rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(\w+)` \| `([^`]*)` \|", f.read(), re.M)}
    assert set(rows) == set(defaults(PARAMETERS))
    for name, default in defaults(PARAMETERS).items():
        shown = yaml.safe_load(rows[name])
        assert shown == default, f"README shows {name} = {rows[name]}, the node declares {default!r}"


def test_console_script_is_declared():
    with open(os.path.join(PACKAGE_DIR, "setup.py")) as f:
        assert "remote_node = dedelayed_remote.remote_node:main" in f.read()


def test_settings_default_and_normalise_namespaces():
    s = RemoteNodeSettings.from_values({"robot_namespaces": ["robot1", "/robot2/", ""],
                                        "max_frame_age_ms": 300})
    assert s.robot_namespaces == ["/robot1", "/robot2", ""]
    assert s.max_frame_age_ms == 300.0 and isinstance(s.max_frame_age_ms, float)
    assert s.local_hw((64, 128)) == (64, 128)
    assert RemoteNodeSettings.from_values({"local_height": 96, "local_width": 160}).local_hw((64, 128)) == (96, 160)
    from dedelayed_link import robot_topic
    assert robot_topic("/robot1", "dedelayed/delay_report") == "/robot1/dedelayed/delay_report"
    assert robot_topic("", "dedelayed/delay_report") == "dedelayed/delay_report"


@pytest.mark.parametrize("values, message", [
    ({"feature_encoding": "bf16"}, "feature_encoding"),
    ({"robot_namespaces": []}, "empty"),
    ({"robot_namespaces": ["/a", "a"]}, "twice"),
    ({"robot_namespaces": ["/robot-1"]}, "robot-1"),
    ({"local_height": 96}, "both"),
    ({"num_frames": -1}, "num_frames"),
    ({"default_delay_ms": -5.0}, "default_delay_ms"),
    ({"diagnostics_period_s": 0.0}, "diagnostics_period_s"),
    ({"max_frame_age_ms": "soon"}, "max_frame_age_ms"),
    ({"max_frame_age": 1.0}, "unknown"),
])
def test_bad_settings_name_the_value(values, message):
    with pytest.raises(ValueError, match=message):
        RemoteNodeSettings.from_values(values)


def test_namespace_validation():
    assert normalize_namespace("  ") == ""
    assert normalize_namespace("fleet/robot_7") == "/fleet/robot_7"
    with pytest.raises(ValueError, match="7robot"):
        normalize_namespace("/7robot")
