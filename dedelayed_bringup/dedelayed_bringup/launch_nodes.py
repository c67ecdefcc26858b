"""The graph's processes (graph.py) as launch_ros ``Node`` actions, for the launch files.

Namespaces become relative, so what a parent launch file pushes (``PushROSNamespace``) is put
in front of them; the parent's ``SetRemap`` rules and ``SetParameter`` values reach each node
because the launch files never clear the launch configurations they inherit.

A parent's remapping of a topic the graph itself remaps a node to is followed: ROS applies one
rule per name, so with the robot's own ``image:=/camera/image_raw`` a parent's
``SetRemap('/camera/image_raw', '/cam/front/image_raw')`` would otherwise never reach the
robot, although /camera/image_raw is the name the user sees in the graph. launch_ros is
imported on call: the rest of the package runs where it is not installed.
"""

import copy
import dataclasses
from typing import Iterable, List, Sequence, Tuple

from dedelayed_bringup.graph import EXECUTABLE_NODES
from dedelayed_bringup.stack_command import NodeProcess


def launch_node(spec: NodeProcess):
    """One launch_ros Node action starting ``spec`` (an executable 'package/executable')."""
    from launch_ros.actions import Node

    if spec.executable is None or "/" not in spec.executable:
        raise ValueError(f"node process '{spec.name}' names no 'package/executable' "
                         f"(executable={spec.executable!r}); launch files start installed "
                         "executables only")
    package, executable = spec.executable.split("/", 1)
    parameters = [*spec.params_files, *([overrides_file(spec)] if spec.parameters else [])]
    return Node(package=package, executable=executable, name=spec.node_name,
                namespace=(spec.namespace or "").strip("/") or None,
                parameters=parameters or None,
                remappings=list(spec.remappings.items()) or None,
                arguments=list(spec.arguments) or None,
                additional_env={k: str(v) for k, v in spec.env.items()} or None,
                prefix=" ".join(spec.prefix) or None, output="screen", emulate_tty=True)


def follow_parent_remaps(spec: NodeProcess, parent_rules: Iterable[Tuple[str, str]]) -> NodeProcess:
    """``spec`` with each remapping target renamed by the first parent rule naming it."""
    rules = list(parent_rules)
    remappings = {source: next((to for frm, to in rules if frm == target), target)
                  for source, target in spec.remappings.items()}
    return dataclasses.replace(spec, remappings=remappings)


def overrides_file(spec: NodeProcess) -> str:
    """``spec.parameters`` as a parameter file keyed by each node the executable hosts.

    Keyed like the packages' YAML files (``/**/<node>``), not ``/**`` as launch_ros keys a
    dict: rcl merges entries of the same key into the first one, and rclpy applies them in
    that order, so under a parent's SetParameter (which opens a ``/**`` entry first) a ``/**``
    override would lose to the params file's ``/**/<node>`` entry."""
    import tempfile

    import yaml

    nodes = EXECUTABLE_NODES.get(spec.executable, ())
    keys = [f"/**/{node}" for node in nodes] or ["/**"]
    values = {name: list(value) if isinstance(value, tuple) else value
              for name, value in spec.parameters.items()}
    with tempfile.NamedTemporaryFile("w", prefix="dedelayed_overrides_", suffix=".yaml",
                                     delete=False) as handle:
        # a copy per node: rcl refuses YAML aliases, which one shared dict would become
        yaml.safe_dump({key: {"ros__parameters": copy.deepcopy(values)} for key in keys}, handle)
    return handle.name


def launch_nodes(specs: Sequence[NodeProcess], context=None) -> List:
    """Node actions for ``specs``; with the launch ``context``, following its parent's remaps."""
    parent_rules = context.launch_configurations.get("ros_remaps", []) if context else []
    return [launch_node(follow_parent_remaps(spec, parent_rules)) for spec in specs]
