"""One way to declare a node's parameters: a table of ``Parameter`` rows, declared by one call.

    PARAMETERS = (
        Parameter("max_feature_age_ms", 0.0, "features older than this are not fused [ms]"),
        Parameter("link_up", True, "run-time switch", read_only=False),
    )
    values = declare_parameters(node, PARAMETERS)      # {name: value}

Each node's table is the only place its names, defaults and descriptions are written; its
``config/*.yaml`` and the README table list the same, and each package's tests check them
against the table (``tools/generate_docs.py`` writes those of the nodes whose defaults name
link topics). Rules applied here for every node:

- read-only unless the node handles a change at run time (``read_only=False``);
- a float parameter also accepts an integer from YAML (``max_feature_age_ms: 300``) and is
  handed to the node as a float; anything else is an error naming the parameter and the value.
"""

import math
from typing import Any, Dict, Iterable, NamedTuple


class Parameter(NamedTuple):
    name: str
    default: Any
    description: str
    read_only: bool = True


# Every managed (lifecycle) node's table holds this row (dedelayed_link.managed).
AUTOSTART_PARAMETER = Parameter(
    "autostart", True, "configure and activate this managed node at start-up; false = stay "
    "unconfigured until `ros2 lifecycle set` (or a lifecycle manager) drives it")


def defaults(table: Iterable[Parameter]) -> Dict[str, Any]:
    """{name: default} of a table (what config/*.yaml must list)."""
    return {p.name: p.default for p in table}


def as_float(name: str, value: Any) -> float:
    """A float parameter's value as float; ValueError naming the parameter otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"parameter {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"parameter {name} must be finite, got {value}")
    return value


def declare_parameters(node, table: Iterable[Parameter]) -> Dict[str, Any]:
    """Declare every row of ``table`` on ``node``; returns {name: value} (floats as float)."""
    from rcl_interfaces.msg import ParameterDescriptor

    values = {}
    for p in table:
        is_float = isinstance(p.default, float)
        descriptor = ParameterDescriptor(description=p.description, read_only=p.read_only,
                                         dynamic_typing=is_float)
        value = node.declare_parameter(p.name, p.default, descriptor).value
        values[p.name] = as_float(p.name, value) if is_float else value
    return values
