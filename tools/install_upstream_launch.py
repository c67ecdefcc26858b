#!/usr/bin/env python3
"""Install upstream `launch`, `launch_ros` and the `ros2` CLI into the workspace venv, for tests.

    tools/in_workspace.sh python tools/install_upstream_launch.py   (what `make test` runs)

PyPI has no `launch`, `launch_ros` or `ros2cli`, so on a pip-only machine `ros2 launch` does not
exist. Where the folder `../shared/ros-src` (next to the repository; override it with
`--ros-src` or the environment variable DEDELAYED_ROS_SRC) holds their real upstream release
tarballs (its README.md lists them), this script:

  1. extracts every tarball into build/upstream_ros/src/;
  2. pip-installs the Python packages from those trees into .venv with `--no-deps`
     (launch, launch_xml, launch_yaml, launch_ros, ros2launch, ros2cli and its verbs,
     rosidl_runtime_py), plus osrf_pycommon and psutil from the registry, pinned by
     tools/requirements/constraints.txt;
  3. builds the rosidl package composition_interfaces (launch_ros imports it) with the venv's
     colcon into its own install base, build/upstream_ros/install, so the project's install/
     and `colcon list` do not change. tools/workspace_env.sh sources it when it exists.

A second run with nothing changed is skipped by a fingerprint (build/upstream_ros/installed.sha256).
Where the folder is absent it says so in one line and exits 0: the launch tests then skip with
the reason. `make setup`, and so a user's setup, never runs this script.

Exit codes: 0 ok or sources absent, 2 the workspace is not set up (run `make setup`),
3 a failed step (extract, pip or colcon; its log tail is printed).
"""

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time

TOOLS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TOOLS_DIR)
sys.path.insert(0, TOOLS_DIR)
from setup_workspace import CONSTRAINTS, workspace_env  # noqa: E402  (same colcon environment)

DEFAULT_ROS_SRC = os.path.join(os.path.dirname(REPO_ROOT), "shared", "ros-src")
UPSTREAM_DIR = os.path.join(REPO_ROOT, "build", "upstream_ros")
SRC_DIR = os.path.join(UPSTREAM_DIR, "src")
INSTALL_BASE = os.path.join(UPSTREAM_DIR, "install")
STAMP = os.path.join(UPSTREAM_DIR, "installed.sha256")

# tarball name (before "-<version>.tar.gz") -> package folders inside it to pip-install
# ("." = the tree's root holds the setup.py).
PIP_PACKAGES = {
    "launch": ("launch", "launch_xml", "launch_yaml"),
    "launch_ros": ("launch_ros", "ros2launch"),
    "ros2cli": ("ros2cli", "ros2run", "ros2node", "ros2topic", "ros2param", "ros2pkg",
                "ros2lifecycle", "ros2service", "ros2component", "ros2interface", "ros2action"),
    "rosidl_runtime_py": (".",),
}
# tarball -> rosidl package folders built with colcon into INSTALL_BASE
COLCON_PACKAGES = {"rcl_interfaces": ("composition_interfaces",)}
# from the registry, versions pinned by CONSTRAINTS
REGISTRY_PACKAGES = ("osrf_pycommon", "psutil")


class InstallError(Exception):
    def __init__(self, message, exit_code=3):
        super().__init__(message)
        self.exit_code = exit_code


def log(message):
    print("[upstream-launch] " + message, flush=True)


def _tail(text, lines=40):
    return "\n".join(text.strip().splitlines()[-lines:])


def find_tarballs(ros_src):
    """{name: path} for every tarball the install needs; InstallError naming any missing one."""
    found, missing = {}, []
    for name in list(PIP_PACKAGES) + list(COLCON_PACKAGES):
        matches = sorted(glob.glob(os.path.join(ros_src, glob.escape(name) + "-[0-9]*.tar.gz")))
        if len(matches) != 1:
            missing.append("%s-<version>.tar.gz (%s)" % (
                name, "none" if not matches else "%d candidates" % len(matches)))
        else:
            found[name] = matches[0]
    if missing:
        raise InstallError("%s is incomplete: need exactly one of each of %s"
                           % (ros_src, ", ".join(missing)))
    return found


def fingerprint(tarballs, venv):
    """Hash of everything the result depends on: tarballs, this script, the pins, the venv."""
    digest = hashlib.sha256()
    for name in sorted(tarballs):
        stat = os.stat(tarballs[name])
        digest.update(("%s %s %d %d\n" % (name, os.path.basename(tarballs[name]), stat.st_size,
                                          stat.st_mtime_ns)).encode())
    for path in (os.path.abspath(__file__), CONSTRAINTS,
                 os.path.join(venv, ".dedelayed-requirements.sha256")):
        with open(path, "rb") as f:
            digest.update(f.read())
    digest.update(venv.encode())
    return digest.hexdigest()


def installed_outputs(venv):
    """Files that must exist for a matching fingerprint to mean 'installed' (a deleted venv or
    build/ then forces a new install)."""
    return [os.path.join(venv, "bin", "ros2"), os.path.join(INSTALL_BASE, "local_setup.bash")]


def up_to_date(stamp_value, venv):
    try:
        with open(STAMP) as f:
            recorded = f.read().strip()
    except OSError:
        return False
    return recorded == stamp_value and all(os.path.exists(p) for p in installed_outputs(venv))


def extract(tarballs):
    """Fresh build/upstream_ros/src/<name>-<version>/ trees; returns {name: tree root}."""
    shutil.rmtree(SRC_DIR, ignore_errors=True)
    os.makedirs(SRC_DIR)
    # The extracted trees hold package.xml files: keep the project's colcon out of them.
    open(os.path.join(UPSTREAM_DIR, "COLCON_IGNORE"), "a").close()
    roots = {}
    for name, path in sorted(tarballs.items()):
        try:
            with tarfile.open(path) as archive:
                tops = {m.name.split("/")[0] for m in archive.getmembers()}
                if len(tops) != 1:
                    raise InstallError("%s does not hold one top folder (found %s)"
                                       % (path, sorted(tops)))
                if hasattr(tarfile, "data_filter"):
                    archive.extractall(SRC_DIR, filter="data")
                else:
                    archive.extractall(SRC_DIR)
        except (tarfile.TarError, OSError) as error:
            raise InstallError("could not extract %s: %s" % (path, error))
        roots[name] = os.path.join(SRC_DIR, tops.pop())
    return roots


def package_dirs(roots, table):
    dirs = []
    for name, folders in table.items():
        for folder in folders:
            path = os.path.normpath(os.path.join(roots[name], folder))
            if not os.path.isfile(os.path.join(path, "package.xml")):
                raise InstallError("%s has no package '%s' (no %s)" % (
                    os.path.basename(roots[name]), folder, os.path.join(path, "package.xml")))
            dirs.append(path)
    return dirs


def run_step(what, command, env=None, cwd=None):
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True)
    if result.returncode != 0:
        raise InstallError("%s failed (exit %d): %s\n%s" % (
            what, result.returncode, " ".join(command), _tail(result.stdout)))
    return result.stdout


def pip_install(venv_python, package_paths):
    pip = [venv_python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    log("pip: %s (pinned by %s)" % (", ".join(REGISTRY_PACKAGES),
                                    os.path.relpath(CONSTRAINTS, REPO_ROOT)))
    run_step("pip install from the registry", pip + ["-c", CONSTRAINTS] + list(REGISTRY_PACKAGES))
    log("pip: %d upstream packages (--no-deps): %s"
        % (len(package_paths), " ".join(os.path.basename(p) for p in package_paths)))
    # --no-build-isolation: build them with the venv's setuptools (no registry round trip).
    run_step("pip install of the upstream trees",
             pip + ["--no-deps", "--no-build-isolation", "--force-reinstall"] + package_paths)


def colcon_build(venv, venv_python, package_paths):
    log("colcon: %s -> %s" % (" ".join(os.path.basename(p) for p in package_paths),
                              os.path.relpath(INSTALL_BASE, REPO_ROOT)))
    env = workspace_env(venv)
    # Build against the bare ROS prefix (the venv), not whatever workspace this shell sourced.
    for name in ("COLCON_PREFIX_PATH", "AMENT_CURRENT_PREFIX"):
        env.pop(name, None)
    # A clean build: the extracted files keep the tarballs' times, which may be older than an
    # earlier build's, so CMake would not notice that they changed.
    for base in ("build", "install"):
        shutil.rmtree(os.path.join(UPSTREAM_DIR, base), ignore_errors=True)
    colcon = os.path.join(venv, "bin", "colcon")
    command = [colcon, "--log-base", os.path.join(UPSTREAM_DIR, "log"), "--log-level", "error",
               "build", "--base-paths"] + package_paths + [
               "--build-base", os.path.join(UPSTREAM_DIR, "build"),
               "--install-base", INSTALL_BASE,
               "--event-handlers", "console_direct-", "summary+",
               "--cmake-args", "-DBUILD_TESTING=OFF", "-DPython3_EXECUTABLE=" + venv_python]
    try:
        run_step("colcon build (logs: %s)" % os.path.relpath(
            os.path.join(UPSTREAM_DIR, "log", "latest_build"), REPO_ROOT),
            command, env=env, cwd=UPSTREAM_DIR)
    except InstallError:
        shutil.rmtree(INSTALL_BASE, ignore_errors=True)  # no half install for workspace_env.sh
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ros-src", default=os.environ.get("DEDELAYED_ROS_SRC") or DEFAULT_ROS_SRC,
                        help="folder with the upstream tarballs (default: $DEDELAYED_ROS_SRC or "
                             "<repo>/../shared/ros-src)")
    parser.add_argument("--venv", default=os.path.join(REPO_ROOT, ".venv"),
                        help="the workspace venv (default: <repo>/.venv)")
    parser.add_argument("--force", action="store_true", help="reinstall even if nothing changed")
    args = parser.parse_args(argv)
    started = time.monotonic()
    ros_src, venv = os.path.abspath(args.ros_src), os.path.abspath(args.venv)
    if not os.path.isdir(ros_src):
        log("upstream launch sources absent (%s): ros2 launch / launch_ros tests will skip"
            % ros_src)
        return 0
    venv_python = os.path.join(venv, "bin", "python")
    try:
        if not os.path.exists(venv_python) or not os.path.exists(
                os.path.join(venv, ".dedelayed-requirements.sha256")):
            raise InstallError("the workspace venv %s is not set up; run `make setup` first"
                               % venv, 2)
        tarballs = find_tarballs(ros_src)
        stamp_value = fingerprint(tarballs, venv)
        if not args.force and up_to_date(stamp_value, venv):
            log("launch, launch_ros, ros2cli up to date (from %s)" % ros_src)
            return 0
        if os.path.exists(STAMP):
            os.remove(STAMP)
        log("installing launch, launch_ros, ros2cli from %s into %s" % (ros_src, venv))
        roots = extract(tarballs)
        pip_install(venv_python, package_dirs(roots, PIP_PACKAGES))
        colcon_build(venv, venv_python, package_dirs(roots, COLCON_PACKAGES))
        with open(STAMP, "w") as f:
            f.write(stamp_value + "\n")
    except InstallError as error:
        print("[upstream-launch] ERROR: %s" % error, file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("[upstream-launch] interrupted; re-run it to install from the start", file=sys.stderr)
        return 130
    log("done in %.1f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
