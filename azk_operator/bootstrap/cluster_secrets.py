"""The Kubernetes Secrets that carry a cluster's bootstrap material, as pure manifest builders and readers.

The CLI writes them into the new cluster before it hands over; the operator reads them to render every
later node document, so both sides use this one layout:

- `<cluster>-pki` in the Cluster's namespace: the CAs and the service-account key pair, under kubeadm's file
  names with "/" turned into "-" (Secret keys cannot hold a slash);
- `<cluster>-admin-kubeconfig` in the Cluster's namespace: key `value`, the admin kubeconfig;
- `kube-system/bootstrap-token-<id>`: the token nodes join with, labelled with the cluster it belongs to.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from azk_operator.bootstrap.pki import ClusterPKI
from azk_operator.bootstrap.tokens import BootstrapToken, bootstrap_token_secret

CLUSTER_LABEL = "engine.azk.io/cluster"
CLUSTER_NAMESPACE_LABEL = "engine.azk.io/cluster-namespace"
KUBECONFIG_KEY = "value"


def pki_secret_name(cluster: str) -> str:
    return f"{cluster}-pki"


def admin_kubeconfig_secret_name(cluster: str) -> str:
    return f"{cluster}-admin-kubeconfig"


def cluster_labels(cluster: str, namespace: str) -> dict[str, str]:
    return {CLUSTER_LABEL: cluster, CLUSTER_NAMESPACE_LABEL: namespace}


def token_selector(cluster: str, namespace: str) -> str:
    """Label selector of the cluster's bootstrap-token Secrets in kube-system."""
    return ",".join(f"{k}={v}" for k, v in cluster_labels(cluster, namespace).items())


def _key(file_name: str) -> str:
    return file_name.replace("/", "-")


def pki_secret(cluster: str, namespace: str, pki: ClusterPKI) -> dict[str, Any]:
    """The `<cluster>-pki` Secret manifest (holds CA keys: apply it, never log it)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": pki_secret_name(cluster),
            "namespace": namespace,
            "labels": cluster_labels(cluster, namespace),
        },
        "type": "Opaque",
        "data": {_key(name): base64.b64encode(pem).decode() for name, pem in pki.to_pem_files().items()},
    }


def pki_from_secret_data(data: Mapping[str, str]) -> ClusterPKI:
    """Read back what `pki_secret` wrote (`data` as the API returns it: base64 values)."""
    by_key = {_key(name): name for name in ClusterPKI.file_names()}
    return ClusterPKI.from_pem_files(
        {by_key[key]: base64.b64decode(value) for key, value in data.items() if key in by_key}
    )


def admin_kubeconfig_secret(cluster: str, namespace: str, kubeconfig: str) -> dict[str, Any]:
    """The `<cluster>-admin-kubeconfig` Secret manifest."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": admin_kubeconfig_secret_name(cluster),
            "namespace": namespace,
            "labels": cluster_labels(cluster, namespace),
        },
        "type": "Opaque",
        "data": {KUBECONFIG_KEY: base64.b64encode(kubeconfig.encode()).decode()},
    }


def cluster_token_secret(
    cluster: str, namespace: str, token: BootstrapToken, expires: datetime
) -> dict[str, Any]:
    """The token's kube-system Secret, labelled with its cluster so the operator finds it."""
    secret = bootstrap_token_secret(
        token, expires, description=f"azk node bootstrap token of {namespace}/{cluster}"
    )
    secret["metadata"]["labels"] = cluster_labels(cluster, namespace)
    return secret


def token_from_secret_data(data: Mapping[str, str]) -> tuple[BootstrapToken, str]:
    """The token and its RFC 3339 expiry from a bootstrap-token Secret's (base64) data."""

    def field(name: str) -> str:
        return base64.b64decode(data[name]).decode()

    return BootstrapToken(field("token-id"), field("token-secret")), field("expiration")
