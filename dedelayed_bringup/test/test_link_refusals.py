"""What the cloud bridge makes of Zenoh's log lines about refused TLS handshakes (no ROS), and the
robot bridge's own check of its certificate against the CA."""

import datetime
import os
import subprocess
import sys

from dedelayed_bringup.secure_link.link_certificates import issue, load_issued, make_ca, make_certificates, write_issued
from dedelayed_bringup.secure_link.refusals import Refusal, RefusalLog, tls_refusal
from dedelayed_bringup.secure_link.zenoh_link import certificate_validity_warning

# Lines as Zenoh 1.10 writes them (ANSI colours included) when it refuses a client certificate.
BAD_SIGNATURE = ("\x1b[2m2026-12-05T15:14:44.996277Z\x1b[0m \x1b[33m WARN\x1b[0m acc-0 ThreadId(05) "
                 "\x1b[2mzenoh_link_tls::unicast\x1b[0m\x1b[2m:\x1b[0m invalid peer certificate: "
                 "BadSignature. Hint: increase the system open file limit.")
EXPIRED = ("2026-12-05T15:14:45.498589Z  WARN acc-0 ThreadId(05) zenoh_link_tls::unicast: invalid "
           "peer certificate: certificate expired: verification time 1796483685 (UNIX), but "
           "certificate is not valid after 1796310884 (172801 seconds ago). Hint: increase the "
           "system open file limit.")


def test_tls_refusals_are_named_and_other_lines_are_not():
    signature = tls_refusal(BAD_SIGNATURE)
    assert signature.kind == "tls_not_signed_by_project_ca"
    assert "not signed by the project CA" in signature.detail and "Hint" not in signature.detail
    expired = tls_refusal(EXPIRED)
    assert expired.kind == "tls_certificate_expired" and "172801 seconds ago" in expired.detail
    # the same refusal a second later has the same kind (times and numbers are not in it)
    assert tls_refusal(EXPIRED.replace("172801", "172802")).kind == expired.kind
    for other in ("[INFO] [1.0] [link_bridge]: link up", "",
                  "WARN zenoh::net::runtime::orchestrator: Unable to connect to tls/x:1!"):
        assert tls_refusal(other) is None, other


def test_each_kind_is_logged_once_per_episode_and_every_refusal_counted():
    now = [0.0]
    log = RefusalLog(quiet_s=60.0, clock=lambda: now[0])
    a, b = Refusal("a", "A"), Refusal("b", "B")
    assert log.record(a) and log.record(b)
    for _ in range(10):
        now[0] += 1.0
        assert not log.record(a)
    now[0] += 59.0
    assert not log.record(a), "59 s apart: the same episode"
    now[0] += 61.0
    assert log.record(a), "a new episode after 60 s without it"
    assert log.counts() == {"a": 13, "b": 1} and log.total() == 14 and log.last_detail == "A"


def test_robot_side_check_names_foreign_and_expired_certificates(tmp_path):
    certs = str(tmp_path / "certs")
    make_certificates(certs, cloud_hosts=["localhost"], robots=["/robot1"])
    ca = f"{certs}/ca.pem"
    assert certificate_validity_warning(f"{certs}/robot1.pem", ca) == ""
    write_issued(issue(make_ca(), "robot2", ["robot2"]), str(tmp_path), "foreign")
    assert "not signed by the project CA" in certificate_validity_warning(
        str(tmp_path / "foreign.pem"), ca)
    write_issued(issue(load_issued(certs, "ca"), "robot2", ["robot2"], days=1,
                       not_before=datetime.datetime.now(datetime.timezone.utc)
                       - datetime.timedelta(days=3)), str(tmp_path), "expired")
    assert "expired on" in certificate_validity_warning(str(tmp_path / "expired.pem"), ca)
    later = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)
    assert "valid only from" in certificate_validity_warning(f"{certs}/robot1.pem", ca, now=later)


def test_stdout_tap_keeps_back_only_what_it_is_told_to():
    # native writes to fd 1 and Python prints both pass through the tap; kept lines do not
    script = (
        "import os, sys\n"
        "from dedelayed_bringup.secure_link.refusals import StdoutTap\n"
        "seen = []\n"
        "tap = StdoutTap(lambda line: seen.append(line) or 'secret' in line)\n"
        "os.write(1, b'native line\\nsecret native\\n')\n"
        "print('python line', flush=True)\n"
        "print('secret python', flush=True)\n"
        "tap.close()\n"
        "print('after close', len(seen))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ)).stdout
    assert out.splitlines() == ["native line", "python line", "after close 4"], out
