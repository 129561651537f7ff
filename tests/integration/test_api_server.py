"""The generated CRDs on the real kube-apiserver: install, accept the examples, reject bad objects (naming the
field, with the same messages as the models), default like the models, and work with kubectl."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import kubernetes
import pytest
from fixtures.api_objects import BAD_OBJECTS, EXAMPLES, BadObject, Manifest, example, node_set, valid
from fixtures.crds import CRD_DIR, Kubectl
from kubernetes.client import ApiClient, CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from azk_operator.api import GROUP, VERSION, AddonManager, Cluster, NodePool, NodeSet, set_condition
from azk_operator.api.cluster import ClusterStatus
from azk_operator.api.meta import Resource
from azk_operator.api.nodepool import NodePoolStatus

pytestmark = pytest.mark.usefixtures("azk_crds")

EXAMPLES_NAMESPACE = "azk-demo"  # the namespace examples/kustomization.yaml puts everything in
MODELS: dict[str, type[Resource]] = {
    "Cluster": Cluster,
    "NodePool": NodePool,
    "NodeSet": NodeSet,
    "AddonManager": AddonManager,
}


def create(api: ApiClient, namespace: str, obj: Manifest, *, dry_run: bool = False) -> Manifest:
    created: Manifest = CustomObjectsApi(api).create_namespaced_custom_object(  # type: ignore[assignment]
        GROUP,
        VERSION,
        namespace,
        MODELS[obj["kind"]].plural,
        obj,
        dry_run="All" if dry_run else None,
        field_validation="Strict",
    )
    return created


def get(api: ApiClient, namespace: str, kind: str, name: str) -> Manifest:
    found: Manifest = CustomObjectsApi(api).get_namespaced_custom_object(  # type: ignore[assignment]
        GROUP, VERSION, namespace, MODELS[kind].plural, name
    )
    return found


def test_every_crd_is_established(azk_crds: list[str], k8s_api: ApiClient) -> None:
    extensions = kubernetes.client.ApiextensionsV1Api(k8s_api)
    assert azk_crds == sorted(
        f"{plural}.engine.azk.io" for plural in ("clusters", "nodesets", "nodepools", "addonmanagers")
    )
    for name in azk_crds:
        status = extensions.read_custom_resource_definition(name).status
        assert status is not None
        assert {c.type: c.status for c in status.conditions or []}.get("Established") == "True"


def test_crds_apply_without_warnings(kubectl: Kubectl) -> None:
    """No warning (unknown format, CEL cost close to the limit, ...) when the committed CRDs are applied."""
    applied = kubectl(
        "apply", "--server-side", "--force-conflicts", "--dry-run=server", f"--filename={CRD_DIR}"
    )
    assert applied.returncode == 0 and applied.stderr == "", applied.stderr


def test_examples_folder_applies_as_a_whole(kubectl: Kubectl) -> None:
    """What a GitOps tool does with examples/: kustomize it and apply every object."""
    created = kubectl("create", "namespace", EXAMPLES_NAMESPACE)
    assert created.returncode == 0, created.stderr
    try:
        applied = kubectl("apply", "--dry-run=server", f"--kustomize={EXAMPLES}")
        assert applied.returncode == 0, applied.stderr
        assert sorted(applied.stdout.splitlines()) == [
            "addonmanager.engine.azk.io/demo created (server dry run)",
            "cluster.engine.azk.io/demo created (server dry run)",
            "nodepool.engine.azk.io/workers created (server dry run)",
        ]
    finally:
        kubectl("delete", "namespace", EXAMPLES_NAMESPACE, "--wait=false")


@pytest.mark.parametrize("kind", ["Cluster", "NodePool", "AddonManager"])
def test_example_accepted_and_defaulted_like_the_model(kind: str, k8s_api: ApiClient, namespace: str) -> None:
    obj = example(kind)
    stored = create(k8s_api, namespace, obj)
    model = MODELS[kind]
    assert (
        model.model_validate(stored).to_manifest()["spec"] == model.model_validate(obj).to_manifest()["spec"]
    )


def test_minimal_cluster_defaulted_like_the_model(k8s_api: ApiClient, namespace: str) -> None:
    minimal = {
        "apiVersion": "engine.azk.io/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "minimal"},
        "spec": {
            "kubernetesVersion": "v1.37.2",
            "azure": {
                "subscriptionId": "6f1a3c2e-8b4d-4e5f-9a7b-0c1d2e3f4a5b",
                "resourceGroup": "minimal",
                "location": "westeurope",
                "identity": {"type": "ManagedIdentity"},
            },
        },
    }
    stored = create(k8s_api, namespace, minimal)
    # The server's object, taken as is, equals what the model makes of the minimal input.
    assert stored["spec"] == Cluster.model_validate(minimal).to_manifest()["spec"]


def _error_message(error: ApiException) -> str:
    message: str = json.loads(error.body or "{}")["message"]
    return message


def _rejection(case: BadObject, api: ApiClient, namespace: str) -> ApiException:
    bad = case.apply()
    with pytest.raises(ApiException) as caught:
        if case.update:
            created = create(api, namespace, valid(case.kind))
            bad["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
            CustomObjectsApi(api).replace_namespaced_custom_object(
                GROUP, VERSION, namespace, MODELS[case.kind].plural, bad["metadata"]["name"], bad,
                field_validation="Strict",
            )  # fmt: skip
        else:
            create(api, namespace, bad, dry_run=True)
    return caught.value


@pytest.mark.parametrize("case", BAD_OBJECTS, ids=lambda case: case.id)
def test_api_server_rejects_bad_object_naming_the_field(
    case: BadObject, k8s_api: ApiClient, namespace: str
) -> None:
    error = _rejection(case, k8s_api, namespace)
    assert error.status in (400, 422)
    message = _error_message(error)
    assert re.search(re.escape(case.field) + r'(: |")', message), message
    if case.message is not None:
        assert f"{case.message}" in message


def test_kubectl_get_azk_lists_all_four_kinds(k8s_api: ApiClient, namespace: str, kubectl: Kubectl) -> None:
    for obj in (example("Cluster"), example("NodePool"), example("AddonManager"), node_set()):
        create(k8s_api, namespace, obj)
    listed = kubectl("get", "azk", f"--namespace={namespace}", "--output=name")
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == [
        "addonmanager.engine.azk.io/demo",
        "cluster.engine.azk.io/demo",
        "nodepool.engine.azk.io/workers",
        "nodeset.engine.azk.io/workers-5d8f7c",
    ]


@pytest.mark.parametrize(("kind", "resource"), [("NodePool", "nodepool"), ("NodeSet", "azkns")])
def test_kubectl_scale_changes_spec_replicas(
    kind: str, resource: str, k8s_api: ApiClient, namespace: str, kubectl: Kubectl
) -> None:
    created = create(k8s_api, namespace, valid(kind))
    name = created["metadata"]["name"]
    scaled = kubectl("scale", resource, name, "--replicas=5", f"--namespace={namespace}")
    assert scaled.returncode == 0, scaled.stderr
    assert get(k8s_api, namespace, kind, name)["spec"]["replicas"] == 5


def test_scale_beyond_the_scale_set_limit_is_rejected(
    k8s_api: ApiClient, namespace: str, kubectl: Kubectl
) -> None:
    create(k8s_api, namespace, example("NodePool"))
    scaled = kubectl("scale", "nodepool", "workers", "--replicas=1001", f"--namespace={namespace}")
    assert scaled.returncode != 0 and "spec.replicas" in scaled.stderr
    assert get(k8s_api, namespace, "NodePool", "workers")["spec"]["replicas"] == 3


def _table(output: str) -> list[list[str]]:
    """kubectl's table, split on runs of 2+ spaces (column names like "RESOURCE GROUP" hold one space)."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


def test_printer_columns_render(k8s_api: ApiClient, namespace: str, kubectl: Kubectl) -> None:
    create(k8s_api, namespace, example("Cluster"))
    now = datetime(2030, 1, 1, tzinfo=UTC)
    status = ClusterStatus(
        observed_generation=1,
        endpoint="https://demo.westeurope.cloudapp.azure.com:6443",
        kubernetes_version="v1.37.2",
        control_plane_replicas=3,
        control_plane_ready_replicas=3,
        certificates_not_after=now,
        conditions=set_condition([], "Ready", "True", "Ready", "", now=now, observed_generation=1),
    )
    body: dict[str, Any] = {"status": status.model_dump(mode="json", exclude_none=True)}
    CustomObjectsApi(k8s_api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "clusters", "demo", body
    )

    shown = kubectl("get", "clusters.engine.azk.io", f"--namespace={namespace}", "--output=wide")
    assert shown.returncode == 0, shown.stderr
    header, row = _table(shown.stdout)
    assert header == [
        "NAME",
        "READY",
        "REASON",
        "VERSION",
        "REPLICAS",
        "ENDPOINT",
        "LOCATION",
        "RESOURCE GROUP",
        "AGE",
    ]
    columns = dict(zip(header, row, strict=True))
    assert columns["READY"] == "True" and columns["REASON"] == "Ready"
    assert columns["VERSION"] == "v1.37.2" and columns["REPLICAS"] == "3"
    assert columns["ENDPOINT"] == "https://demo.westeurope.cloudapp.azure.com:6443"
    assert (columns["LOCATION"], columns["RESOURCE GROUP"]) == ("westeurope", "demo-azk")

    narrow = kubectl("get", "azkc", f"--namespace={namespace}")
    assert _table(narrow.stdout)[0] == ["NAME", "READY", "REASON", "VERSION", "REPLICAS", "AGE"]


def test_node_pool_columns_render(k8s_api: ApiClient, namespace: str, kubectl: Kubectl) -> None:
    create(k8s_api, namespace, example("NodePool"))
    now = datetime(2030, 1, 1, tzinfo=UTC)
    status = NodePoolStatus(
        replicas=4,
        ready_replicas=3,
        updated_replicas=1,
        selector="engine.azk.io/nodepool=workers",
        current_node_set="workers-5d8f7c",
        conditions=set_condition([], "Ready", "False", "RollingOut", "1 of 3 nodes updated", now=now),
    )
    body: dict[str, Any] = {"status": status.model_dump(mode="json", exclude_none=True)}
    CustomObjectsApi(k8s_api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "nodepools", "workers", body
    )

    shown = kubectl("get", "azknp", f"--namespace={namespace}", "--output=wide")
    assert shown.returncode == 0, shown.stderr
    header, row = _table(shown.stdout)
    assert header == [
        "NAME", "READY", "REASON", "VERSION", "REPLICAS", "CURRENT", "READY NODES", "UPDATED",
        "CLUSTER", "VM SIZE", "NODESET", "AGE",
    ]  # fmt: skip
    assert row[:-1] == [
        "workers", "False", "RollingOut", "v1.37.2", "3", "4", "3", "1",
        "demo", "Standard_D4s_v5", "workers-5d8f7c",
    ]  # fmt: skip
