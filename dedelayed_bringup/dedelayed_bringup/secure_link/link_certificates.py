"""Certificates for the secure robot-cloud link: a project CA, the cloud, one per robot.

    python -m dedelayed_bringup.secure_link.link_certificates --out certs --cloud-host cloud.example.org \
        --cloud-host 203.0.113.7 --robot /robot1 --robot /robot2

writes into ``certs/``: ``ca.pem`` + ``ca.key`` (the project CA), ``cloud.pem`` + ``cloud.key``
(server certificate for the names the robots dial; its Ed25519 key also signs FeatureMaps) and
``<robot>.pem`` + ``<robot>.key`` per robot, whose common name is the robot's namespace without
the leading '/' (``robot1``): the cloud's access control keys on it. Run it again with new
``--robot`` names to add robots with the existing CA. Private keys are written mode 0600 and
never overwritten. All keys are Ed25519; everything goes through ``cryptography``.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import sys
from typing import List, NamedTuple, Optional

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "ca"
CLOUD_NAME = "cloud"
DEFAULT_DAYS = 365
KEY_MODE = 0o600


class Issued(NamedTuple):
    certificate: x509.Certificate
    key: Ed25519PrivateKey


def robot_common_name(namespace: str) -> str:
    """'/robot1' -> 'robot1' (the CN, the file stem and the access-control subject)."""
    name = str(namespace).strip().strip("/")
    tokens = name.split("/")
    if not name or not all(t and (t[0].isalpha() or t[0] == "_") and
                           all(c.isalnum() or c == "_" for c in t) for t in tokens):
        raise ValueError(f"robot namespace '{namespace}' is not a ROS namespace; use e.g. "
                         "'/robot1' (letters, digits, '_')")
    return name


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dedelayed"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_names(hosts: List[str]) -> x509.SubjectAlternativeName:
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def make_ca(days: int = DEFAULT_DAYS) -> Issued:
    """A self-signed project CA (may sign leaf certificates only: path length 0)."""
    key = Ed25519PrivateKey.generate()
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name("dedelayed project CA"))
            .issuer_name(_name("dedelayed project CA")).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, None))
    return Issued(cert, key)


def issue(ca: Issued, common_name: str, hosts: List[str], *, days: int = DEFAULT_DAYS,
          not_before: Optional[datetime.datetime] = None) -> Issued:
    """A leaf certificate signed by ``ca`` for TLS client and server use.

    hosts: DNS names / IP addresses the certificate is valid for (subjectAltName); a robot's
    certificate names its CN. not_before: start of validity (default: 5 minutes ago).
    """
    key = Ed25519PrivateKey.generate()
    start = not_before or (datetime.datetime.now(datetime.timezone.utc)
                           - datetime.timedelta(minutes=5))
    cert = (x509.CertificateBuilder().subject_name(_name(common_name))
            .issuer_name(ca.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), False)
            .add_extension(_alt_names(hosts), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.key.public_key()), False)
            .sign(ca.key, None))
    return Issued(cert, key)


def write_issued(issued: Issued, folder: str, stem: str) -> None:
    """``<stem>.pem`` (certificate) and ``<stem>.key`` (PKCS#8, mode 0600, never overwritten)."""
    key_path = os.path.join(folder, f"{stem}.key")
    cert_path = os.path.join(folder, f"{stem}.pem")
    for path in (key_path, cert_path):
        if os.path.exists(path):
            raise FileExistsError(f"'{path}' exists; refusing to overwrite it. Delete it first "
                                  "if you mean to replace it, or choose another --out folder")
    pem_key = issued.key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem_key)
    with open(cert_path, "wb") as handle:
        handle.write(issued.certificate.public_bytes(serialization.Encoding.PEM))


def load_issued(folder: str, stem: str) -> Issued:
    with open(os.path.join(folder, f"{stem}.pem"), "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(folder, f"{stem}.key"), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), None)
    return Issued(cert, key)


def make_certificates(out: str, *, cloud_hosts: List[str], robots: List[str],
                      days: int = DEFAULT_DAYS) -> List[str]:
    """Create (or extend) the certificate folder; returns the files written."""
    stems = [robot_common_name(r) for r in robots]
    if len(set(stems)) != len(stems):
        raise ValueError(f"a robot is named twice: {robots}")
    for stem in stems:
        if "/" in stem:
            raise ValueError(f"robot '{stem}': nested namespaces cannot be file names here; "
                             "use a single-token namespace such as /robot1")
    cloud_exists = os.path.exists(os.path.join(out, f"{CLOUD_NAME}.key"))
    if not cloud_exists and not cloud_hosts:
        raise ValueError("no --cloud-host given: name the DNS names or IP addresses the "
                         "robots dial (e.g. --cloud-host cloud.example.org)")
    os.makedirs(out, exist_ok=True)
    written = []
    ca_exists = os.path.exists(os.path.join(out, f"{CA_NAME}.key"))
    if ca_exists:
        ca = load_issued(out, CA_NAME)
    else:
        ca = make_ca(days)
        write_issued(ca, out, CA_NAME)
        written.append(CA_NAME)
    if not cloud_exists:
        write_issued(issue(ca, CLOUD_NAME, cloud_hosts, days=days), out, CLOUD_NAME)
        written.append(CLOUD_NAME)
    for stem in stems:
        write_issued(issue(ca, stem, [stem], days=days), out, stem)
        written.append(stem)
    return [os.path.join(out, f"{stem}{ext}") for stem in written for ext in (".pem", ".key")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="certificate folder (created)")
    parser.add_argument("--cloud-host", action="append", default=[],
                        help="DNS name or IP address robots dial for the cloud (repeatable)")
    parser.add_argument("--robot", action="append", default=[],
                        help="robot namespace, e.g. /robot1 (repeatable)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="validity [days]")
    args = parser.parse_args(argv)
    try:
        written = make_certificates(args.out, cloud_hosts=args.cloud_host, robots=args.robot,
                                    days=args.days)
    except (ValueError, FileExistsError) as error:
        print(f"link_certificates: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
