"""Everything a node document and a scale set of a cluster need, read from that cluster's objects.

The Cluster object gives the spec and the API endpoint (its status); the `<cluster>-pki` Secret the CAs; the
newest unexpired bootstrap-token Secret in kube-system the token. NodeSet reconciles (in the operator) and
`azk create` (before any operator exists) render documents from a ClusterContext, so they render alike.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kubernetes

from azk_operator.api.cluster import Cluster, ClusterSpec
from azk_operator.api.meta import GROUP, VERSION
from azk_operator.azure import naming
from azk_operator.azure.tags import owned_tags
from azk_operator.bootstrap.cluster_secrets import (
    pki_from_secret_data,
    pki_secret_name,
    token_from_secret_data,
    token_selector,
)
from azk_operator.bootstrap.config import ClusterBootstrapConfig
from azk_operator.bootstrap.errors import BootstrapError
from azk_operator.bootstrap.pki import ClusterPKI
from azk_operator.bootstrap.tokens import BootstrapToken
from azk_operator.kube.clients import KubeClients
from azk_operator.planner.cluster_infra import control_plane_backend_pool_id, subnet_id

# A token that expires sooner than this is not used for new documents: a VM booting from it needs time.
TOKEN_MIN_REMAINING = datetime.timedelta(hours=1)


class ClusterNotReady(Exception):
    """The cluster cannot serve its nodes yet; `reason` is a condition reason, `message` safe to show."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True, repr=False)
class ClusterContext:
    name: str
    namespace: str
    uid: str
    spec: ClusterSpec
    endpoint: str
    """host:port of the API load balancer frontend."""
    pki: ClusterPKI
    token: BootstrapToken
    token_expires: datetime.datetime

    @property
    def subscription_id(self) -> str:
        return self.spec.azure.subscription_id

    @property
    def resource_group(self) -> str:
        return self.spec.azure.resource_group

    @property
    def location(self) -> str:
        return self.spec.azure.location

    @property
    def node_subnet_id(self) -> str:
        return subnet_id(self.name, self.spec, naming.NODE_SUBNET)

    @property
    def control_plane_subnet_id(self) -> str:
        return subnet_id(self.name, self.spec, naming.CONTROL_PLANE_SUBNET)

    @property
    def control_plane_backend_pool_id(self) -> str:
        return control_plane_backend_pool_id(self.name, self.spec)

    @property
    def tags(self) -> dict[str, str]:
        """Tags of everything azk creates for this cluster: the user's plus the ownership tag."""
        return owned_tags(self.name, self.spec.azure.tags)

    def bootstrap_config(self, kubernetes_version: str) -> ClusterBootstrapConfig:
        """The cluster-wide part of every node document, for nodes of `kubernetes_version`."""
        host = self.endpoint.rpartition(":")[0]
        sans = [host]
        if self.spec.dns_prefix:
            sans.append(f"{self.spec.dns_prefix}.{self.location}.cloudapp.azure.com")
        return ClusterBootstrapConfig(
            cluster_name=self.name,
            kubernetes_version=kubernetes_version,
            control_plane_endpoint=self.endpoint,
            apiserver_cert_sans=tuple(sans),
            service_cidr=self.spec.network.service_cidr,
            pod_cidr=self.spec.network.pod_cidr,
        )

    def __repr__(self) -> str:
        return f"ClusterContext({self.namespace}/{self.name}, endpoint={self.endpoint})"


def endpoint_of(server_url: str | None) -> str | None:
    """`https://host:port` (Cluster.status.endpoint) -> `host:port`."""
    if not server_url:
        return None
    return server_url.removeprefix("https://").rstrip("/")


async def load_cluster_context(
    kube: KubeClients, namespace: str, cluster_name: str, now: datetime.datetime | None = None
) -> ClusterContext:
    """The context of Cluster `namespace/cluster_name`; raises ClusterNotReady naming what is missing."""
    custom = kubernetes.client.CustomObjectsApi(kube.api)
    try:
        obj: Any = await kube.call(
            custom.get_namespaced_custom_object, GROUP, VERSION, namespace, "clusters", cluster_name
        )
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            raise ClusterNotReady("ClusterNotFound", f"Cluster {cluster_name} does not exist") from None
        raise
    cluster = Cluster.model_validate(obj)
    endpoint = endpoint_of(cluster.status.endpoint if cluster.status else None)
    if endpoint is None:
        raise ClusterNotReady("EndpointUnknown", f"Cluster {cluster_name} has no API endpoint yet")
    pki = await _load_pki(kube, namespace, cluster_name)
    token, expires = await _current_token(
        kube, namespace, cluster_name, now or datetime.datetime.now(datetime.UTC)
    )
    return ClusterContext(
        name=cluster_name,
        namespace=namespace,
        uid=cluster.metadata.uid or "",
        spec=cluster.spec,
        endpoint=endpoint,
        pki=pki,
        token=token,
        token_expires=expires,
    )


async def _load_pki(kube: KubeClients, namespace: str, cluster: str) -> ClusterPKI:
    name = pki_secret_name(cluster)
    try:
        secret = await kube.call(kube.core.read_namespaced_secret, name, namespace)
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            raise ClusterNotReady("PKIMissing", f"Secret {name} does not exist") from None
        raise
    try:
        return pki_from_secret_data(text_values(secret.data))
    except BootstrapError as error:
        raise ClusterNotReady("PKIInvalid", f"Secret {name}: {error}") from None


@dataclass(frozen=True, repr=False)
class ClusterToken:
    """One of the cluster's bootstrap-token Secrets in kube-system."""

    secret_name: str
    token: BootstrapToken
    expires: datetime.datetime


async def cluster_tokens(kube: KubeClients, namespace: str, cluster: str) -> list[ClusterToken]:
    """The cluster's bootstrap tokens (unreadable Secrets skipped), expired ones included."""
    secrets = await kube.call(
        kube.core.list_namespaced_secret, "kube-system", label_selector=token_selector(cluster, namespace)
    )
    found: list[ClusterToken] = []
    for secret in secrets.items:
        try:
            token, expiration = token_from_secret_data(text_values(secret.data))
            expires = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        except (KeyError, ValueError, BootstrapError):
            continue
        found.append(ClusterToken((secret.metadata.name if secret.metadata else None) or "", token, expires))
    return found


async def _current_token(
    kube: KubeClients, namespace: str, cluster: str, now: datetime.datetime
) -> tuple[BootstrapToken, datetime.datetime]:
    usable = [
        t for t in await cluster_tokens(kube, namespace, cluster) if t.expires - now >= TOKEN_MIN_REMAINING
    ]
    if not usable:
        raise ClusterNotReady("TokenMissing", f"no bootstrap token of {cluster} is valid for another hour")
    newest = max(usable, key=lambda t: t.expires)
    return newest.token, newest.expires


def text_values(data: Mapping[str, bytes | str] | None) -> dict[str, str]:
    """Secret data as the API returns it (base64 text); the typed client admits bytes too."""
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in (data or {}).items()}
