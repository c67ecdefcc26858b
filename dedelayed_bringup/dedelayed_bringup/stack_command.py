"""What one node process of a Stack is, and the command line that starts it (no ROS needed)."""

import os
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Sequence


@dataclass
class NodeProcess:
    """One ROS node process.

    Exactly one of ``module`` (run as ``<python> -m module``) or ``executable`` (a path, or
    ``"package/executable"`` found under ``<prefix>/lib/<package>/`` like ``ros2 run``).
    ``parameters`` become ``-p name:=value`` (after every ``params_files``, so they win);
    ``remappings`` become ``-r from:=to``. ``env`` is added to this process's environment
    (e.g. ROS_DOMAIN_ID, FASTDDS_DEFAULT_PROFILES_FILE). A ``required`` node that exits stops
    the whole stack. ``prefix`` wraps the command (like launch's ``prefix=``): a network
    namespace (netns.Namespace.exec_prefix()), ``nice``, a debugger.
    """

    name: str
    module: Optional[str] = None
    executable: Optional[str] = None
    namespace: Optional[str] = None
    node_name: Optional[str] = None
    params_files: Sequence[str] = ()
    parameters: Mapping[str, object] = field(default_factory=dict)
    remappings: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, object] = field(default_factory=dict)
    arguments: Sequence[str] = ()  # plain arguments before --ros-args
    required: bool = True
    cwd: Optional[str] = None
    prefix: Sequence[str] = ()  # argv put in front, e.g. ["ip", "netns", "exec", "robot"]


def node_env(spec: NodeProcess, **defaults: str) -> Dict[str, str]:
    """The environment that starts ``spec``: this process's, then ``defaults``, then ``spec.env``
    (values as text), so a node's own settings always win."""
    env = dict(os.environ)
    env.update(defaults)
    env.update({k: str(v) for k, v in spec.env.items()})
    return env


def parameter_value_text(value) -> str:
    """A Python value as the YAML text rcl parses in ``-p name:=value``.

    Keep floats floats: ``50`` for a double parameter is rejected by rclpy as an int.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"  # YAML single-quoted: always a string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(parameter_value_text(v) for v in value) + "]"
    raise TypeError(f"parameter value {value!r} ({type(value).__name__}) has no ROS form; "
                    "use bool, int, float, str or a list of one of them")


def find_executable(package_and_executable: str) -> str:
    """'pkg/exe' -> <prefix>/lib/pkg/exe via the ament index (what `ros2 run pkg exe` runs)."""
    if os.sep in package_and_executable.strip("/") and os.path.exists(package_and_executable):
        return package_and_executable
    package, _, executable = package_and_executable.partition("/")
    from ament_index_python.packages import PackageNotFoundError, get_package_prefix

    try:
        prefix = get_package_prefix(package)
    except PackageNotFoundError:
        raise FileNotFoundError(
            f"package '{package}' is not in the ament index (AMENT_PREFIX_PATH); "
            "source install/setup.bash (or tools/workspace_env.sh) first") from None
    path = os.path.join(prefix, "lib", package, executable)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"'{path}' does not exist or is not executable; is '{executable}' a console "
            f"script of '{package}' and was the workspace rebuilt (make setup)?")
    return path


def node_command(spec: NodeProcess, python: str) -> list:
    """The argv that starts ``spec``."""
    if (spec.module is None) == (spec.executable is None):
        raise ValueError(f"node process '{spec.name}': give exactly one of module= or "
                         f"executable= (got module={spec.module!r}, executable={spec.executable!r})")
    if spec.module is not None:
        command = [python, "-m", spec.module]
    else:
        command = [find_executable(spec.executable)]
    command += list(spec.arguments)
    ros_args = []
    if spec.namespace:
        ros_args += ["-r", f"__ns:={spec.namespace}"]
    if spec.node_name:
        ros_args += ["-r", f"__node:={spec.node_name}"]
    for source, target in spec.remappings.items():
        ros_args += ["-r", f"{source}:={target}"]
    for path in spec.params_files:
        ros_args += ["--params-file", str(path)]
    for name, value in spec.parameters.items():
        ros_args += ["-p", f"{name}:={parameter_value_text(value)}"]
    return [*spec.prefix, *command, *(["--ros-args", *ros_args] if ros_args else [])]
