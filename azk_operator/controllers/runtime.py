"""Start the azk operator: a fresh registry, chosen settings and a Kubernetes login, until stopped.

Each run builds its own registry (rather than kopf's global one), so tests can run several operators in
one process — two replicas for peering, or an operator killed and started again.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kopf

from azk_operator.controllers.settings import operator_settings
from azk_operator.controllers.state import Timings
from azk_operator.kube.login import connection_from_kubeconfig


@dataclass(frozen=True)
class OperatorOptions:
    """What `azk operator run` was asked for."""

    kubeconfig: Path | None = None
    namespaces: tuple[str, ...] = ()
    clusterwide: bool = False
    peering: bool = True
    liveness_endpoint: str | None = None
    metrics_address: str | None = None
    """HOST:PORT of the Prometheus endpoint (GET /metrics); none when unset."""
    priority: int | None = None


def build_registry(options: OperatorOptions) -> kopf.OperatorRegistry:
    """A registry holding the login handler and every controller's handlers."""
    from azk_operator.controllers import handlers

    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        """The named kubeconfig, else in-cluster (service account), else the default kubeconfig."""
        if options.kubeconfig is not None:
            return connection_from_kubeconfig(options.kubeconfig)
        return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)

    handlers.register(registry, options.kubeconfig, metrics=options.metrics_address)
    return registry


async def run_operator(
    options: OperatorOptions,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """Run until `stop_flag` is set or the process is signalled (kopf handles SIGINT/SIGTERM)."""
    if not options.clusterwide and not options.namespaces:
        raise ValueError("--namespace or --all-namespaces is required")
    settings = operator_settings(
        peering=options.peering,
        clusterwide=options.clusterwide,
        priority=options.priority,
        peering_lifetime_s=Timings.from_env().peering_lifetime_s,
    )
    await kopf.operator(
        registry=build_registry(options),
        settings=settings,
        clusterwide=options.clusterwide,
        namespaces=list(options.namespaces),
        liveness_endpoint=options.liveness_endpoint,
        standalone=not options.peering,
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
