"""The packages build with a plain `colcon build`, as on a normal ROS 2 install.

The pip/venv setup is a property of tools/setup_workspace.py only: here the five packages are
copied into an ordinary `<ws>/src` and built with no arguments, with only the environment a
sourced ROS prefix gives (AMENT_PREFIX_PATH, CMAKE_PREFIX_PATH, PATH).
"""

import os
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_DIRS = ("dedelayed_msgs", "dedelayed_local", "dedelayed_remote", "dedelayed_bringup",
                "models")


def _tracked_package_files():
    listed = subprocess.run(["git", "ls-files", *PACKAGE_DIRS], cwd=REPO_ROOT, check=True,
                            stdout=subprocess.PIPE, text=True).stdout.split()
    return [path for path in listed if os.path.isfile(os.path.join(REPO_ROOT, path))]


def test_packages_name_no_virtualenv():
    offenders = []
    for path in _tracked_package_files():
        if path.endswith((".py", ".xml", ".txt", ".cfg", ".yaml", ".msg", ".cmake")):
            text = open(os.path.join(REPO_ROOT, path), encoding="utf-8", errors="replace").read()
            if ".venv" in text or "VIRTUAL_ENV" in text or "setup_workspace" in text:
                offenders.append(path)
    assert offenders == [], f"packages must not assume the pip venv: {offenders}"


@pytest.mark.slow
@pytest.mark.ros
def test_plain_colcon_build_in_a_fresh_workspace(tmp_path):
    ros_prefix = os.environ.get("VIRTUAL_ENV")
    if not ros_prefix:
        pytest.skip("no ROS prefix environment; run through `make test`")
    src = tmp_path / "src" / "dedelayed"
    for path in _tracked_package_files():
        target = src / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(open(os.path.join(REPO_ROOT, path), "rb").read())
    env = {
        "PATH": os.path.join(ros_prefix, "bin") + os.pathsep + "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AMENT_PREFIX_PATH": ros_prefix,
        "CMAKE_PREFIX_PATH": ros_prefix,
    }
    build = subprocess.run(["colcon", "build"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
    assert build.returncode == 0, build.stdout[-4000:]
    assert "5 packages finished" in build.stdout
    check = subprocess.run(
        ["bash", "-c", "source install/setup.bash && python -c 'import dedelayed_msgs.msg as m, "
         "dedelayed_models.transport as t; print(m.FeatureMap.ENCODING_FLOAT16, t.__file__)'"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert check.returncode == 0, check.stdout
    assert check.stdout.startswith("float16 " + str(tmp_path / "install")), check.stdout
