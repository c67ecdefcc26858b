"""Launch arguments that override node parameters only when the user gives them.

robot.launch.py and cloud.launch.py pass ``[params_file, given_overrides(...)]`` to their node:
every override argument defaults to "" and an empty one is left out, so whatever the user's
params file says is obeyed unless the same value is given on the command line. Plain Python
(no launch import), so it is tested where launch_ros is not installed.
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
