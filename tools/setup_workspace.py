#!/usr/bin/env python3
"""One-command setup of the Dedelayed workspace on a machine with no ROS install.

    python3 tools/setup_workspace.py          (what `make setup` runs)

Steps, each skipped when already done, so a second run with nothing changed is fast:
  1. preflight: the right Python (the ROS 2 Jazzy wheels on PyPI are CPython 3.11 builds),
     a C/C++ toolchain and CMake (colcon builds the rosidl package dedelayed_msgs);
     missing system tools are installed with apt-get when run as root, else named;
  2. `.venv/` with a real ROS 2 Jazzy from PyPI wheels, torch 2.13.0 (CPU, local disk) and
     every other dependency pinned by tools/requirements/constraints.txt;
  3. the wheel path fix: the wheels' exported CMake files name the wheel builder's Python
     (/opt/python/cp311-cp311/...); they are rewritten to this venv's interpreter (idempotent);
  4. `colcon build --symlink-install` of the five packages into build/ and install/.

People with a normal ROS 2 install do not need this script: `rosdep install`, `colcon build`
(README). Nothing in the packages depends on the venv; it is a property of this script only.

Exit codes: 0 ok, 2 a missing prerequisite (the message says which and how to fix it),
3 a failed step (pip or colcon; its log tail is printed).
"""

from __future__ import print_function  # so that Python 2 reaches the version message below

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time

REQUIRED_PYTHON = (3, 11)
if sys.version_info[0] < 3:
    print("[setup] ERROR: this script needs Python 3 (it sets up a CPython 3.11 venv); "
          "found Python %d.%d. Fix: `make setup PYTHON=python3.11`." % sys.version_info[:2])
    sys.exit(2)
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIREMENTS_DIR = os.path.join(REPO_ROOT, "tools", "requirements")
REQUIREMENTS = os.path.join(REQUIREMENTS_DIR, "requirements.txt")
CONSTRAINTS = os.path.join(REQUIREMENTS_DIR, "constraints.txt")
EXPECTED_PACKAGES = ("dedelayed_bringup", "dedelayed_local", "dedelayed_models",
                     "dedelayed_msgs", "dedelayed_remote")

# Paths baked into the PyPI ROS wheels' CMake exports by the machine that built them.
WHEEL_BUILDER_PYTHON_INCLUDE = "/opt/python/cp311-cp311/include/python3.11"
WHEEL_BUILDER_NUMPY_INCLUDE = "/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include"

# Debian packages that provide each system tool we need.
SYSTEM_TOOLS = {"cmake": "cmake", "g++": "g++", "gcc": "gcc", "make": "make"}

# pip output that means "the registry could not be reached or does not carry the wheels".
REGISTRY_FAILURE_MARKERS = (
    "No matching distribution found", "Could not find a version that satisfies",
    "Failed to establish a new connection", "Temporary failure in name resolution",
    "Network is unreachable", "Max retries exceeded", "ConnectionError", "ProxyError",
    "Read timed out",
)


class SetupError(Exception):
    """A prerequisite is missing; the message says what and how to fix it."""

    def __init__(self, message, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code


def log(message):
    print("[setup] " + message)
    sys.stdout.flush()


def is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def python_version_of(python):
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if out.returncode != 0:
        return None
    return tuple(int(p) for p in out.stdout.strip().split("."))


def check_python(python):
    """Return the absolute path of a CPython 3.11 interpreter or raise SetupError."""
    resolved = shutil.which(python) or python
    version = python_version_of(resolved) if os.path.exists(resolved) else None
    wanted = "%d.%d" % REQUIRED_PYTHON
    if version == REQUIRED_PYTHON:
        return resolved
    found = "not found" if version is None else "Python %d.%d" % version
    alternative = shutil.which("python" + wanted)
    hint = ("a Python %s is on PATH: re-run with `make setup PYTHON=%s`" % (wanted, alternative)
            if alternative else
            "install it (Debian/Ubuntu: `apt-get install python%s python%s-venv python%s-dev`, "
            "or `pyenv install %s`), then `make setup PYTHON=python%s`" % ((wanted,) * 5))
    raise SetupError(
        "Python %s is required: the ROS 2 Jazzy wheels on PyPI are built for CPython %s only, "
        "but '%s' is %s. Fix: %s." % (wanted, wanted, python, found, hint))


def check_system_tools(python):
    """CMake and a compiler build dedelayed_msgs; Python.h builds its C type support."""
    missing = [tool for tool in SYSTEM_TOOLS if shutil.which(tool) is None]
    include_dir = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    debs = sorted({SYSTEM_TOOLS[tool] for tool in missing})
    if not os.path.exists(os.path.join(include_dir, "Python.h")):
        missing.append("Python.h (in %s)" % include_dir)
        debs.append("python%d.%d-dev" % REQUIRED_PYTHON)
    if not missing:
        return
    if not is_root():
        raise SetupError(
            "missing system tools: %s. They build the rosidl package dedelayed_msgs. Fix: "
            "`sudo apt-get install -y %s`, or run `make setup` as root and it installs them."
            % (", ".join(missing), " ".join(debs)))
    log("installing system packages with apt-get: " + " ".join(debs))
    for command in (["apt-get", "update"], ["apt-get", "install", "-y"] + debs):
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                universal_newlines=True, check=False)
        if result.returncode != 0:
            raise SetupError(
                "`%s` failed (exit %d); the Debian package registry may be unreachable. "
                "Install %s by hand, then re-run `make setup`.\n%s"
                % (" ".join(command), result.returncode, " ".join(debs), result.stderr[-2000:]))


def requirements_fingerprint(python):
    digest = hashlib.sha256()
    for path in (REQUIREMENTS, CONSTRAINTS):
        with open(path, "rb") as f:
            digest.update(f.read())
    digest.update(("%d.%d" % python_version_of(python)).encode())
    return digest.hexdigest()


def ensure_venv(python, venv):
    venv_python = os.path.join(venv, "bin", "python")
    if os.path.exists(venv_python) and python_version_of(venv_python) != REQUIRED_PYTHON:
        raise SetupError(
            "%s was made with another Python (%s). Fix: `rm -rf %s` and re-run `make setup`."
            % (venv, python_version_of(venv_python), venv))
    if not os.path.exists(venv_python):
        log("creating %s with %s" % (venv, python))
        result = subprocess.run([python, "-m", "venv", venv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)
        if result.returncode != 0:
            raise SetupError(
                "`%s -m venv %s` failed: %s Fix: install the venv module "
                "(Debian: `apt-get install python3.11-venv`)." % (python, venv, result.stderr.strip()))
    # The ROS wheels install package.xml files under .venv/share: keep colcon out of them.
    open(os.path.join(venv, "COLCON_IGNORE"), "a").close()
    return venv_python


def install_requirements(venv_python, venv, force):
    stamp_path = os.path.join(venv, ".dedelayed-requirements.sha256")
    fingerprint = requirements_fingerprint(venv_python)
    if not force and os.path.exists(stamp_path) and open(stamp_path).read().strip() == fingerprint:
        log("python dependencies up to date (%s)" % os.path.relpath(CONSTRAINTS, REPO_ROOT))
        return
    log("installing ROS 2 Jazzy wheels, torch 2.13.0 (CPU) and the pinned dependencies "
        "into %s (a few minutes the first time)" % venv)
    command = [venv_python, "-m", "pip", "install", "--disable-pip-version-check",
               "-r", REQUIREMENTS, "-c", CONSTRAINTS]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        if (any(marker in output for marker in REGISTRY_FAILURE_MARKERS)
                or not registry_carries_ros_wheels(venv_python)):
            raise SetupError(
                "pip could not get the packages from the registry (PyPI, or the index set by "
                "PIP_INDEX_URL / pip.conf). The ROS 2 Jazzy wheels (ros-jazzy-*) and torch come "
                "from there. Fix: check the network or proxy (HTTPS_PROXY), or point "
                "PIP_INDEX_URL at a mirror that carries ros-jazzy-* wheels, then re-run "
                "`make setup`.\npip said:\n%s" % _tail(output))
        raise SetupError("pip install failed (exit %d):\n%s" % (result.returncode, _tail(output)), 3)
    with open(stamp_path, "w") as f:
        f.write(fingerprint + "\n")


def registry_carries_ros_wheels(venv_python):
    """Ask the configured index for the rclpy wheel: False if unreachable or absent."""
    probe = subprocess.run(
        [venv_python, "-m", "pip", "index", "versions", "ros-jazzy-rclpy",
         "--disable-pip-version-check"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    return probe.returncode == 0


def fix_wheel_cmake_paths(venv_python, venv):
    """Point the wheels' CMake exports at this venv's Python and numpy headers (idempotent)."""
    paths = subprocess.run(
        [venv_python, "-c",
         "import sysconfig, numpy; print(sysconfig.get_paths()['include']); print(numpy.get_include())"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True).stdout.split()
    replacements = {WHEEL_BUILDER_PYTHON_INCLUDE: paths[0], WHEEL_BUILDER_NUMPY_INCLUDE: paths[1]}
    rewritten = 0
    for directory, _, files in os.walk(os.path.join(venv, "share")):
        for name in files:
            if not name.endswith(".cmake"):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            fixed = text
            for old, new in replacements.items():
                fixed = fixed.replace(old, new)
            if fixed != text:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(fixed)
                rewritten += 1
    if rewritten:
        log("pointed %d wheel CMake export(s) at this venv's Python and numpy headers" % rewritten)


def workspace_env(venv):
    """The environment colcon and the tests need: the venv is the ROS prefix."""
    env = dict(os.environ)
    env.update({
        "VIRTUAL_ENV": venv,
        "PATH": os.path.join(venv, "bin") + os.pathsep + env.get("PATH", ""),
        "AMENT_PREFIX_PATH": venv,
        "CMAKE_PREFIX_PATH": venv,
    })
    env.pop("PYTHONHOME", None)
    return env


# Files whose change needs a colcon rebuild. Python sources do not: --symlink-install puts
# the source folders themselves on the path.
BUILD_INPUT_NAMES = ("package.xml", "setup.py", "setup.cfg", "CMakeLists.txt")
# dedelayed_link: the Python package dedelayed_msgs installs file by file (a new module needs a build)
BUILD_INPUT_FOLDERS = ("msg", "resource", "launch", "config", "dedelayed_link")


def build_inputs_fingerprint(venv):
    digest = hashlib.sha256()
    digest.update(open(os.path.join(venv, ".dedelayed-requirements.sha256"), "rb").read())
    for package_dir in sorted(os.listdir(REPO_ROOT)):
        root = os.path.join(REPO_ROOT, package_dir)
        if not os.path.isfile(os.path.join(root, "package.xml")):
            continue
        for directory, subdirs, files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "__")))
            relative = os.path.relpath(directory, root)
            in_folder = relative.split(os.sep)[0] in BUILD_INPUT_FOLDERS
            for name in sorted(files):
                if in_folder or (relative == "." and name in BUILD_INPUT_NAMES):
                    path = os.path.join(directory, name)
                    digest.update(path.encode())
                    digest.update(open(path, "rb").read())
    return digest.hexdigest()


def colcon_build(venv_python, venv, force):
    stamp_path = os.path.join(REPO_ROOT, "install", ".dedelayed-build-inputs.sha256")
    fingerprint = build_inputs_fingerprint(venv)
    if not force and os.path.exists(stamp_path) and open(stamp_path).read().strip() == fingerprint:
        log("workspace build up to date (no package.xml/setup/CMake/msg/launch/config change)")
        return
    log("colcon build (symlink install) of the workspace")
    command = [os.path.join(venv, "bin", "colcon"), "--log-level", "error", "build",
               "--symlink-install", "--base-paths", REPO_ROOT,
               "--event-handlers", "console_direct-", "summary+",
               "--cmake-args", "-DBUILD_TESTING=OFF", "-DPython3_EXECUTABLE=" + venv_python]
    result = subprocess.run(command, cwd=REPO_ROOT, env=workspace_env(venv),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if result.returncode != 0:
        raise SetupError("colcon build failed (exit %d). Full logs: log/latest_build/\n%s"
                         % (result.returncode, _tail(result.stdout + result.stderr)), 3)
    listed = subprocess.run([os.path.join(venv, "bin", "colcon"), "list", "--names-only",
                             "--base-paths", REPO_ROOT], cwd=REPO_ROOT, env=workspace_env(venv),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                            check=True).stdout.split()
    missing = sorted(set(EXPECTED_PACKAGES) - set(listed))
    if missing:
        raise SetupError("colcon does not see the package(s) %s; is the checkout complete?"
                         % ", ".join(missing), 3)
    with open(stamp_path, "w") as f:
        f.write(fingerprint + "\n")


def _tail(text, lines=40):
    return "\n".join(text.strip().splitlines()[-lines:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default=os.environ.get("PYTHON") or sys.executable,
                        help="CPython 3.11 interpreter for the venv (default: $PYTHON or this one)")
    parser.add_argument("--venv", default=os.path.join(REPO_ROOT, ".venv"),
                        help="virtual environment folder (default: <repo>/.venv)")
    parser.add_argument("--force", action="store_true",
                        help="reinstall the Python dependencies and rebuild even if nothing changed")
    parser.add_argument("--skip-build", action="store_true", help="stop before colcon build")
    args = parser.parse_args(argv)
    started = time.monotonic()
    venv = os.path.abspath(args.venv)
    try:
        python = check_python(args.python)
        check_system_tools(python)
        venv_python = ensure_venv(python, venv)
        install_requirements(venv_python, venv, args.force)
        fix_wheel_cmake_paths(venv_python, venv)
        if not args.skip_build:
            colcon_build(venv_python, venv, args.force)
    except SetupError as error:
        print("[setup] ERROR: %s" % error, file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("[setup] interrupted; re-run `make setup` to continue where it stopped",
              file=sys.stderr)
        return 130
    log("workspace ready in %.1f s: `source tools/workspace_env.sh` to use it"
        % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
