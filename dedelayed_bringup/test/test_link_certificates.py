"""The certificate command: a project CA, the cloud, one certificate per robot (CN = its
namespace); keys 0600 and never overwritten; more robots added later with the same CA."""

import os
import stat
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from dedelayed_bringup.secure_link.link_certificates import robot_common_name


def _cert(folder, stem):
    with open(os.path.join(folder, f"{stem}.pem"), "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def _run(*args):
    return subprocess.run([sys.executable, "-m", "dedelayed_bringup.secure_link.link_certificates", *args],
                          capture_output=True, text=True, timeout=60)


def test_one_command_makes_ca_cloud_and_robot_certificates(tmp_path):
    out = str(tmp_path / "certs")
    done = _run("--out", out, "--cloud-host", "cloud.example.org", "--cloud-host", "127.0.0.1",
                "--robot", "/robot1", "--robot", "robot2")
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(out)) == sorted(f"{s}.{e}" for s in ("ca", "cloud", "robot1", "robot2")
                                             for e in ("pem", "key"))
    for stem in ("ca", "cloud", "robot1", "robot2"):
        assert stat.S_IMODE(os.stat(os.path.join(out, f"{stem}.key")).st_mode) == 0o600
    ca = _cert(out, "ca")
    cloud = _cert(out, "cloud")
    robot = _cert(out, "robot1")
    assert robot.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "robot1"
    for leaf in (cloud, robot):
        assert leaf.issuer == ca.subject
        leaf.verify_directly_issued_by(ca)  # signature and issuer checked by cryptography
    names = cloud.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["cloud.example.org"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    # never overwrites a key; adds a robot with the existing CA
    again = _run("--out", out, "--robot", "/robot1")
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    added = _run("--out", out, "--robot", "/robot3")
    assert added.returncode == 0, added.stderr
    _cert(out, "robot3").verify_directly_issued_by(ca)
    assert _cert(out, "ca") == ca


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="'/robot-1' is not a ROS namespace"):
        robot_common_name("/robot-1")
    assert robot_common_name("/robot1/") == "robot1"


def test_a_cloud_certificate_needs_the_names_robots_dial(tmp_path):
    done = _run("--out", str(tmp_path / "c"), "--robot", "/robot1")
    assert done.returncode == 2 and "--cloud-host" in done.stderr
    assert not os.path.exists(tmp_path / "c")  # nothing written
