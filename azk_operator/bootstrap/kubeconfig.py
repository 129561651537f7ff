"""Kubeconfig files with embedded credentials (always written with mode 0600)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from azk_operator.bootstrap.certs import CertKeyPair
from azk_operator.bootstrap.errors import BootstrapError
from azk_operator.bootstrap.files import write_secret_file
from azk_operator.bootstrap.pki import ClusterPKI, issue_admin_certificate


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def client_certificate_kubeconfig(
    *, cluster_name: str, server: str, ca_cert_pem: bytes, client: CertKeyPair, user: str
) -> str:
    """A single-context kubeconfig for ``server`` that trusts ``ca_cert_pem`` and logs in with ``client``."""
    if not server.startswith("https://"):
        raise BootstrapError(f"kubeconfig server must be an https:// URL, got {server!r}")
    context = f"{user}@{cluster_name}"
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": server, "certificate-authority-data": _b64(ca_cert_pem)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client.cert_pem),
                    "client-key-data": _b64(client.key_pem),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": context,
        "preferences": {},
    }
    return yaml.safe_dump(document, sort_keys=False)


def super_admin_kubeconfig(cluster_name: str, server: str, pki: ClusterPKI) -> str:
    """The first kubeconfig of a new cluster: kubeadm's super-admin (system:masters), which works on a
    bare API server before any RBAC binding of azk's exists."""
    return client_certificate_kubeconfig(
        cluster_name=cluster_name,
        server=server,
        ca_cert_pem=pki.ca.cert_pem,
        client=issue_admin_certificate(pki, super_admin=True),
        user="super-admin",
    )


def write_kubeconfig(path: Path, kubeconfig: str) -> None:
    """Write a kubeconfig with mode 0600 (it carries a private key)."""
    write_secret_file(path, kubeconfig.encode())
