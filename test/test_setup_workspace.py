"""`make setup` names a missing prerequisite and its fix instead of failing with a trace.

Each case runs the real setup script in a child process against a real condition: another
real interpreter, a registry that cannot be reached, a non-root user without the tools.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETUP = os.path.join(REPO_ROOT, "tools", "setup_workspace.py")


def _run_setup(*args, env=None, preexec_fn=None, timeout=120, runner=sys.executable):
    result = subprocess.run([runner, SETUP, *args], env=env, preexec_fn=preexec_fn,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=timeout)
    assert "Traceback" not in result.stdout, result.stdout
    return result.returncode, result.stdout


def _other_python():
    candidates = [shutil.which(f"python3.{minor}") for minor in (12, 13, 10, 9, 8)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[02]*/bin/python3")))
    for candidate in filter(None, candidates):
        version = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                                 stdout=subprocess.PIPE, text=True).stdout.strip()
        if version and version != "(3, 11)":
            return candidate
    return None


def _base_python():
    """The interpreter the workspace venv was made from (tests run inside that venv)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def test_missing_interpreter_is_named(tmp_path):
    code, out = _run_setup("--python", str(tmp_path / "no-such-python"), "--venv",
                           str(tmp_path / "venv"))
    assert code == 2
    assert "Python 3.11 is required" in out and "is not found" in out and "Fix:" in out
    assert not (tmp_path / "venv").exists()


def test_wrong_python_version_is_named(tmp_path):
    other = _other_python()
    if other is None:
        pytest.skip("no Python other than 3.11 on this machine to try")
    code, out = _run_setup("--python", other, "--venv", str(tmp_path / "venv"))
    assert code == 2
    assert "built for CPython 3.11 only" in out and "PYTHON=" in out


@pytest.mark.slow
def test_unreachable_registry_is_named(tmp_path):
    env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple",
               PIP_EXTRA_INDEX_URL="", PIP_FIND_LINKS="", PIP_RETRIES="0", PIP_TIMEOUT="3")
    code, out = _run_setup("--python", _base_python(), "--venv", str(tmp_path / "venv"),
                           "--skip-build", env=env, timeout=300)
    assert code == 2, out
    assert "could not get the packages from the registry" in out
    assert "PIP_INDEX_URL" in out and "make setup" in out


def test_missing_tools_without_root_are_named():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to drop to an unprivileged user for the check")
    system_python = shutil.which("python3.11", path="/usr/bin:/usr/local/bin")
    if system_python is None:
        pytest.skip("no system-wide CPython 3.11 that an unprivileged user may run")
    # pytest's tmp_path is private to root; the unprivileged user needs a folder it can read.
    home = tempfile.mkdtemp(prefix="dedelayed-nobody-")
    try:
        os.chmod(home, 0o755)
        bin_dir = os.path.join(home, "bin")
        os.mkdir(bin_dir)
        os.symlink(system_python, os.path.join(bin_dir, "python3"))  # and no cmake, g++, make

        def drop_to_nobody():
            os.setgid(65534)
            os.setuid(65534)

        code, out = _run_setup("--python", os.path.join(bin_dir, "python3"),
                               "--venv", os.path.join(home, "venv"),
                               env={"PATH": bin_dir, "HOME": home}, preexec_fn=drop_to_nobody,
                               runner=system_python)
    finally:
        shutil.rmtree(home)
    assert code == 2, out
    assert "missing system tools: cmake, g++, gcc, make" in out
    assert "sudo apt-get install -y cmake g++ gcc make" in out
    assert "run `make setup` as root" in out
