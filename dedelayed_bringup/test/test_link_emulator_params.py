"""config/link_emulator.yaml and the node's declared parameters agree, both ways and in value."""

import os

import yaml

from dedelayed_bringup.link_emulation.params import PARAMETERS

CONFIG = os.path.join(os.path.dirname(__file__), "..", "config", "link_emulator.yaml")


def test_yaml_keys_and_defaults_equal_the_declared_parameters():
    with open(CONFIG) as f:
        (node_entry,) = yaml.safe_load(f).values()
    in_yaml = node_entry["ros__parameters"]
    declared = {p.name: p.default for p in PARAMETERS}
    assert sorted(in_yaml) == sorted(declared)
    for name, default in declared.items():
        assert in_yaml[name] == default and type(in_yaml[name]) is type(default), name


def test_every_parameter_is_described_and_only_link_up_changes_at_run_time():
    assert all(len(p.description) > 20 for p in PARAMETERS)
    assert [p.name for p in PARAMETERS if not p.read_only] == ["link_up"]


def test_readme_table_lists_every_parameter():
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme) as f:
        section = f.read().split("## Link emulator", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [p.name for p in PARAMETERS]
