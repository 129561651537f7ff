"""Server-side apply and delete-by-manifest against the real test control plane."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import kubernetes
import pytest
import yaml

from azk_operator.kube.apply import FIELD_MANAGER, apply_manifests, delete_manifests
from azk_operator.kube.clients import KubeClients
from azk_operator.kube.discovery import UnknownKindError


def gadget_crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                            },
                        }
                    },
                }
            ],
        },
    }


async def until_established(clients: KubeClients, name: str) -> str:
    """Wait for the CRD to be Established; its resourceVersion then."""
    ext = kubernetes.client.ApiextensionsV1Api(clients.api)
    for _ in range(150):
        crd = await clients.call(ext.read_custom_resource_definition, name)
        if any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or []):
            version: str = crd.metadata.resource_version
            return version
        await asyncio.sleep(0.1)
    raise AssertionError(f"CRD {name} not Established")


async def test_configmap_create_update_and_identical_reapply_writes_nothing(
    kube_clients: KubeClients, namespace: str
) -> None:
    manifest = f"""
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {namespace}
data:
  mode: a
---
"""
    [created] = await apply_manifests(kube_clients, manifest)
    [again] = await apply_manifests(kube_clients, manifest)
    assert again.resource_version == created.resource_version
    assert again.uid == created.uid

    [updated] = await apply_manifests(kube_clients, manifest.replace("mode: a", "mode: b"))
    assert updated.resource_version != created.resource_version
    stored = kube_clients.core.read_namespaced_config_map("settings", namespace)
    assert stored.data == {"mode": "b"}
    assert {m.manager for m in stored.metadata.managed_fields} == {FIELD_MANAGER}


async def test_apply_only_owns_the_fields_it_sends_and_force_takes_over_conflicts(
    kube_clients: KubeClients, namespace: str
) -> None:
    mine = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"mode": "a"}}
    await apply_manifests(kube_clients, mine, default_namespace=namespace)
    theirs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"extra": "x"}}
    await apply_manifests(kube_clients, theirs, default_namespace=namespace, field_manager="someone-else")
    assert kube_clients.core.read_namespaced_config_map("shared", namespace).data == {
        "mode": "a",
        "extra": "x",
    }

    contested = {**theirs, "data": {"extra": "mine now"}}
    with pytest.raises(kubernetes.client.ApiException) as conflict:
        await apply_manifests(kube_clients, contested, default_namespace=namespace)
    assert conflict.value.status == 409
    assert "someone-else" in conflict.value.body

    await apply_manifests(kube_clients, contested, default_namespace=namespace, force_conflicts=True)
    stored = kube_clients.core.read_namespaced_config_map("shared", namespace)
    # The forced apply owns `extra` now; `mode` left azk's set (this manifest omits it), so it is removed.
    assert stored.data == {"extra": "mine now"}


async def test_crd_create_update_noop_then_its_kind_applies_and_deletes(
    kube_clients: KubeClients, namespace: str
) -> None:
    group = f"g{uuid.uuid4().hex[:8]}.test.azk.io"
    crd = gadget_crd(group)
    gadget = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g1"}, "spec": {"size": 2}}
    # Resolve the kind before the CRD exists: the discovery cache must not remember the miss.
    with pytest.raises(UnknownKindError):
        await apply_manifests(kube_clients, gadget, default_namespace=namespace)
    try:
        await apply_manifests(kube_clients, yaml.safe_dump(crd))
        # The apiextensions controllers write the CRD's status (NamesAccepted, Established) after create;
        # compare against the settled object, as a converged operator would see it.
        settled = await until_established(kube_clients, f"gadgets.{group}")
        [same] = await apply_manifests(kube_clients, crd)
        assert same.resource_version == settled

        crd["spec"]["names"]["shortNames"] = ["gdg"]
        [updated] = await apply_manifests(kube_clients, crd)
        assert updated.resource_version != settled

        [applied] = await apply_manifests(kube_clients, gadget, default_namespace=namespace)
        custom = kubernetes.client.CustomObjectsApi(kube_clients.api)
        stored = custom.get_namespaced_custom_object(group, "v1", namespace, "gadgets", "g1")
        assert stored["spec"] == {"size": 2}
        assert stored["metadata"]["resourceVersion"] == applied.resource_version

        [deleted] = await delete_manifests(kube_clients, gadget, default_namespace=namespace)
        assert deleted.existed
        with pytest.raises(kubernetes.client.ApiException) as gone:
            custom.get_namespaced_custom_object(group, "v1", namespace, "gadgets", "g1")
        assert gone.value.status == 404
        [again] = await delete_manifests(kube_clients, gadget, default_namespace=namespace)
        assert not again.existed
    finally:
        results = await delete_manifests(kube_clients, crd)
    assert [r.existed for r in results] == [True]


async def test_delete_by_manifest_goes_in_reverse_order_and_tolerates_missing_objects(
    kube_clients: KubeClients, namespace: str
) -> None:
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "second"}, "stringData": {"k": "v"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "never-applied"}},
    ]
    await apply_manifests(kube_clients, objects[:2], default_namespace=namespace)
    deleted = await delete_manifests(kube_clients, objects, default_namespace=namespace)
    assert [(d.ref.name, d.existed) for d in deleted] == [
        ("never-applied", False),
        ("second", True),
        ("first", True),
    ]
    assert (
        kube_clients.core.list_namespaced_config_map(namespace, field_selector="metadata.name=first").items
        == []
    )


async def test_namespaced_kind_without_a_namespace_is_refused_before_any_call(
    kube_clients: KubeClients,
) -> None:
    with pytest.raises(ValueError, match="namespaced"):
        await apply_manifests(
            kube_clients, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
        )
