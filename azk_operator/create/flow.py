"""`azk create` from start to a Ready cluster, as an ordered list of idempotent steps.

Every step finds what an earlier (interrupted) run left and continues from there: the PKI and first token
come from the cluster's home folder, Azure resources are compared before any write, manifests are
server-side applied. So Ctrl-C at any point leaves a state the next run resumes, with the same CA.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import kubernetes

from azk_operator.api.crdgen import crds
from azk_operator.api.meta import GROUP, VERSION
from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.settings import AzureSettings
from azk_operator.bootstrap.kubeconfig import super_admin_kubeconfig
from azk_operator.create.checks import check_offer
from azk_operator.create.first_control_plane import boot_first_control_plane, build_base_infrastructure
from azk_operator.create.home import ClusterHome
from azk_operator.create.install import (
    install_azure_credentials,
    install_crds,
    install_operator,
    install_resources,
    install_secrets,
)
from azk_operator.create.lookup import Found, find_cluster
from azk_operator.create.request import CreateRequest, InvalidInput
from azk_operator.kube.clients import KubeClients

STEPS = (
    "lookup",
    "checks",
    "pki",
    "base-infrastructure",
    "first-control-plane",
    "kubeconfig",
    "crds",
    "operator",
    "secrets",
    "resources",
    "ready",
)
OPERATOR_SECRET_ENV = "AZK_OPERATOR_CLIENT_SECRET"  # noqa: S105 (the variable's name)
# Reasons the operator reports that no amount of waiting fixes: stop following and say so.
TERMINAL_REASONS = frozenset(
    {
        "QuotaExceeded",
        "OperationNotAllowed",
        "AuthorizationFailed",
        "InvalidParameter",
        "LocationUnknown",
        "VmSizeUnknown",
        "VmSizeNotOffered",
        "ZoneNotOffered",
        "ImageUnsupported",
        "NodeStartupTimeout",
    }
)


class CreateFailed(RuntimeError):
    """The cluster did not become Ready; the message names the failing condition or step."""


@dataclass(frozen=True)
class ConditionRow:
    resource: str
    type: str
    status: str
    reason: str
    message: str


class Progress(Protocol):
    def step(self, name: str, message: str) -> None: ...

    def conditions(self, rows: list[ConditionRow]) -> None: ...


@dataclass(frozen=True)
class Timeouts:
    infrastructure_s: float = 900.0
    control_plane_s: float = 1200.0
    ready_s: float = 1800.0
    poll_s: float = 2.0


@dataclass(frozen=True)
class CreateResult:
    already_ready: bool
    kubeconfig: str
    endpoint: str
    message: str


def operator_credentials(request: CreateRequest, settings: AzureSettings) -> dict[str, str] | None:
    """The service principal handed to the operator, or None for workload/managed identity.

    Raises InvalidInput (before any Azure call) when a service principal is asked for without a secret.
    """
    if request.options.identity != "ServicePrincipal":
        return None
    secret = os.environ.get(OPERATOR_SECRET_ENV) or (
        settings.client_secret.reveal() if settings.client_secret else None
    )
    if not secret:
        raise InvalidInput(
            [
                f"--identity: ServicePrincipal needs the operator's client secret in {OPERATOR_SECRET_ENV} "
                "or AZURE_CLIENT_SECRET"
            ]
        )
    identity = request.cluster.spec.azure.identity
    return {
        "client-id": identity.client_id or "",
        "tenant-id": identity.tenant_id or "",
        "client-secret": secret,
        "subscription-id": request.cluster.spec.azure.subscription_id,
    }


async def create_cluster(
    request: CreateRequest,
    settings: AzureSettings,
    home: ClusterHome,
    progress: Progress,
    *,
    local: bool = False,
    timeouts: Timeouts | None = None,
    on_step: Callable[[str], None] | None = None,
) -> CreateResult:
    """Run (or resume) the create; returns when the cluster and its worker pool are Ready."""
    timeouts = timeouts or Timeouts()
    credentials = operator_credentials(request, settings)
    cluster = request.cluster
    name, namespace = request.name, request.namespace

    def enter(step: str, message: str) -> None:
        if on_step is not None:
            on_step(step)
        progress.step(step, message)

    async with AzureClientFactory(settings) as azure:
        enter("lookup", f"looking for cluster {name} in resource group {cluster.spec.azure.resource_group}")
        found = await find_cluster(azure, request, home)
        if found.found is Found.READY:
            kubeconfig = home.kubeconfig()
            return CreateResult(
                True, str(kubeconfig), home.settings().get("endpoint", ""), found.ready_message
            )
        enter("checks", f"checking location {cluster.spec.azure.location} and VM sizes")
        await check_offer(azure, request)
        resumed = found.found is Found.PARTIAL
        enter("pki", "resuming with the cluster's PKI" if resumed and home.pki() else "generating the PKI")
        pki = home.load_or_create_pki()
        token, expires = home.load_or_create_token()
        home.write_resources(list(request.manifests))
        home.write_settings({**home.settings(), "namespace": namespace, "local": local})
        enter("base-infrastructure", "resource group, network, API load balancer")
        endpoint = await build_base_infrastructure(azure, cluster, within_s=timeouts.infrastructure_s)
        home.write_settings({**home.settings(), "endpoint": f"https://{endpoint}"})
        enter("first-control-plane", f"first control-plane VM behind {endpoint}, waiting for its API server")
        first = await boot_first_control_plane(
            azure, cluster, endpoint, pki, token, expires, within_s=timeouts.control_plane_s
        )
    enter("kubeconfig", f"admin kubeconfig in {home.kubeconfig_path}")
    kubeconfig_path = home.kubeconfig()
    if kubeconfig_path is None or home.settings().get("kubeconfigServer") != first.server:
        admin = super_admin_kubeconfig(name, first.server, pki)
        home.write_kubeconfig(admin)
        home.write_settings({**home.settings(), "kubeconfigServer": first.server})
    admin_text = home.kubeconfig_path.read_text()
    with KubeClients.from_kubeconfig(home.kubeconfig_path) as kube:
        enter("crds", f"{len(crds())} azk CRDs and kopf's peering CRDs")
        await install_crds(kube)
        enter("operator", f"operator {request.options.operator_image} (2 replicas) in {namespace}")
        await install_operator(kube, namespace, request.options.operator_image)
        enter("secrets", "cluster PKI, admin kubeconfig, bootstrap token, Azure credentials")
        await install_secrets(kube, name, namespace, pki, token, expires, admin_text)
        if credentials is not None:
            await install_azure_credentials(kube, namespace, credentials)
        enter("resources", f"Cluster {name} and NodePool {request.options.pool_name}")
        await install_resources(kube, list(request.manifests), namespace)
        home.write_settings({**home.settings(), "operatorInstalled": True})
        enter("ready", "following the operator's conditions")
        message = await follow_until_ready(kube, request, progress, timeouts)
    return CreateResult(False, str(home.kubeconfig_path), first.server, message)


async def read_conditions(
    kube: KubeClients, namespace: str, resources: list[tuple[str, str, str]]
) -> list[ConditionRow]:
    """Conditions of (kind, plural, name) resources; a missing resource shows as Ready=Unknown."""
    custom = kubernetes.client.CustomObjectsApi(kube.api)
    rows: list[ConditionRow] = []
    for kind, plural, name in resources:
        try:
            obj: Any = await kube.call(
                custom.get_namespaced_custom_object, GROUP, VERSION, namespace, plural, name
            )
        except kubernetes.client.ApiException as error:
            if error.status != 404:
                raise
            rows.append(ConditionRow(f"{kind}/{name}", "Ready", "Unknown", "NotFound", "not created yet"))
            continue
        conditions = (obj.get("status") or {}).get("conditions") or []
        if not conditions:
            rows.append(ConditionRow(f"{kind}/{name}", "Ready", "Unknown", "Pending", "not reconciled yet"))
        for c in conditions:
            rows.append(
                ConditionRow(
                    f"{kind}/{name}",
                    str(c.get("type", "")),
                    str(c.get("status", "")),
                    str(c.get("reason", "")),
                    str(c.get("message", "")),
                )
            )
    return rows


async def follow_until_ready(
    kube: KubeClients, request: CreateRequest, progress: Progress, timeouts: Timeouts
) -> str:
    """Show the operator's conditions until the Cluster and its pool are Ready; raise CreateFailed else."""
    watched = [
        ("Cluster", "clusters", request.name),
        ("NodePool", "nodepools", request.options.pool_name),
    ]
    deadline = time.monotonic() + timeouts.ready_s
    rows: list[ConditionRow] = []
    while True:
        rows = await read_conditions(kube, request.namespace, watched)
        progress.conditions(rows)
        ready = [r for r in rows if r.type == "Ready" and r.status == "True"]
        if len(ready) == len(watched):
            return "; ".join(f"{r.resource}: {r.message}" for r in ready)
        terminal = next((r for r in rows if r.status != "True" and r.reason in TERMINAL_REASONS), None)
        if terminal is not None:
            raise CreateFailed(_describe(terminal))
        if time.monotonic() > deadline:
            raise CreateFailed(f"not Ready within {timeouts.ready_s:.0f} s: {_describe(_failing(rows))}")
        await asyncio.sleep(timeouts.poll_s)


def _failing(rows: list[ConditionRow]) -> ConditionRow:
    """The most specific condition that is not True (a step condition before the summary Ready)."""
    not_true = [r for r in rows if r.status != "True"]
    specific = [r for r in not_true if r.type != "Ready"]
    return (specific or not_true or rows)[0]


def _describe(row: ConditionRow) -> str:
    return f"{row.resource} {row.type}={row.status} ({row.reason}): {row.message}"
