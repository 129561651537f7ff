"""Server-side apply and delete of manifests of any kind, as field manager `azk`.

Server-side apply lets the apiserver merge: azk owns exactly the fields it sends, other managers (users,
controllers, HPAs) keep theirs, and re-applying an identical manifest is a no-op that does not even change
`resourceVersion` — so a converged cluster sends applies that write nothing. `force_conflicts=True` takes
ownership of fields another manager set (what an installer that owns its objects wants); without it a
conflict is an error that names the field and its manager.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kubernetes

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.discovery import ApiResource, UnknownKindError
from azk_operator.kube.manifests import ManifestSource, ObjectRef, load_manifests, object_ref
from azk_operator.kube.rest import APPLY_PATCH

FIELD_MANAGER = "azk"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppliedObject:
    ref: ObjectRef
    uid: str
    resource_version: str


@dataclass(frozen=True)
class DeletedObject:
    ref: ObjectRef
    existed: bool  # False: it was already gone (or its kind is no longer served), which is success too


async def apply_manifests(
    clients: KubeClients,
    source: ManifestSource,
    *,
    default_namespace: str | None = None,
    force_conflicts: bool = False,
    field_manager: str = FIELD_MANAGER,
) -> list[AppliedObject]:
    """Apply every object in `source`, in order (put CRDs and Namespaces before what needs them)."""
    applied = []
    for manifest in load_manifests(source):
        resource = await clients.discovery.resolve(manifest["apiVersion"], manifest["kind"])
        ref = _scoped_ref(manifest, resource, default_namespace)
        body = _with_namespace(manifest, ref.namespace)
        query = [("fieldManager", field_manager)]
        if force_conflicts:
            query.append(("force", "true"))
        result = await clients.call(
            clients.rest.request,
            "PATCH",
            resource.path(ref.name, ref.namespace),
            query=query,
            body=body,
            content_type=APPLY_PATCH,
        )
        metadata = result["metadata"]
        applied.append(AppliedObject(ref, metadata["uid"], metadata["resourceVersion"]))
        logger.debug("applied %s (resourceVersion %s)", ref, metadata["resourceVersion"])
    return applied


async def delete_manifests(
    clients: KubeClients,
    source: ManifestSource,
    *,
    default_namespace: str | None = None,
    propagation_policy: str = "Background",
) -> list[DeletedObject]:
    """Delete every object in `source`, in reverse order (dependents before what they depend on).

    Deletion is requested, not awaited: objects with finalizers may linger. An object already gone, or a
    kind the apiserver no longer serves (its CRD was removed), counts as deleted.
    """
    deleted = []
    for manifest in reversed(load_manifests(source)):
        try:
            resource = await clients.discovery.resolve(manifest["apiVersion"], manifest["kind"])
        except UnknownKindError:
            deleted.append(DeletedObject(object_ref(manifest, default_namespace), existed=False))
            continue
        ref = _scoped_ref(manifest, resource, default_namespace)
        try:
            await clients.call(
                clients.rest.request,
                "DELETE",
                resource.path(ref.name, ref.namespace),
                body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation_policy},
            )
        except kubernetes.client.ApiException as exc:
            if exc.status != 404:
                raise
            deleted.append(DeletedObject(ref, existed=False))
            continue
        deleted.append(DeletedObject(ref, existed=True))
        logger.debug("deleted %s", ref)
    return deleted


def _scoped_ref(
    manifest: Mapping[str, Any], resource: ApiResource, default_namespace: str | None
) -> ObjectRef:
    ref = object_ref(manifest, default_namespace)
    if not resource.namespaced:
        return ObjectRef(ref.api_version, ref.kind, ref.name, None)
    if not ref.namespace:
        raise ValueError(f"{ref}: {ref.kind} is namespaced and neither the manifest nor the caller names one")
    return ref


def _with_namespace(manifest: Mapping[str, Any], namespace: str | None) -> dict[str, Any]:
    body = dict(manifest)
    if namespace:
        body["metadata"] = {**manifest["metadata"], "namespace": namespace}
    return body
