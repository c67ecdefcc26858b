"""The graph's processes (graph.py) as launch_ros ``Node`` actions, for the launch files.

Namespaces become relative, so what a parent launch file pushes (``PushROSNamespace``) is put
in front of them; the parent's ``SetRemap`` rules and ``SetParameter`` values reach each node
because the launch files never clear the launch configurations they inherit. launch_ros is
imported on call: the rest of the package runs where it is not installed.
"""

from typing import List, Sequence

from dedelayed_bringup.stack_command import NodeProcess


def launch_node(spec: NodeProcess):
    """One launch_ros Node action starting ``spec`` (an executable 'package/executable')."""
    from launch_ros.actions import Node

    if spec.executable is None or "/" not in spec.executable:
        raise ValueError(f"node process '{spec.name}' names no 'package/executable' "
                         f"(executable={spec.executable!r}); launch files start installed "
                         "executables only")
    package, executable = spec.executable.split("/", 1)
    parameters = [*spec.params_files, *([dict(spec.parameters)] if spec.parameters else [])]
    return Node(package=package, executable=executable, name=spec.node_name,
                namespace=(spec.namespace or "").strip("/") or None,
                parameters=parameters or None,
                remappings=list(spec.remappings.items()) or None,
                arguments=list(spec.arguments) or None,
                additional_env={k: str(v) for k, v in spec.env.items()} or None,
                prefix=" ".join(spec.prefix) or None, output="screen", emulate_tty=True)


def launch_nodes(specs: Sequence[NodeProcess]) -> List:
    return [launch_node(spec) for spec in specs]
