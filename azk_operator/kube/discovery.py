"""Which REST resource serves a given apiVersion + kind, from the apiserver's discovery, cached.

Manifests name a kind (`ConfigMap`, `Cluster`); URLs need its plural resource name and scope. Discovery
answers per group-version (`/api/v1`, `/apis/<group>/<version>`); azk caches each answer for the life of
the client and asks again only when a kind is missing from it, which is exactly what happens right after a
CRD is installed (new kinds appear; existing kinds never change their plural or scope).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import kubernetes

from azk_operator.kube.rest import RestCaller

Caller = Callable[..., Awaitable[Any]]


class UnknownKindError(LookupError):
    """The apiserver serves no resource for this apiVersion and kind (CRD missing, or a typo)."""


@dataclass(frozen=True)
class ApiResource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, name: str | None = None, namespace: str | None = None) -> str:
        """The collection URL, or an object's URL when `name` is given."""
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced:
            if not namespace:
                raise ValueError(f"{self.kind} is namespaced: a namespace is required")
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


class ResourceDiscovery:
    def __init__(self, rest: RestCaller, call: Caller) -> None:
        self._rest = rest
        self._call = call
        self._by_group_version: dict[str, dict[str, ApiResource]] = {}

    async def resolve(self, api_version: str, kind: str) -> ApiResource:
        cached = self._by_group_version.get(api_version, {}).get(kind)
        if cached is not None:
            return cached
        fresh = await self._fetch(api_version)
        if kind not in fresh:
            raise UnknownKindError(f"the apiserver serves no kind {kind!r} in {api_version!r}")
        return fresh[kind]

    async def _fetch(self, api_version: str) -> dict[str, ApiResource]:
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{api_version}" if group else f"/api/{version}"
        try:
            listing = await self._call(self._rest.request, "GET", path)
        except kubernetes.client.ApiException as exc:
            if exc.status == 404:
                raise UnknownKindError(f"the apiserver does not serve {api_version!r}") from exc
            raise
        kinds = {
            entry["kind"]: ApiResource(
                group, version, entry["kind"], entry["name"], bool(entry["namespaced"])
            )
            for entry in listing.get("resources", [])
            if "/" not in entry["name"]  # subresources (pods/status, …) share their parent's kind
        }
        self._by_group_version[api_version] = kinds
        return kinds
