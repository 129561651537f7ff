"""A cluster's base infrastructure as a plan of steps with dependencies.

    ResourceGroup ─┬─ ControlPlaneSecurityGroup ─┐
                   ├─ NodeSecurityGroup ─────────┼─ VirtualNetwork (subnets refer to the groups/table)
                   ├─ NodeRouteTable ────────────┘
                   └─ ApiServerPublicIP ──────────── ApiServerLoadBalancer (frontend on the public IP)

One ``reconcile()`` call advances every step as far as it can without waiting: a step starts as soon as its
dependencies are Ready (in the same call), independent steps run concurrently, and a step whose operation is
running reports "in progress" with its continuation token. Nothing else is created: this is all a cluster
needs before its first control-plane VM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from azk_operator.azure import naming
from azk_operator.azure.clients import SubscriptionClients
from azk_operator.azure.results import StepResult, StepState
from azk_operator.azure.services.base import ManagedResource
from azk_operator.azure.services.load_balancer import FrontendSpec, LoadBalancer, ProbeSpec, RuleSpec
from azk_operator.azure.services.network_security_group import NetworkSecurityGroup, SecurityRuleSpec
from azk_operator.azure.services.public_ip import PublicAddress, PublicIp
from azk_operator.azure.services.resource_group import ResourceGroup
from azk_operator.azure.services.route_table import RouteTable
from azk_operator.azure.services.virtual_network import SubnetSpec, VirtualNetwork
from azk_operator.azure.tags import is_owned

RESOURCE_GROUP = "ResourceGroup"
CONTROL_PLANE_NSG = "ControlPlaneSecurityGroup"
NODE_NSG = "NodeSecurityGroup"
NODE_ROUTE_TABLE = "NodeRouteTable"
VIRTUAL_NETWORK = "VirtualNetwork"
APISERVER_PUBLIC_IP = "ApiServerPublicIP"
APISERVER_LOAD_BALANCER = "ApiServerLoadBalancer"

# Condition type → the steps it summarises.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "ResourceGroupReady": (RESOURCE_GROUP,),
    "NetworkReady": (CONTROL_PLANE_NSG, NODE_NSG, NODE_ROUTE_TABLE, VIRTUAL_NETWORK),
    "LoadBalancerReady": (APISERVER_PUBLIC_IP, APISERVER_LOAD_BALANCER),
}
DEPENDENCIES: dict[str, tuple[str, ...]] = {
    RESOURCE_GROUP: (),
    CONTROL_PLANE_NSG: (RESOURCE_GROUP,),
    NODE_NSG: (RESOURCE_GROUP,),
    NODE_ROUTE_TABLE: (RESOURCE_GROUP,),
    APISERVER_PUBLIC_IP: (RESOURCE_GROUP,),
    VIRTUAL_NETWORK: (CONTROL_PLANE_NSG, NODE_NSG, NODE_ROUTE_TABLE),
    APISERVER_LOAD_BALANCER: (APISERVER_PUBLIC_IP,),
}
# ARM resource type of each step (what a latency profile or the request counters call it).
RESOURCE_TYPES: dict[str, str] = {
    RESOURCE_GROUP: "Microsoft.Resources/resourceGroups",
    CONTROL_PLANE_NSG: "Microsoft.Network/networkSecurityGroups",
    NODE_NSG: "Microsoft.Network/networkSecurityGroups",
    NODE_ROUTE_TABLE: "Microsoft.Network/routeTables",
    APISERVER_PUBLIC_IP: "Microsoft.Network/publicIPAddresses",
    VIRTUAL_NETWORK: "Microsoft.Network/virtualNetworks",
    APISERVER_LOAD_BALANCER: "Microsoft.Network/loadBalancers",
}


@dataclass(frozen=True)
class BaseInfraSpec:
    """What the plan needs to know; the Cluster controller maps ``Cluster.spec`` onto it."""

    cluster: str
    subscription_id: str
    resource_group: str
    location: str
    vnet_cidr: str = "10.0.0.0/16"
    control_plane_subnet_cidr: str = "10.0.0.0/24"
    node_subnet_cidr: str = "10.0.64.0/18"
    apiserver_allowed_cidrs: tuple[str, ...] = ("0.0.0.0/0",)
    dns_prefix: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Condition:
    type: str
    status: bool
    reason: str
    message: str


@dataclass(frozen=True)
class InfraStatus:
    """Every step's result, in plan order, plus what a controller keeps and shows."""

    steps: tuple[StepResult, ...]
    operation: str  # "write" or "delete": which kind of operation ``tokens`` follow

    def step(self, name: str) -> StepResult:
        return next(result for result in self.steps if result.name == name)

    @property
    def done(self) -> bool:
        return all(result.done for result in self.steps)

    @property
    def failed(self) -> tuple[StepResult, ...]:
        return tuple(result for result in self.steps if result.state is StepState.FAILED)

    @property
    def retry_after(self) -> float | None:
        delays = [result.retry_after for result in self.steps if result.retry_after is not None]
        return min(delays) if delays else None

    @property
    def tokens(self) -> dict[str, str]:
        """Continuation tokens to keep (e.g. in status) and pass to the next call of the same kind."""
        return {f"{self.operation}/{r.name}": r.token for r in self.steps if r.token is not None}

    def conditions(self) -> list[Condition]:
        result = []
        for condition, names in CONDITIONS.items():
            members = [self.step(name) for name in names]
            pending = [member for member in members if not member.done]
            if not pending:
                result.append(Condition(condition, True, "Succeeded", ""))
                continue
            first = next((m for m in pending if m.state is StepState.FAILED), pending[0])
            message = f"{first.name}: {first.message}" if first.message else first.name
            result.append(Condition(condition, False, first.reason, message))
        return result


class BaseInfrastructure:
    def __init__(self, clients: SubscriptionClients, spec: BaseInfraSpec) -> None:
        if clients.subscription_id.lower() != spec.subscription_id.lower():
            raise ValueError("clients and spec name different subscriptions")
        self.spec = spec
        self.names = naming.ClusterNames(spec.cluster)
        cluster, group, location, tags = spec.cluster, spec.resource_group, spec.location, spec.tags
        names = self.names
        self.resource_group = ResourceGroup(
            clients,
            name=spec.resource_group,
            location=spec.location,
            step=RESOURCE_GROUP,
            cluster=cluster,
            tags=tags,
        )
        self.control_plane_nsg = NetworkSecurityGroup(
            clients,
            name=names.control_plane_nsg,
            rules=[
                SecurityRuleSpec(
                    name=naming.APISERVER_NSG_RULE,
                    priority=100,
                    direction="Inbound",
                    access="Allow",
                    protocol="Tcp",
                    source_address_prefixes=spec.apiserver_allowed_cidrs,
                    destination_port_ranges=(str(naming.APISERVER_PORT),),
                    description="Kubernetes API server",
                )
            ],
            step=CONTROL_PLANE_NSG,
            cluster=cluster,
            resource_group=group,
            location=location,
            tags=tags,
        )
        self.node_nsg = NetworkSecurityGroup(
            clients,
            name=names.node_nsg,
            step=NODE_NSG,
            cluster=cluster,
            resource_group=group,
            location=location,
            tags=tags,
        )
        self.route_table = RouteTable(
            clients,
            name=names.node_route_table,
            step=NODE_ROUTE_TABLE,
            cluster=cluster,
            resource_group=group,
            location=location,
            tags=tags,
        )
        self.public_ip = PublicIp(
            clients,
            name=names.apiserver_public_ip,
            dns_label=spec.dns_prefix,
            step=APISERVER_PUBLIC_IP,
            cluster=cluster,
            resource_group=group,
            location=location,
            tags=tags,
        )
        network_id = self._id("Microsoft.Network/networkSecurityGroups", names.control_plane_nsg)
        self.virtual_network = VirtualNetwork(
            clients,
            name=names.virtual_network,
            address_prefixes=[spec.vnet_cidr],
            subnets=[
                SubnetSpec(naming.CONTROL_PLANE_SUBNET, spec.control_plane_subnet_cidr, network_id),
                SubnetSpec(
                    naming.NODE_SUBNET,
                    spec.node_subnet_cidr,
                    self._id("Microsoft.Network/networkSecurityGroups", names.node_nsg),
                    self._id("Microsoft.Network/routeTables", names.node_route_table),
                ),
            ],
            step=VIRTUAL_NETWORK,
            cluster=cluster,
            resource_group=group,
            location=location,
            tags=tags,
        )
        port = naming.APISERVER_PORT
        self.load_balancer = LoadBalancer(
            clients,
            name=names.apiserver_load_balancer,
            frontends=[
                FrontendSpec(
                    naming.APISERVER_FRONTEND,
                    self._id("Microsoft.Network/publicIPAddresses", names.apiserver_public_ip),
                )
            ],
            backend_pools=[naming.CONTROL_PLANE_BACKEND_POOL],
            probes=[ProbeSpec(naming.APISERVER_PROBE, port)],
            rules=[
                RuleSpec(
                    naming.APISERVER_RULE,
                    naming.APISERVER_FRONTEND,
                    naming.CONTROL_PLANE_BACKEND_POOL,
                    naming.APISERVER_PROBE,
                    port,
                    port,
                )
            ],
            step=APISERVER_LOAD_BALANCER,
            cluster=cluster,
            resource_group=group,
            location=location,
            tags=tags,
        )
        self.steps: dict[str, ManagedResource[object]] = {
            RESOURCE_GROUP: self.resource_group,  # type: ignore[dict-item]
            CONTROL_PLANE_NSG: self.control_plane_nsg,  # type: ignore[dict-item]
            NODE_NSG: self.node_nsg,  # type: ignore[dict-item]
            NODE_ROUTE_TABLE: self.route_table,  # type: ignore[dict-item]
            APISERVER_PUBLIC_IP: self.public_ip,  # type: ignore[dict-item]
            VIRTUAL_NETWORK: self.virtual_network,  # type: ignore[dict-item]
            APISERVER_LOAD_BALANCER: self.load_balancer,  # type: ignore[dict-item]
        }

    def _id(self, provider_type: str, name: str) -> str:
        return naming.resource_id(self.spec.subscription_id, self.spec.resource_group, provider_type, name)

    # --- ids later steps (VMs, scale sets) refer to ------------------------------------------------------
    @property
    def control_plane_subnet_id(self) -> str:
        return self.virtual_network.subnet_id(naming.CONTROL_PLANE_SUBNET)

    @property
    def node_subnet_id(self) -> str:
        return self.virtual_network.subnet_id(naming.NODE_SUBNET)

    @property
    def control_plane_backend_pool_id(self) -> str:
        return self.load_balancer.backend_pool_id(naming.CONTROL_PLANE_BACKEND_POOL)

    async def apiserver_address(self) -> PublicAddress | None:
        return await self.public_ip.address()

    # --- reconcile and delete -------------------------------------------------------------------------------
    async def reconcile(
        self, tokens: Mapping[str, str] | None = None, *, settled: Mapping[str, StepResult] | None = None
    ) -> InfraStatus:
        """Advance every step once; dependents start in this same call when their dependencies get Ready.

        ``settled`` holds results a caller saw Ready earlier in the same convergence (see ``drive``): those
        steps are not read again. An operator handler passes nothing, so every call re-checks for drift.
        """
        tokens = tokens or {}
        settled = settled or {}

        async def reconcile_step(name: str) -> StepResult:
            if name in settled:
                return settled[name]
            return await self.steps[name].reconcile(tokens.get(f"write/{name}"))

        results = await run_steps(
            DEPENDENCIES, reconcile_step, blocked_by=lambda result: result.state is not StepState.READY
        )
        return InfraStatus(tuple(results[name] for name in DEPENDENCIES), "write")

    async def delete(
        self, tokens: Mapping[str, str] | None = None, *, settled: Mapping[str, StepResult] | None = None
    ) -> InfraStatus:
        """Delete what azk owns: the whole group if azk made it, else its own resources in reverse order."""
        tokens = tokens or {}
        settled = settled or {}
        group_token = tokens.get(f"delete/{RESOURCE_GROUP}")
        if group_token is None:
            observed = await self.resource_group.observe()
            if isinstance(observed, StepResult):
                return self._same_for_all(observed)
            if observed is None:
                return self._same_for_all(StepResult.deleted(RESOURCE_GROUP))
            group_owned = is_owned(observed.tags, self.spec.cluster)
        else:
            group_owned = True
        if group_owned:
            return self._same_for_all(await self.resource_group.delete(group_token))

        dependents = {
            name: tuple(d for d, deps in DEPENDENCIES.items() if name in deps) for name in DEPENDENCIES
        }
        dependents[RESOURCE_GROUP] = ()

        async def delete_step(name: str) -> StepResult:
            if name in settled:
                return settled[name]
            if name == RESOURCE_GROUP:
                return StepResult.deleted(RESOURCE_GROUP, "resource group is not owned by azk; left in place")
            return await self.steps[name].delete(tokens.get(f"delete/{name}"))

        results = await run_steps(
            dependents, delete_step, blocked_by=lambda result: result.state is not StepState.DELETED
        )
        return InfraStatus(tuple(results[name] for name in DEPENDENCIES), "delete")

    def _same_for_all(self, group: StepResult) -> InfraStatus:
        """A group-level outcome (deleting the whole group, or a failed read of it) applies to every step."""
        steps = [group] + [
            StepResult(name, group.state, group.reason, group.message, None, group.retry_after)
            for name in DEPENDENCIES
            if name != RESOURCE_GROUP
        ]
        return InfraStatus(tuple(steps), "delete")


async def run_steps(
    dependencies: Mapping[str, Sequence[str]],
    run: Callable[[str], Awaitable[StepResult]],
    *,
    blocked_by: Callable[[StepResult], bool],
) -> dict[str, StepResult]:
    """Run every step as soon as all of its dependencies finished unblocked; all independent steps at once.

    A step's ``retry_after`` counts from when its answer arrived; the results' delays are re-based on the
    end of the whole call, so a caller sleeping ``retry_after`` wakes up when Azure said, not later.
    """
    tasks: dict[str, asyncio.Task[StepResult]] = {}
    answered_at: dict[str, float] = {}

    async def step(name: str) -> StepResult:
        upstream = [await tasks[dependency] for dependency in dependencies[name]]
        blockers = [result for result in upstream if blocked_by(result)]
        if blockers:
            delays = [result.retry_after for result in blockers if result.retry_after is not None]
            return StepResult.in_progress(
                name,
                "WaitingForDependency",
                min(delays) if delays else 0.0,
                message="waiting for " + ", ".join(result.name for result in blockers),
            )
        result = await run(name)
        answered_at[name] = time.monotonic()
        return result

    for name in dependencies:
        tasks[name] = asyncio.ensure_future(step(name))
    await asyncio.gather(*tasks.values())
    end = time.monotonic()
    results = {name: task.result() for name, task in tasks.items()}
    return {
        name: dataclasses.replace(result, retry_after=max(0.0, answered_at[name] + result.retry_after - end))
        if result.retry_after is not None and name in answered_at
        else result
        for name, result in results.items()
    }


class Advance(Protocol):
    def __call__(
        self, tokens: Mapping[str, str], *, settled: Mapping[str, StepResult]
    ) -> Awaitable[InfraStatus]: ...


async def drive(
    advance: Advance,
    *,
    within_s: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> InfraStatus:
    """Call ``advance`` (a plan's ``reconcile`` or ``delete``) until done or failed, sleeping as Azure asks.

    Steps found done stay settled for the rest of this convergence (no re-reads while others progress).

    For callers that may wait (the CLI bootstrap, tests, benchmarks); operator handlers instead return after
    one call with the status' ``retry_after`` as their delay.
    """
    deadline = clock() + within_s
    tokens: dict[str, str] = {}
    settled: dict[str, StepResult] = {}
    while True:
        status = await advance(tokens, settled=settled)
        if status.done or status.failed:
            return status
        tokens = status.tokens
        settled = {result.name: result for result in status.steps if result.done}
        delay = status.retry_after or 0.0
        if clock() + delay > deadline:
            return status
        await sleep(delay)
