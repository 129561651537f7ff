"""One typed holder for the Kubernetes clients every actuator in `azk_operator.kube` uses.

How calls are made without blocking kopf's event loop: the official `kubernetes` client is synchronous
(urllib3), so every wire call goes through `KubeClients.call`, which runs it in the default thread pool with
`asyncio.to_thread`. The generated API objects share one `ApiClient`, whose urllib3 pool manager is safe to
use from several threads at once. We do not use kopf's internal API helpers (not a public contract) and do
not add an asyncio Kubernetes client: one client library for the CLI (sync) and the operator (async).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import ParamSpec, TypeVar

import kubernetes

from azk_operator.kube.discovery import ResourceDiscovery
from azk_operator.kube.rest import RestCaller

P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class KubeClients:
    """The API groups azk's actuators talk to, over one connection pool, plus a discovery cache."""

    api: kubernetes.client.ApiClient
    core: kubernetes.client.CoreV1Api = field(init=False)
    policy: kubernetes.client.PolicyV1Api = field(init=False)
    rest: RestCaller = field(init=False)
    discovery: ResourceDiscovery = field(init=False)

    def __post_init__(self) -> None:
        self.core = kubernetes.client.CoreV1Api(self.api)
        self.policy = kubernetes.client.PolicyV1Api(self.api)
        self.rest = RestCaller(self.api)
        self.discovery = ResourceDiscovery(self.rest, self.call)

    @classmethod
    def from_kubeconfig(cls, path: Path, context: str | None = None) -> KubeClients:
        """Clients for `context` (default: current-context) of the kubeconfig at `path`.

        `persist_config=False`: refreshed credentials are never written back into the user's file.
        """
        api = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(path), context=context, persist_config=False
        )
        return cls(api)

    @classmethod
    def in_cluster(cls) -> KubeClients:
        """Clients for the operator's own service account (token and CA mounted into its Pod)."""
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_incluster_config(  # type: ignore[no-untyped-call]
            client_configuration=configuration
        )
        return cls(kubernetes.client.ApiClient(configuration))

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one blocking client call in a worker thread, so the event loop keeps serving handlers."""
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]

    def __enter__(self) -> KubeClients:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
