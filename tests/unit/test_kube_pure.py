"""Pure parts of azk_operator.kube: selectors, pod selection, providerIDs, manifests, drain messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import kubernetes
import pytest

from azk_operator.kube.discovery import ApiResource
from azk_operator.kube.drain import Blocked, InProgress, TimedOut
from azk_operator.kube.manifests import ManifestError, load_manifests, object_ref
from azk_operator.kube.nodes import node_info
from azk_operator.kube.podselection import PodRef, select_for_drain
from azk_operator.kube.providerid import same_provider_id, vmss_instance_provider_id
from azk_operator.kube.selectors import selector_matches

K = kubernetes.client


def selector(
    labels: dict[str, str] | None = None, *exprs: tuple[str, str, list[str] | None]
) -> K.V1LabelSelector:
    return K.V1LabelSelector(
        match_labels=labels,
        match_expressions=[K.V1LabelSelectorRequirement(key=k, operator=o, values=v) for k, o, v in exprs]
        or None,
    )


@pytest.mark.parametrize(
    ("sel", "labels", "expected"),
    [
        (None, {"app": "a"}, False),
        (selector(), {"app": "a"}, True),
        (selector({"app": "a"}), {"app": "a", "x": "y"}, True),
        (selector({"app": "a"}), {"app": "b"}, False),
        (selector(None, ("tier", "In", ["web", "api"])), {"tier": "api"}, True),
        (selector(None, ("tier", "In", ["web"])), {}, False),
        (selector(None, ("tier", "NotIn", ["web"])), {}, True),
        (selector(None, ("tier", "NotIn", ["web"])), {"tier": "web"}, False),
        (selector(None, ("tier", "Exists", None)), {"tier": ""}, True),
        (selector(None, ("tier", "DoesNotExist", None)), {"tier": "x"}, False),
        (selector({"app": "a"}, ("tier", "Exists", None)), {"app": "a"}, False),
    ],
)
def test_label_selectors_match_like_the_apiserver(
    sel: K.V1LabelSelector | None, labels: dict[str, str], expected: bool
) -> None:
    assert selector_matches(sel, labels) is expected


def pod(name: str, **meta: object) -> K.V1Pod:
    phase = meta.pop("phase", "Running")
    return K.V1Pod(
        metadata=K.V1ObjectMeta(name=name, namespace="ns", **meta), status=K.V1PodStatus(phase=phase)
    )


def test_drain_selection_evicts_waits_and_leaves_alone() -> None:
    ds_owner = K.V1OwnerReference(api_version="apps/v1", kind="DaemonSet", name="d", uid="1", controller=True)
    rs_owner = K.V1OwnerReference(
        api_version="apps/v1", kind="ReplicaSet", name="r", uid="2", controller=True
    )
    selection = select_for_drain(
        [
            pod("web", owner_references=[rs_owner]),
            pod("agent", owner_references=[ds_owner]),
            pod("static", annotations={"kubernetes.io/config.mirror": "x"}),
            pod("done", phase="Succeeded"),
            pod("failed", phase="Failed"),
            pod("going", deletion_timestamp=datetime.now(UTC)),
            pod("bare"),
        ]
    )
    assert [p.metadata.name for p in selection.to_evict] == ["bare", "web"]
    assert [p.metadata.name for p in selection.terminating] == ["going"]
    assert [r.name for r in selection.ignored] == ["agent", "done", "failed", "static"]


def test_provider_ids_compare_case_insensitively_as_arm_ids_do() -> None:
    written = vmss_instance_provider_id("sub", "My-RG", "pool-a", "3")
    assert written == (
        "azure:///subscriptions/sub/resourceGroups/my-rg/providers/Microsoft.Compute/"
        "virtualMachineScaleSets/pool-a/virtualMachines/3"
    )
    assert same_provider_id(written, written.replace("my-rg", "My-RG").upper())
    assert not same_provider_id(written, written[:-1] + "4")


def test_node_info_reads_readiness_and_cordon() -> None:
    node = K.V1Node(
        metadata=K.V1ObjectMeta(name="n1", labels={"a": "b"}),
        spec=K.V1NodeSpec(provider_id="azure:///x", unschedulable=True),
        status=K.V1NodeStatus(conditions=[K.V1NodeCondition(type="Ready", status="Unknown")]),
    )
    info = node_info(node)
    assert (info.name, info.ready, info.unschedulable, info.provider_id) == ("n1", False, True, "azure:///x")
    assert not node_info(K.V1Node(metadata=K.V1ObjectMeta(name="bare"))).ready


def test_manifests_load_from_multi_document_yaml_and_lists() -> None:
    text = """
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns1}
---
"""
    objects = load_manifests(text)
    assert [str(object_ref(o, "dflt")) for o in objects] == ["ConfigMap/dflt/a", "Namespace/dflt/ns1"]
    with pytest.raises(ManifestError, match=r"document 0 \(ConfigMap\): metadata.name is missing"):
        load_manifests({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    with pytest.raises(ManifestError, match="apiVersion is missing"):
        load_manifests([{"kind": "ConfigMap", "metadata": {"name": "x"}}])


def test_resource_paths_for_core_group_and_cluster_scope() -> None:
    cm = ApiResource("", "v1", "ConfigMap", "configmaps", namespaced=True)
    crd = ApiResource(
        "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False
    )
    assert cm.path("a", "ns") == "/api/v1/namespaces/ns/configmaps/a"
    assert crd.path("x.y") == "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.y"
    with pytest.raises(ValueError, match="namespaced"):
        cm.path("a")


def test_drain_messages_name_the_budget_and_stay_bounded() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    pods = tuple(PodRef("ns", f"p{i}") for i in range(8))
    assert InProgress("n", start, pods, 5.0).message == (
        "waiting for 8 pods (ns/p0, ns/p1, ns/p2, ns/p3, ns/p4 and 3 more) to terminate"
    )
    blocked = Blocked("n", start, "db-pdb", PodRef("ns", "db-0"), "Cannot evict", pods[:1], 15.0)
    assert blocked.message == "PodDisruptionBudget ns/db-pdb blocks eviction of pod ns/db-0: Cannot evict"
    timed_out = TimedOut("n", start, timedelta(minutes=10, seconds=3), pods[:1], 15.0, blocked)
    assert timed_out.message == f"drain timed out after 603s; {blocked.message}"
