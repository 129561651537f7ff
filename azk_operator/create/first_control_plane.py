"""The steps of `azk create` that run before the cluster exists: base network and the first control plane.

They use the Azure layer's plan and the NodeSet controller's own scale-set code, so the first control-plane
VM is made exactly as the operator later makes every other one; the only difference is that its document
runs `kubeadm init`. Each step is idempotent: a re-run after an interruption continues where it stopped.
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
import time
from dataclasses import dataclass

import aiohttp

from azk_operator.api.cluster import Cluster
from azk_operator.api.nodeset import NodeSet
from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.infra import BaseInfrastructure, drive
from azk_operator.bootstrap.pki import ClusterPKI
from azk_operator.bootstrap.tokens import BootstrapToken
from azk_operator.controllers.context import ClusterContext
from azk_operator.controllers.nodeset import ensure_scale_set
from azk_operator.planner.cluster_infra import base_infra_spec
from azk_operator.planner.control_plane import control_plane_nodeset

APISERVER_PORT = 6443


class CreateStepFailed(RuntimeError):
    """A create step ended in a terminal Azure error or timed out; the message names the step."""


@dataclass(frozen=True)
class FirstControlPlane:
    endpoint: str
    """host:port of the API load balancer."""
    server: str
    """https://host:port, for kubeconfigs."""


async def build_base_infrastructure(azure: AzureClientFactory, cluster: Cluster, within_s: float) -> str:
    """Create (or find) the resource group, network and API load balancer; return the endpoint host:port."""
    name = cluster.metadata.name or ""
    plan = BaseInfrastructure(
        azure.subscription(cluster.spec.azure.subscription_id), base_infra_spec(name, cluster.spec)
    )
    status = await drive(plan.reconcile, within_s=within_s)
    if status.failed:
        first = status.failed[0]
        raise CreateStepFailed(f"{first.name}: {first.reason}: {first.message}")
    if not status.done:
        raise CreateStepFailed(f"base infrastructure not ready within {within_s:.0f} s")
    address = await plan.apiserver_address()
    if address is None or not address.ip_address:
        raise CreateStepFailed("the API public IP has no address")
    return f"{address.ip_address}:{APISERVER_PORT}"


async def boot_first_control_plane(
    azure: AzureClientFactory,
    cluster: Cluster,
    endpoint: str,
    pki: ClusterPKI,
    token: BootstrapToken,
    token_expires: datetime.datetime,
    within_s: float,
) -> FirstControlPlane:
    """Create the control-plane scale set with one VM running `kubeadm init`; wait for its API server."""
    name = cluster.metadata.name or ""
    namespace = cluster.metadata.namespace or "default"
    context = ClusterContext(
        name=name,
        namespace=namespace,
        uid="",
        spec=cluster.spec,
        endpoint=endpoint,
        pki=pki,
        token=token,
        token_expires=token_expires,
    )
    manifest = control_plane_nodeset(name, namespace, "", cluster.spec)
    manifest["spec"]["replicas"] = 1
    del manifest["metadata"]["ownerReferences"]
    nodeset = NodeSet.model_validate(manifest)
    clients = azure.subscription(cluster.spec.azure.subscription_id)
    deadline = time.monotonic() + within_s
    operation: str | None = None
    while True:
        result = await ensure_scale_set(clients, context, nodeset, first_control_plane=True, token=operation)
        if result.done:
            break
        if result.state.name == "FAILED":
            raise CreateStepFailed(f"control-plane scale set: {result.reason}: {result.message}")
        if time.monotonic() > deadline:
            raise CreateStepFailed(f"control-plane scale set not ready within {within_s:.0f} s")
        operation = result.token or operation
        await asyncio.sleep(result.retry_after or 1.0)
    server = f"https://{endpoint}"
    await wait_for_apiserver(server, pki.ca.cert_pem, deadline - time.monotonic())
    return FirstControlPlane(endpoint=endpoint, server=server)


async def wait_for_apiserver(server: str, ca_pem: bytes, within_s: float) -> None:
    """Poll /readyz until the API server answers, trusting only the cluster's CA."""
    context = ssl.create_default_context(cadata=ca_pem.decode())
    deadline = time.monotonic() + max(within_s, 1.0)
    last = "no answer"
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(
                    f"{server}/readyz", ssl=context, timeout=aiohttp.ClientTimeout(total=5)
                ) as r:
                    # An apiserver that refuses anonymous requests (401/403) still proves it serves.
                    if r.status in (200, 401, 403):
                        return
                    last = f"HTTP {r.status}"
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                last = type(error).__name__
            await asyncio.sleep(1.0)
    raise CreateStepFailed(f"API server at {server} not answering within {within_s:.0f} s ({last})")
