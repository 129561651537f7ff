"""The hand-over step of `azk create`: what goes into the new cluster so it can manage itself.

CRDs (generated from the API models, identical to crds/), kopf's peering CRDs, the cluster's bootstrap
Secrets, and the resources describing the cluster. Everything is server-side applied, so a re-run changes
nothing that is already in place.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import time
from collections.abc import Sequence
from typing import Any

import kubernetes

from azk_operator.api.crdgen import crds
from azk_operator.bootstrap.cluster_secrets import admin_kubeconfig_secret, cluster_token_secret, pki_secret
from azk_operator.bootstrap.pki import ClusterPKI
from azk_operator.bootstrap.tokens import BootstrapToken
from azk_operator.create.manifests import peering_crds
from azk_operator.kube.apply import apply_manifests
from azk_operator.kube.clients import KubeClients

CRD_ESTABLISHED_TIMEOUT_S = 60.0


async def install_crds(kube: KubeClients) -> None:
    """Apply azk's and kopf's CRDs and wait until each is Established (served)."""
    manifests = [*crds(), *peering_crds()]
    await apply_manifests(kube, manifests, force_conflicts=True)
    ext = kubernetes.client.ApiextensionsV1Api(kube.api)
    deadline = time.monotonic() + CRD_ESTABLISHED_TIMEOUT_S
    for manifest in manifests:
        name = manifest["metadata"]["name"]
        while True:
            crd = await kube.call(ext.read_custom_resource_definition, name)
            conditions = crd.status.conditions if crd.status and crd.status.conditions else []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not Established within {CRD_ESTABLISHED_TIMEOUT_S:.0f} s")
            await asyncio.sleep(0.2)


async def install_secrets(
    kube: KubeClients,
    cluster: str,
    namespace: str,
    pki: ClusterPKI,
    token: BootstrapToken,
    token_expires: datetime.datetime,
    admin_kubeconfig: str,
) -> None:
    """The cluster's PKI, admin kubeconfig and join token, where the operator reads them."""
    await _ensure_namespace(kube, namespace)
    await apply_manifests(
        kube,
        [
            pki_secret(cluster, namespace, pki),
            admin_kubeconfig_secret(cluster, namespace, admin_kubeconfig),
            cluster_token_secret(cluster, namespace, token, token_expires),
        ],
        force_conflicts=True,
    )


async def install_resources(kube: KubeClients, resources: Sequence[dict[str, Any]], namespace: str) -> None:
    """The Cluster, NodePool and AddonManager resources (the target state the operator takes over)."""
    await _ensure_namespace(kube, namespace)
    await apply_manifests(kube, list(resources), default_namespace=namespace, force_conflicts=True)


async def _ensure_namespace(kube: KubeClients, namespace: str) -> None:
    await apply_manifests(kube, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})


async def install_operator(kube: KubeClients, namespace: str, image: str) -> None:
    """Namespace, ServiceAccount, RBAC and the two-replica Deployment of the operator."""
    from azk_operator.create.manifests import operator_manifests

    await apply_manifests(kube, operator_manifests(namespace, image), force_conflicts=True)


async def install_azure_credentials(kube: KubeClients, namespace: str, values: dict[str, str]) -> None:
    """The service principal the operator uses, as files of a Secret (never values in a spec)."""
    from azk_operator.create.request import AZURE_CREDENTIALS_SECRET

    await _ensure_namespace(kube, namespace)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": AZURE_CREDENTIALS_SECRET, "namespace": namespace},
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in values.items()},
    }
    await apply_manifests(kube, secret, force_conflicts=True)
