"""Is the cluster already there? Reads only: the resource group and, when we hold its kubeconfig, the Cluster.

The answer decides what `azk create` does: nothing (Ready), resume (a group or local records exist), or a
fresh start. It never writes, so re-running `azk create` on a Ready cluster costs Azure no writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import kubernetes
from azure.core.exceptions import ResourceNotFoundError

from azk_operator.api.meta import GROUP, VERSION
from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.tags import is_owned
from azk_operator.create.home import ClusterHome
from azk_operator.create.request import CreateRequest
from azk_operator.kube.clients import KubeClients

# A cluster that does not answer within this long is treated as not reachable (resume, do not wait).
PROBE_TIMEOUT_S = 5.0


class Found(enum.Enum):
    NOTHING = "nothing"
    """No resource group and no local records: a fresh create."""
    PARTIAL = "partial"
    """Something exists (group, PKI, ...): resume with the same PKI."""
    READY = "ready"
    """The Cluster resource answers and is Ready."""


class ForeignCluster(RuntimeError):
    """The resource group carries this cluster's ownership tag but this machine holds none of its PKI."""


@dataclass(frozen=True)
class Lookup:
    found: Found
    group_exists: bool
    group_owned: bool
    ready_message: str = ""


async def find_cluster(azure: AzureClientFactory, request: CreateRequest, home: ClusterHome) -> Lookup:
    spec = request.cluster.spec
    clients = azure.subscription(spec.azure.subscription_id)
    try:
        group = await clients.resource.resource_groups.get(spec.azure.resource_group)
        exists, owned = True, is_owned(group.tags, request.name)
    except ResourceNotFoundError:
        exists, owned = False, False
    has_pki = home.pki() is not None
    if owned and not has_pki:
        raise ForeignCluster(
            f"resource group {spec.azure.resource_group} holds cluster {request.name}, but its PKI is not in "
            f"{home.root}; run azk from the machine (or AZK_HOME) that created it"
        )
    if not exists and not home.exists():
        return Lookup(Found.NOTHING, False, False)
    kubeconfig = home.kubeconfig()
    if exists and kubeconfig is not None:
        ready, message = await cluster_ready(kubeconfig, request.namespace, request.name)
        if ready:
            return Lookup(Found.READY, exists, owned, message)
    return Lookup(Found.PARTIAL, exists, owned)


async def cluster_ready(kubeconfig: Any, namespace: str, name: str) -> tuple[bool, str]:
    """Whether the Cluster resource answers and has Ready=True (False when unreachable)."""
    try:
        with KubeClients.from_kubeconfig(kubeconfig) as kube:
            custom = kubernetes.client.CustomObjectsApi(kube.api)
            obj: Any = await kube.call(
                custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                "clusters",
                name,
                _request_timeout=PROBE_TIMEOUT_S,
            )
    except Exception:  # any failure to answer means "not reachable": resume instead
        return False, ""
    for condition in (obj.get("status") or {}).get("conditions", []):
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return True, str(condition.get("message", ""))
    return False, ""
