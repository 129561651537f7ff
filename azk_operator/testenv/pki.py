"""The certificates and keys a test control plane needs, taken from the caller or generated.

A caller (a bootstrap test, the VM boot simulator) supplies the cluster CA, service-account key pair and
front-proxy CA that azk generated; the launcher only fills the gaps: its own serving certificate, the
front-proxy client certificate and the admin client certificate, each signed by the supplied CA.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=2)


@dataclass(frozen=True)
class SuppliedPKI:
    """PEM material a caller hands to the launcher. Anything left as None is generated."""

    ca_cert: bytes | None = None
    ca_key: bytes | None = None
    service_account_key: bytes | None = None
    service_account_pub: bytes | None = None
    front_proxy_ca_cert: bytes | None = None
    front_proxy_ca_key: bytes | None = None
    serving_cert: bytes | None = None
    serving_key: bytes | None = None

    def __post_init__(self) -> None:
        for cert, key, what in (
            (self.ca_cert, self.ca_key, "ca_cert/ca_key"),
            (self.service_account_pub, self.service_account_key, "service_account_pub/service_account_key"),
            (self.front_proxy_ca_cert, self.front_proxy_ca_key, "front_proxy_ca_cert/front_proxy_ca_key"),
            (self.serving_cert, self.serving_key, "serving_cert/serving_key"),
        ):
            if (cert is None) != (key is None):
                raise ValueError(f"SuppliedPKI: {what} must be given together")
        if self.serving_cert is not None and self.ca_cert is None:
            raise ValueError("SuppliedPKI: serving_cert needs the ca_cert that clients verify it with")


@dataclass(frozen=True)
class ControlPlaneFiles:
    """Paths of the PEM files the control-plane processes are started with."""

    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    service_account_key: Path
    service_account_pub: Path
    front_proxy_ca_cert: Path
    front_proxy_client_cert: Path
    front_proxy_client_key: Path
    admin_cert: Path
    admin_key: Path


def write_control_plane_pki(pki: SuppliedPKI, folder: Path, bind: str) -> ControlPlaneFiles:
    """Write the supplied material and generate what is missing; private keys get mode 0600."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _load_or_make_ca(pki.ca_cert, pki.ca_key, "azk-testenv-ca")
    fp_cert, fp_key = _load_or_make_ca(
        pki.front_proxy_ca_cert, pki.front_proxy_ca_key, "azk-testenv-front-proxy"
    )

    if pki.serving_cert is not None and pki.serving_key is not None:
        serving_cert_pem, serving_key_pem = pki.serving_cert, pki.serving_key
    else:
        serving_cert_pem, serving_key_pem = _issue(
            ca_cert,
            ca_key,
            "kube-apiserver",
            [],
            ExtendedKeyUsageOID.SERVER_AUTH,
            dns=["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"],
            ips=[bind, "127.0.0.1"],
        )

    if pki.service_account_key is not None and pki.service_account_pub is not None:
        sa_key_pem, sa_pub_pem = pki.service_account_key, pki.service_account_pub
    else:
        sa_key = ec.generate_private_key(ec.SECP256R1())
        sa_key_pem = _key_pem(sa_key)
        sa_pub_pem = sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    fp_client_cert, fp_client_key = _issue(
        fp_cert, fp_key, "front-proxy-client", [], ExtendedKeyUsageOID.CLIENT_AUTH
    )
    admin_cert, admin_key = _issue(
        ca_cert, ca_key, "azk-testenv-admin", ["system:masters"], ExtendedKeyUsageOID.CLIENT_AUTH
    )

    files = ControlPlaneFiles(
        ca_cert=folder / "ca.crt",
        ca_key=folder / "ca.key",
        serving_cert=folder / "apiserver.crt",
        serving_key=folder / "apiserver.key",
        service_account_key=folder / "sa.key",
        service_account_pub=folder / "sa.pub",
        front_proxy_ca_cert=folder / "front-proxy-ca.crt",
        front_proxy_client_cert=folder / "front-proxy-client.crt",
        front_proxy_client_key=folder / "front-proxy-client.key",
        admin_cert=folder / "admin.crt",
        admin_key=folder / "admin.key",
    )
    write_public(files.ca_cert, _cert_pem(ca_cert))
    write_secret(files.ca_key, _key_pem(ca_key))
    write_public(files.serving_cert, serving_cert_pem)
    write_secret(files.serving_key, serving_key_pem)
    write_secret(files.service_account_key, sa_key_pem)
    write_public(files.service_account_pub, sa_pub_pem)
    write_public(files.front_proxy_ca_cert, _cert_pem(fp_cert))
    write_public(files.front_proxy_client_cert, fp_client_cert)
    write_secret(files.front_proxy_client_key, fp_client_key)
    write_public(files.admin_cert, admin_cert)
    write_secret(files.admin_key, admin_key)
    return files


def write_secret(path: Path, data: bytes) -> None:
    """Create or replace `path` with mode 0600 from the first byte on (never chmod after the write)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_public(path: Path, data: bytes) -> None:
    path.write_bytes(data)


_CAKey = CertificateIssuerPrivateKeyTypes


def _load_or_make_ca(
    cert_pem: bytes | None, key_pem: bytes | None, name: str
) -> tuple[x509.Certificate, _CAKey]:
    if cert_pem is not None and key_pem is not None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"SuppliedPKI: {name} key must be RSA or ECDSA")
        return x509.load_pem_x509_certificate(cert_pem), key
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _issue(
    ca_cert: x509.Certificate,
    ca_key: _CAKey,
    common_name: str,
    organizations: list[str],
    usage: x509.ObjectIdentifier,
    dns: list[str] | None = None,
    ips: list[str] | None = None,
) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                key_cert_sign=False,
                crl_sign=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns or []]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in dict.fromkeys(ips or [])]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return _cert_pem(cert), _key_pem(key)


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: _CAKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
