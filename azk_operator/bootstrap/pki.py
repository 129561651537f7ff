"""The cluster PKI as kubeadm lays it out, and its on-disk form.

The cluster-wide part (:class:`ClusterPKI`: the three CAs and the service-account key) is generated once,
before any VM exists, and must survive every later step: the CLI resumes from the files it wrote and never
makes a second CA. Leaf certificates (:class:`ControlPlaneCertificates`, the admin certificate) can be
issued again at any time from it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from cryptography import x509

from azk_operator.bootstrap.certs import (
    CertificateProfile,
    CertKeyPair,
    PKIOptions,
    create_ca,
    issue_certificate,
)
from azk_operator.bootstrap.errors import PKIError
from azk_operator.bootstrap.files import is_private_to_owner, write_public_file, write_secret_file
from azk_operator.bootstrap.keys import (
    PrivateKey,
    generate_private_key,
    load_private_key_pem,
    private_key_to_pem,
    public_key_to_pem,
)
from azk_operator.bootstrap.sans import IPAddress, SubjectAltNames, is_dns_name

PKI_SUBDIR = "pki"

# Subjects as kubeadm issues them (cmd/kubeadm/app/phases/certs/certlist.go, since v1.29).
CA_COMMON_NAME = "kubernetes"
FRONT_PROXY_CA_COMMON_NAME = "front-proxy-ca"
ETCD_CA_COMMON_NAME = "etcd-ca"
# kubeadm binds this group to cluster-admin with a ClusterRoleBinding it creates at init (so the credential
# can be revoked); system:masters bypasses RBAC entirely and is kept for the break-glass super-admin.
CLUSTER_ADMINS_GROUP = "kubeadm:cluster-admins"
SYSTEM_MASTERS_GROUP = "system:masters"
ADMIN_COMMON_NAME = "kubernetes-admin"
SUPER_ADMIN_COMMON_NAME = "kubernetes-super-admin"

_LOCALHOST_SANS = SubjectAltNames(
    ("localhost",), (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
)


def _pair_files(stem: str) -> tuple[str, str]:
    return f"{stem}.crt", f"{stem}.key"


@dataclass(frozen=True, repr=False)
class ClusterPKI:
    """The CAs and the service-account signing key shared by every control-plane node."""

    ca: CertKeyPair
    front_proxy_ca: CertKeyPair
    etcd_ca: CertKeyPair
    service_account_key: PrivateKey

    # Paths relative to the kubeadm certificate directory (/etc/kubernetes/pki).
    _PAIRS: ClassVar[dict[str, str]] = {"ca": "ca", "front_proxy_ca": "front-proxy-ca", "etcd_ca": "etcd/ca"}
    SERVICE_ACCOUNT_KEY_FILE: ClassVar[str] = "sa.key"
    SERVICE_ACCOUNT_PUB_FILE: ClassVar[str] = "sa.pub"

    @property
    def service_account_public_pem(self) -> bytes:
        return public_key_to_pem(self.service_account_key.public_key())

    @property
    def service_account_key_pem(self) -> bytes:
        return private_key_to_pem(self.service_account_key)

    def to_pem_files(self) -> dict[str, bytes]:
        """File name (relative to the certificate directory) -> PEM, in kubeadm's names."""
        files: dict[str, bytes] = {}
        for attribute, stem in self._PAIRS.items():
            pair: CertKeyPair = getattr(self, attribute)
            cert_file, key_file = _pair_files(stem)
            files[cert_file] = pair.cert_pem
            files[key_file] = pair.key_pem
        files[self.SERVICE_ACCOUNT_KEY_FILE] = self.service_account_key_pem
        files[self.SERVICE_ACCOUNT_PUB_FILE] = self.service_account_public_pem
        return files

    @classmethod
    def file_names(cls) -> tuple[str, ...]:
        names = [name for stem in cls._PAIRS.values() for name in _pair_files(stem)]
        return (*names, cls.SERVICE_ACCOUNT_KEY_FILE, cls.SERVICE_ACCOUNT_PUB_FILE)

    @classmethod
    def from_pem_files(cls, files: Mapping[str, bytes]) -> ClusterPKI:
        """Inverse of :meth:`to_pem_files`; checks each key matches its certificate, sa.pub matches sa.key."""
        missing = [name for name in cls.file_names() if name not in files]
        if missing:
            raise PKIError(f"cluster PKI is incomplete: missing {', '.join(missing)}")
        pairs = {
            attribute: CertKeyPair.from_pem(files[_pair_files(stem)[0]], files[_pair_files(stem)[1]], stem)
            for attribute, stem in cls._PAIRS.items()
        }
        for attribute, pair in pairs.items():
            if not _is_ca(pair):
                raise PKIError(f"{cls._PAIRS[attribute]}.crt is not a CA certificate")
        sa_key = load_private_key_pem(files[cls.SERVICE_ACCOUNT_KEY_FILE], cls.SERVICE_ACCOUNT_KEY_FILE)
        if public_key_to_pem(sa_key.public_key()) != files[cls.SERVICE_ACCOUNT_PUB_FILE]:
            raise PKIError("sa.pub is not the public half of sa.key")
        return cls(pairs["ca"], pairs["front_proxy_ca"], pairs["etcd_ca"], sa_key)

    def __repr__(self) -> str:
        return f"ClusterPKI(ca={self.ca!r})"


def _is_ca(pair: CertKeyPair) -> bool:
    try:
        return bool(pair.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def generate_cluster_pki(options: PKIOptions | None = None, now: datetime | None = None) -> ClusterPKI:
    """A new cluster CA, front-proxy CA, etcd CA and service-account key pair."""
    options = options or PKIOptions()
    return ClusterPKI(
        ca=create_ca(CA_COMMON_NAME, options, now),
        front_proxy_ca=create_ca(FRONT_PROXY_CA_COMMON_NAME, options, now),
        etcd_ca=create_ca(ETCD_CA_COMMON_NAME, options, now),
        service_account_key=generate_private_key(options.key_algorithm),
    )


@dataclass(frozen=True)
class ControlPlaneNode:
    """The identity a control-plane node's certificates are issued for: its host name and addresses."""

    name: str
    addresses: tuple[IPAddress, ...] = ()

    def __post_init__(self) -> None:
        if not is_dns_name(self.name) or self.name.startswith("*"):
            raise PKIError(f"node name {self.name!r} is not a DNS-1123 subdomain")

    @classmethod
    def of(cls, name: str, addresses: Iterable[str] = ()) -> ControlPlaneNode:
        try:
            return cls(name, tuple(ipaddress.ip_address(address) for address in addresses))
        except ValueError as error:
            raise PKIError(f"node {name!r}: invalid address") from error

    @property
    def sans(self) -> SubjectAltNames:
        return SubjectAltNames((self.name,), self.addresses)


@dataclass(frozen=True, repr=False)
class ControlPlaneCertificates:
    """The leaf certificates one control-plane node serves and authenticates with."""

    apiserver: CertKeyPair
    apiserver_kubelet_client: CertKeyPair
    front_proxy_client: CertKeyPair
    apiserver_etcd_client: CertKeyPair
    etcd_server: CertKeyPair
    etcd_peer: CertKeyPair
    etcd_healthcheck_client: CertKeyPair

    _STEMS: ClassVar[dict[str, str]] = {
        "apiserver": "apiserver",
        "apiserver_kubelet_client": "apiserver-kubelet-client",
        "front_proxy_client": "front-proxy-client",
        "apiserver_etcd_client": "apiserver-etcd-client",
        "etcd_server": "etcd/server",
        "etcd_peer": "etcd/peer",
        "etcd_healthcheck_client": "etcd/healthcheck-client",
    }

    def to_pem_files(self) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        for attribute, stem in self._STEMS.items():
            pair: CertKeyPair = getattr(self, attribute)
            cert_file, key_file = _pair_files(stem)
            files[cert_file] = pair.cert_pem
            files[key_file] = pair.key_pem
        return files

    @classmethod
    def from_pem_files(cls, files: Mapping[str, bytes]) -> ControlPlaneCertificates:
        pairs: dict[str, CertKeyPair] = {}
        for attribute, stem in cls._STEMS.items():
            cert_file, key_file = _pair_files(stem)
            if cert_file not in files or key_file not in files:
                raise PKIError(f"control-plane certificates are incomplete: missing {stem}")
            pairs[attribute] = CertKeyPair.from_pem(files[cert_file], files[key_file], stem)
        return cls(**pairs)

    @classmethod
    def file_names(cls) -> tuple[str, ...]:
        return tuple(name for stem in cls._STEMS.values() for name in _pair_files(stem))

    def items(self) -> dict[str, CertKeyPair]:
        """Attribute name -> pair, e.g. for checks that walk every leaf."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def __repr__(self) -> str:
        return f"ControlPlaneCertificates(apiserver={self.apiserver!r})"


def issue_control_plane_certificates(
    pki: ClusterPKI,
    node: ControlPlaneNode,
    apiserver_sans: SubjectAltNames,
    options: PKIOptions | None = None,
    now: datetime | None = None,
) -> ControlPlaneCertificates:
    """Every leaf kubeadm's ``init phase certs`` creates for ``node``.

    ``apiserver_sans`` comes from :func:`~azk_operator.bootstrap.sans.apiserver_subject_alt_names`; the
    node's own name and addresses are added to it, as kubeadm does.
    """
    options = options or PKIOptions()
    etcd_sans = _LOCALHOST_SANS.merged(node.sans)

    def issue(ca: CertKeyPair, profile: CertificateProfile) -> CertKeyPair:
        return issue_certificate(ca, profile, options, now)

    return ControlPlaneCertificates(
        apiserver=issue(
            pki.ca,
            CertificateProfile("kube-apiserver", server_auth=True, sans=apiserver_sans.merged(node.sans)),
        ),
        apiserver_kubelet_client=issue(
            pki.ca,
            CertificateProfile(
                "kube-apiserver-kubelet-client", organizations=(CLUSTER_ADMINS_GROUP,), client_auth=True
            ),
        ),
        front_proxy_client=issue(
            pki.front_proxy_ca, CertificateProfile("front-proxy-client", client_auth=True)
        ),
        apiserver_etcd_client=issue(
            pki.etcd_ca, CertificateProfile("kube-apiserver-etcd-client", client_auth=True)
        ),
        etcd_server=issue(
            pki.etcd_ca, CertificateProfile(node.name, server_auth=True, client_auth=True, sans=etcd_sans)
        ),
        etcd_peer=issue(
            pki.etcd_ca, CertificateProfile(node.name, server_auth=True, client_auth=True, sans=etcd_sans)
        ),
        etcd_healthcheck_client=issue(
            pki.etcd_ca, CertificateProfile("kube-etcd-healthcheck-client", client_auth=True)
        ),
    )


def issue_admin_certificate(
    pki: ClusterPKI,
    *,
    super_admin: bool = False,
    options: PKIOptions | None = None,
    now: datetime | None = None,
) -> CertKeyPair:
    """The admin client certificate, as kubeadm's ``admin.conf`` (or ``super-admin.conf``) carries it.

    The regular admin is in ``kubeadm:cluster-admins``, which only has rights once the ClusterRoleBinding
    kubeadm creates exists; the super-admin is in ``system:masters`` and works on a bare apiserver.
    """
    profile = (
        CertificateProfile(SUPER_ADMIN_COMMON_NAME, organizations=(SYSTEM_MASTERS_GROUP,), client_auth=True)
        if super_admin
        else CertificateProfile(ADMIN_COMMON_NAME, organizations=(CLUSTER_ADMINS_GROUP,), client_auth=True)
    )
    return issue_certificate(pki.ca, profile, options or PKIOptions(), now)


def _is_private_key_file(name: str) -> bool:
    return name.endswith(".key")


def write_pem_files(cert_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write PEM files under ``cert_dir``: ``*.key`` with mode 0600, certificates and ``sa.pub`` 0644."""
    for name, data in files.items():
        path = cert_dir / name
        if _is_private_key_file(name):
            write_secret_file(path, data)
        else:
            write_public_file(path, data)


def _read_pem_files(cert_dir: Path, names: Iterable[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name in names:
        path = cert_dir / name
        if not path.exists():
            continue
        if _is_private_key_file(name) and not is_private_to_owner(path):
            raise PKIError(f"{path} is readable by group or others; a key file must have mode 0600")
        files[name] = path.read_bytes()
    return files


def write_cluster_pki(root: Path, pki: ClusterPKI, leaves: ControlPlaneCertificates | None = None) -> Path:
    """Write the PKI under ``root/pki`` in kubeadm's layout; returns that certificate directory."""
    cert_dir = root / PKI_SUBDIR
    write_pem_files(cert_dir, pki.to_pem_files())
    if leaves is not None:
        write_pem_files(cert_dir, leaves.to_pem_files())
    return cert_dir


def load_cluster_pki(root: Path) -> ClusterPKI | None:
    """The PKI under ``root/pki``, or None when none was written yet.

    A partial set of files is an error, not "absent": generating a fresh CA next to a surviving one would
    split the cluster's trust.
    """
    files = _read_pem_files(root / PKI_SUBDIR, ClusterPKI.file_names())
    if not files:
        return None
    return ClusterPKI.from_pem_files(files)


def load_control_plane_certificates(root: Path) -> ControlPlaneCertificates | None:
    """The leaf certificates under ``root/pki``, or None when none were written."""
    files = _read_pem_files(root / PKI_SUBDIR, ControlPlaneCertificates.file_names())
    if not files:
        return None
    return ControlPlaneCertificates.from_pem_files(files)


def load_or_create_cluster_pki(root: Path, options: PKIOptions | None = None) -> ClusterPKI:
    """Resume with the PKI under ``root/pki``; generate and write one only when there is none."""
    existing = load_cluster_pki(root)
    if existing is not None:
        return existing
    pki = generate_cluster_pki(options)
    write_cluster_pki(root, pki)
    return pki
