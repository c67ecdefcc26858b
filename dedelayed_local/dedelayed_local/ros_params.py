"""Declare ROS parameters from one table per node: (name, default, description).

The same tables generate nothing else: config/*.yaml and the README list the same defaults, and
test_robot_params checks the YAML against these tables so they cannot drift.
"""

from rcl_interfaces.msg import ParameterDescriptor


def declare_parameters(node, table):
    """Declare each (name, default, description) on ``node``; returns {name: value}."""
    values = {}
    for name, default, description in table:
        node.declare_parameter(name, default, ParameterDescriptor(description=description))
        values[name] = node.get_parameter(name).value
    return values
