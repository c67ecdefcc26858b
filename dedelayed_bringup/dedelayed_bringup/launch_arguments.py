"""Launch arguments that override node parameters only when the user gives them, and the one
launch description robot.launch.py and cloud.launch.py are both made of.

Those files pass ``[params_file, given_overrides(...)]`` to their nodes: every override argument
defaults to "" and an empty one is left out, so whatever the user's params file says is obeyed
unless the same value is given on the command line. ``launch_description`` declares the
arguments, points Fast DDS at unicast peers and starts the processes the file describes with
graph.py. Plain Python at import (launch is imported on call), so it is tested where launch_ros
is not installed.
"""

from typing import Dict, Mapping, Sequence, Tuple

import yaml

# (argument = parameter name, type, description); type is one of VALUE_TYPES' keys.
Override = Tuple[str, str, str]
VALUE_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "str_list": list}
EXAMPLES = {"int": "192", "float": "600.0", "bool": "true", "str_list": "\"['/robot1', '/robot2']\""}


def parse_value(name: str, text: str, value_type: str):
    """The launch argument ``name:=text`` as a ``value_type`` parameter value."""
    if value_type == "str":
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = None
    if value_type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, VALUE_TYPES[value_type]) and not (
        value_type in ("int", "float") and isinstance(value, bool))
    if value_type == "str_list":
        ok = ok and all(isinstance(v, str) for v in value)
    if not ok:
        raise ValueError(f"launch argument {name}:={text!r} is not a {value_type.replace('_', ' ')}; "
                         f"give e.g. {name}:={EXAMPLES[value_type]}, or leave it out to use the "
                         "params file's value")
    return value


def given_overrides(values: Mapping[str, str], overrides: Sequence[Override]) -> Dict[str, object]:
    """{parameter: typed value} for each override argument given a non-empty value."""
    return {name: parse_value(name, values[name].strip(), value_type)
            for name, value_type, _ in overrides if values.get(name, "").strip()}


def declared_arguments(overrides: Sequence[Override]):
    """(name, default "", description) of each override argument, for DeclareLaunchArgument."""
    return [(name, "", f"{description}; empty = the params file's value")
            for name, _, description in overrides]


def nodes_for(context, overrides: Sequence[Override], processes) -> list:
    """launch_ros Node actions for ``processes(arg, given)`` (graph.py specs), where ``arg(name)``
    reads a launch argument and ``given`` holds the override arguments given."""
    from launch.substitutions import LaunchConfiguration

    from dedelayed_bringup.launch_nodes import launch_nodes

    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context).strip()

    given = given_overrides({name: arg(name) for name, _, _ in overrides}, overrides)
    return launch_nodes(processes(arg, given), context)


def launch_description(arguments, overrides: Sequence[Override], *, peers_argument: str,
                       peers_profile: str, processes):
    """A launch file's description: ``arguments`` ((name, default, description) rows) and the
    override arguments declared, Fast DDS unicast peers from ``peers_argument`` (a profile
    named ``peers_profile``), then the nodes ``processes`` describes (see nodes_for)."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
    from launch.substitutions import LaunchConfiguration

    from dedelayed_bringup.transport.discovery import unicast_env_from_addresses

    def peer_environment(context):
        env = unicast_env_from_addresses(LaunchConfiguration(peers_argument).perform(context),
                                         peers_profile)
        return [SetEnvironmentVariable(name, value) for name, value in env.items()]

    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=description)
         for name, default, description in tuple(arguments) + tuple(declared_arguments(overrides))]
        + [OpaqueFunction(function=peer_environment),
           OpaqueFunction(function=lambda context: nodes_for(context, overrides, processes))])
