"""The certificates and keys a test control plane needs, taken from the caller or generated.

A caller (a bootstrap test, the VM boot simulator) supplies the cluster CA, service-account key pair and
front-proxy CA that azk generated; the launcher only fills the gaps: its own serving certificate, the
front-proxy client certificate and the admin client certificate, each signed by the supplied CA. The
certificates are made by azk's own bootstrap code, so the test control plane exercises it too.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from azk_operator.bootstrap.certs import (
    CertificateProfile,
    CertKeyPair,
    PKIOptions,
    create_ca,
    issue_certificate,
)
from azk_operator.bootstrap.files import write_public_file, write_secret_file
from azk_operator.bootstrap.keys import (
    KeyAlgorithm,
    generate_private_key,
    private_key_to_pem,
    public_key_to_pem,
)
from azk_operator.bootstrap.pki import ClusterPKI, ControlPlaneCertificates
from azk_operator.bootstrap.sans import SubjectAltNames

# Short-lived, fast-to-make material: a test control plane lives for minutes.
_OPTIONS = PKIOptions(
    key_algorithm=KeyAlgorithm.ECDSA_P256,
    ca_validity=datetime.timedelta(days=2),
    cert_validity=datetime.timedelta(days=2),
)
ADMIN_GROUP = "system:masters"


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
    etcd_ca_cert: bytes | None = None
    etcd_ca_key: bytes | None = None
    etcd_server_cert: bytes | None = None
    etcd_server_key: bytes | None = None
    etcd_client_cert: bytes | None = None
    """kube-apiserver's client certificate for etcd (kubeadm's apiserver-etcd-client)."""
    etcd_client_key: bytes | None = None

    @classmethod
    def of_cluster(cls, pki: ClusterPKI, leaves: ControlPlaneCertificates) -> SuppliedPKI:
        """What a kubeadm node runs with: the cluster's CAs and keys, and azk's leaves for this node."""
        return cls(
            ca_cert=pki.ca.cert_pem,
            ca_key=pki.ca.key_pem,
            service_account_key=pki.service_account_key_pem,
            service_account_pub=pki.service_account_public_pem,
            front_proxy_ca_cert=pki.front_proxy_ca.cert_pem,
            front_proxy_ca_key=pki.front_proxy_ca.key_pem,
            serving_cert=leaves.apiserver.cert_pem,
            serving_key=leaves.apiserver.key_pem,
            etcd_ca_cert=pki.etcd_ca.cert_pem,
            etcd_ca_key=pki.etcd_ca.key_pem,
            etcd_server_cert=leaves.etcd_server.cert_pem,
            etcd_server_key=leaves.etcd_server.key_pem,
            etcd_client_cert=leaves.apiserver_etcd_client.cert_pem,
            etcd_client_key=leaves.apiserver_etcd_client.key_pem,
        )

    def __post_init__(self) -> None:
        for cert, key, what in (
            (self.ca_cert, self.ca_key, "ca_cert/ca_key"),
            (self.service_account_pub, self.service_account_key, "service_account_pub/service_account_key"),
            (self.front_proxy_ca_cert, self.front_proxy_ca_key, "front_proxy_ca_cert/front_proxy_ca_key"),
            (self.serving_cert, self.serving_key, "serving_cert/serving_key"),
            (self.etcd_ca_cert, self.etcd_ca_key, "etcd_ca_cert/etcd_ca_key"),
            (self.etcd_server_cert, self.etcd_server_key, "etcd_server_cert/etcd_server_key"),
            (self.etcd_client_cert, self.etcd_client_key, "etcd_client_cert/etcd_client_key"),
        ):
            if (cert is None) != (key is None):
                raise ValueError(f"SuppliedPKI: {what} must be given together")
        if self.serving_cert is not None and self.ca_cert is None:
            raise ValueError("SuppliedPKI: serving_cert needs the ca_cert that clients verify it with")
        if (self.etcd_server_cert or self.etcd_client_cert) is not None and self.etcd_ca_cert is None:
            raise ValueError("SuppliedPKI: etcd_server_cert and etcd_client_cert need the etcd_ca_cert")


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
    etcd_ca_cert: Path
    etcd_server_cert: Path
    etcd_server_key: Path
    etcd_client_cert: Path
    etcd_client_key: Path


def write_control_plane_pki(pki: SuppliedPKI, folder: Path, bind: str) -> ControlPlaneFiles:
    """Write the supplied material and generate what is missing; private keys get mode 0600."""
    ca = _supplied_or_new_ca(pki.ca_cert, pki.ca_key, "azk-testenv-ca")
    front_proxy_ca = _supplied_or_new_ca(
        pki.front_proxy_ca_cert, pki.front_proxy_ca_key, "azk-testenv-front-proxy"
    )
    serving_cert, serving_key = _supplied_or_issued(
        pki.serving_cert,
        pki.serving_key,
        ca,
        CertificateProfile(
            "kube-apiserver",
            server_auth=True,
            sans=SubjectAltNames.from_strings(
                ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", bind, "127.0.0.1"]
            ),
        ),
    )
    # etcd serves TLS and asks for client certificates, as on a kubeadm node.
    etcd_ca = _supplied_or_new_ca(pki.etcd_ca_cert, pki.etcd_ca_key, "azk-testenv-etcd-ca")
    etcd_server_cert, etcd_server_key = _supplied_or_issued(
        pki.etcd_server_cert,
        pki.etcd_server_key,
        etcd_ca,
        CertificateProfile(
            "azk-testenv-etcd",
            server_auth=True,
            client_auth=True,
            sans=SubjectAltNames.from_strings(["localhost", bind, "127.0.0.1"]),
        ),
    )
    etcd_client_cert, etcd_client_key = _supplied_or_issued(
        pki.etcd_client_cert,
        pki.etcd_client_key,
        etcd_ca,
        CertificateProfile("kube-apiserver-etcd-client", client_auth=True),
    )
    if pki.service_account_key is not None and pki.service_account_pub is not None:
        sa_key, sa_pub = pki.service_account_key, pki.service_account_pub
    else:
        key = generate_private_key(_OPTIONS.key_algorithm)
        sa_key, sa_pub = private_key_to_pem(key), public_key_to_pem(key.public_key())
    front_proxy_client = issue_certificate(
        front_proxy_ca, CertificateProfile("front-proxy-client", client_auth=True), _OPTIONS
    )
    admin = issue_certificate(
        ca, CertificateProfile("azk-testenv-admin", organizations=(ADMIN_GROUP,), client_auth=True), _OPTIONS
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
        etcd_ca_cert=folder / "etcd" / "ca.crt",
        etcd_server_cert=folder / "etcd" / "server.crt",
        etcd_server_key=folder / "etcd" / "server.key",
        etcd_client_cert=folder / "apiserver-etcd-client.crt",
        etcd_client_key=folder / "apiserver-etcd-client.key",
    )
    write_public_file(files.ca_cert, ca.cert_pem)
    write_secret_file(files.ca_key, ca.key_pem)
    write_public_file(files.serving_cert, serving_cert)
    write_secret_file(files.serving_key, serving_key)
    write_secret_file(files.service_account_key, sa_key)
    write_public_file(files.service_account_pub, sa_pub)
    write_public_file(files.front_proxy_ca_cert, front_proxy_ca.cert_pem)
    write_public_file(files.front_proxy_client_cert, front_proxy_client.cert_pem)
    write_secret_file(files.front_proxy_client_key, front_proxy_client.key_pem)
    write_public_file(files.admin_cert, admin.cert_pem)
    write_secret_file(files.admin_key, admin.key_pem)
    write_public_file(files.etcd_ca_cert, etcd_ca.cert_pem)
    write_public_file(files.etcd_server_cert, etcd_server_cert)
    write_secret_file(files.etcd_server_key, etcd_server_key)
    write_public_file(files.etcd_client_cert, etcd_client_cert)
    write_secret_file(files.etcd_client_key, etcd_client_key)
    return files


def _supplied_or_new_ca(cert_pem: bytes | None, key_pem: bytes | None, name: str) -> CertKeyPair:
    if cert_pem is not None and key_pem is not None:
        return CertKeyPair.from_pem(cert_pem, key_pem, name)
    return create_ca(name, _OPTIONS)


def _supplied_or_issued(
    cert_pem: bytes | None, key_pem: bytes | None, ca: CertKeyPair, profile: CertificateProfile
) -> tuple[bytes, bytes]:
    if cert_pem is not None and key_pem is not None:
        return cert_pem, key_pem
    issued = issue_certificate(ca, profile, _OPTIONS)
    return issued.cert_pem, issued.key_pem
