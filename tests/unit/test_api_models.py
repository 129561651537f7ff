"""The API models: defaults, every validation rule (mirrored from the CRDs), updates, conditions."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fixtures.api_objects import BAD_OBJECTS, BadObject, example, valid
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from azk_operator.api import (
    API_VERSION,
    GROUP,
    VERSION,
    AddonManager,
    Cluster,
    ClusterSpec,
    NetworkSpec,
    NodePool,
    NodeSet,
    cidr,
    error_lines,
    find_condition,
    set_condition,
)
from azk_operator.api.meta import Resource
from azk_operator.api.types import duration_seconds

MODELS: dict[str, type[Resource]] = {
    "Cluster": Cluster,
    "NodePool": NodePool,
    "NodeSet": NodeSet,
    "AddonManager": AddonManager,
}
SUBSCRIPTION = "6f1a3c2e-8b4d-4e5f-9a7b-0c1d2e3f4a5b"


def minimal_cluster() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Cluster",
        "metadata": {"name": "demo"},
        "spec": {
            "kubernetesVersion": "v1.37.2",
            "azure": {
                "subscriptionId": SUBSCRIPTION,
                "resourceGroup": "demo",
                "location": "westeurope",
                "identity": {"type": "ManagedIdentity"},
            },
        },
    }


def test_api_version_is_group_and_version() -> None:
    assert f"{GROUP}/{VERSION}" == API_VERSION == "engine.azk.io/v1alpha1"


def test_minimal_cluster_gets_working_non_overlapping_network() -> None:
    network = Cluster.model_validate(minimal_cluster()).spec.network
    vnet = ipaddress.IPv4Network(network.vnet_cidr)
    subnets = [
        ipaddress.IPv4Network(network.control_plane_subnet_cidr),
        ipaddress.IPv4Network(network.node_subnet_cidr),
    ]
    outside = [ipaddress.IPv4Network(network.pod_cidr), ipaddress.IPv4Network(network.service_cidr)]
    assert all(subnet.subnet_of(vnet) for subnet in subnets)
    assert not any(a.overlaps(b) for a, b in itertools.combinations([*subnets, *outside], 2))
    assert not any(block.overlaps(vnet) for block in outside)
    assert (network.vnet_cidr, network.pod_cidr, network.service_cidr) == (
        "10.0.0.0/16",
        "10.244.0.0/16",
        "10.96.0.0/12",
    )


def test_minimal_cluster_defaults() -> None:
    spec = Cluster.model_validate(minimal_cluster()).spec
    assert spec.control_plane.replicas == 3
    assert spec.certificates.renew_before_days == 30
    assert spec.paused is False
    assert spec.network.api_server_allowed_cidrs == ["0.0.0.0/0"]
    assert spec.dns_prefix is None


def test_node_pool_strategy_defaults_surge_a_tenth_and_keep_capacity() -> None:
    pool = NodePool.model_validate(
        {"spec": {"clusterName": "demo", "template": {"kubernetesVersion": "v1.37.2"}}}
    )
    strategy = pool.spec.strategy
    assert (strategy.max_surge, strategy.max_unavailable) == ("10%", 0)
    assert duration_seconds(strategy.drain_timeout) == 600
    assert duration_seconds(strategy.node_startup_timeout) == 1200
    assert pool.spec.replicas == 1
    assert pool.spec.template.vm_size == "Standard_D4s_v5"


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_manifest_round_trips(kind: str) -> None:
    model = MODELS[kind]
    obj = model.model_validate(valid(kind))
    manifest = obj.to_manifest()
    assert manifest["apiVersion"] == API_VERSION and manifest["kind"] == kind
    assert model.model_validate(manifest) == obj


def test_snake_case_attributes_camel_case_wire() -> None:
    cluster = Cluster.model_validate(example("Cluster"))
    assert cluster.spec.azure.identity.secret_ref is not None
    assert cluster.spec.azure.identity.secret_ref.name == "demo-azure-credentials"
    assert cluster.spec.control_plane.os_disk_size_gb == 128
    wire = cluster.to_manifest()["spec"]
    assert wire["controlPlane"]["osDiskSizeGB"] == 128
    assert wire["network"]["controlPlaneSubnetCidr"] == "10.0.0.0/24"


def _rejection(case: BadObject) -> ValidationError:
    model = MODELS[case.kind]
    with pytest.raises(ValidationError) as caught:
        if case.update:
            model.validate_update(model.model_validate(valid(case.kind)), model.model_validate(case.apply()))
        else:
            model.model_validate(case.apply())
    return caught.value


@pytest.mark.parametrize("case", BAD_OBJECTS, ids=lambda case: case.id)
def test_bad_object_rejected_naming_the_field(case: BadObject) -> None:
    lines = error_lines(_rejection(case))
    matching = [line for line in lines if line.startswith(f"{case.field}:")]
    assert matching, lines
    if case.message is not None:
        assert f"{case.field}: {case.message}" in lines


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_unchanged_update_is_accepted(kind: str) -> None:
    model = MODELS[kind]
    model.validate_update(model.model_validate(valid(kind)), model.model_validate(valid(kind)))


def test_mutable_fields_may_change() -> None:
    old = NodePool.model_validate(example("NodePool"))
    changed = example("NodePool")
    changed["spec"]["replicas"] = 10
    changed["spec"]["template"]["vmSize"] = "Standard_D8s_v5"  # a pool rolls over; only a NodeSet is frozen
    NodePool.validate_update(old, NodePool.model_validate(changed))


def test_all_errors_reported_at_once() -> None:
    obj = minimal_cluster()
    obj["spec"]["network"] = {"podCidr": "10.0.0.0/8", "nodeSubnetCidr": "10.1.0.0/20"}
    lines = error_lines(_expect_invalid(obj))
    assert "spec.network.podCidr: podCidr must not overlap vnetCidr" in lines
    assert "spec.network.nodeSubnetCidr: nodeSubnetCidr must be inside vnetCidr" in lines


def _expect_invalid(obj: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Cluster.model_validate(obj)
    return caught.value


@pytest.mark.parametrize("version", ["v1.37.2", "v1.0.0", "v1.100.15"])
def test_kubernetes_version_accepted(version: str) -> None:
    obj = minimal_cluster()
    obj["spec"]["kubernetesVersion"] = version
    assert ClusterSpec.model_validate(obj["spec"]).kubernetes_version == version


@pytest.mark.parametrize("version", ["1.37.2", "v1.37", "v2.0.0", "v1.037.0", "v1.37.2-rc.1", "latest"])
def test_kubernetes_version_rejected(version: str) -> None:
    obj = minimal_cluster()
    obj["spec"]["kubernetesVersion"] = version
    assert any(line.startswith("spec.kubernetesVersion:") for line in error_lines(_expect_invalid(obj)))


@pytest.mark.parametrize("replicas", [1, 3, 5])
def test_odd_control_plane_sizes_accepted(replicas: int) -> None:
    obj = minimal_cluster()
    obj["spec"]["controlPlane"] = {"replicas": replicas}
    assert Cluster.model_validate(obj).spec.control_plane.replicas == replicas


@pytest.mark.parametrize(("surge", "unavailable"), [(0, 1), ("0%", "25%"), ("50%", 0), (2, 2)])
def test_rollout_that_can_progress_accepted(surge: int | str, unavailable: int | str) -> None:
    pool = example("NodePool")
    pool["spec"]["strategy"].update(maxSurge=surge, maxUnavailable=unavailable)
    strategy = NodePool.model_validate(pool).spec.strategy
    assert (strategy.max_surge, strategy.max_unavailable) == (surge, unavailable)


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600), ("1h30m", 5400), ("45s", 45), ("2h", 7200)])
def test_duration_seconds(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


def test_error_lines_use_wire_paths() -> None:
    obj = minimal_cluster()
    obj["spec"]["network"] = {"apiServerAllowedCidrs": ["10.0.0.0/8", "bad"]}
    assert any(
        line.startswith("spec.network.apiServerAllowedCidrs[1]:")
        for line in error_lines(_expect_invalid(obj))
    )


# CIDR logic, checked against address arithmetic.

_prefix = st.integers(min_value=8, max_value=30)
_block = st.builds(
    lambda address, length: str(ipaddress.IPv4Network((address, length), strict=False)),
    st.integers(min_value=0, max_value=2**32 - 1),
    _prefix,
)


def _range(block: str) -> tuple[int, int]:
    network = ipaddress.IPv4Network(block)
    return int(network.network_address), int(network.broadcast_address)


@given(_block, _block)
def test_contains_matches_address_ranges(outer: str, inner: str) -> None:
    (outer_first, outer_last), (inner_first, inner_last) = _range(outer), _range(inner)
    assert cidr.contains(outer, inner) == (outer_first <= inner_first and inner_last <= outer_last)


@given(_block, _block)
def test_overlaps_matches_address_ranges(a: str, b: str) -> None:
    (a_first, a_last), (b_first, b_last) = _range(a), _range(b)
    assert cidr.overlaps(a, b) == (a_first <= b_last and b_first <= a_last)


def _subnet_of(vnet: str) -> st.SearchStrategy[str]:
    """A block inside `vnet`: random blocks alone would almost never satisfy the rules."""
    network = ipaddress.IPv4Network(vnet)
    return st.builds(
        lambda offset, extra: str(
            ipaddress.IPv4Network(
                (int(network.network_address) + offset, min(network.prefixlen + extra, 32)), strict=False
            )
        ),
        st.integers(min_value=0, max_value=network.num_addresses - 1),
        st.integers(min_value=0, max_value=8),
    )


@given(st.data(), _block)
def test_network_accepted_exactly_when_ranges_fit(data: st.DataObject, vnet: str) -> None:
    near_or_any = st.one_of(_subnet_of(vnet), _block)
    cp, nodes, pods, services = (data.draw(near_or_any) for _ in range(4))
    fits = (
        cidr.contains(vnet, cp)
        and cidr.contains(vnet, nodes)
        and not cidr.overlaps(nodes, cp)
        and not cidr.overlaps(pods, vnet)
        and not cidr.overlaps(services, vnet)
        and not cidr.overlaps(services, pods)
        and ipaddress.IPv4Network(services).prefixlen >= 12
    )
    fields = {
        "vnetCidr": vnet,
        "controlPlaneSubnetCidr": cp,
        "nodeSubnetCidr": nodes,
        "podCidr": pods,
        "serviceCidr": services,
    }
    try:
        NetworkSpec.model_validate(fields)
    except ValidationError:
        assert not fits
    else:
        assert fits


@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=0, max_value=32))
def test_network_address_check_matches_masking(address: int, length: int) -> None:
    text = f"{ipaddress.IPv4Address(address)}/{length}"
    masked = address & ((2**32 - 1) << (32 - length)) & (2**32 - 1)
    assert cidr.is_network_address(text) == (masked == address)


# Conditions

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def test_set_condition_moves_transition_time_only_on_status_change() -> None:
    conditions = set_condition([], "Ready", "False", "Provisioning", "creating the network", now=NOW)
    later = NOW + timedelta(minutes=5)
    conditions = set_condition(conditions, "Ready", "False", "Booting", "waiting for VMs", now=later)
    ready = find_condition(conditions, "Ready")
    assert ready is not None and ready.last_transition_time == NOW and ready.reason == "Booting"
    conditions = set_condition(conditions, "Ready", "True", "Ready", "", now=later, observed_generation=4)
    ready = find_condition(conditions, "Ready")
    assert ready is not None and ready.last_transition_time == later and ready.observed_generation == 4
    assert len(conditions) == 1


def test_set_condition_keeps_other_conditions_and_cuts_long_messages() -> None:
    conditions = set_condition([], "NetworkReady", "True", "Created", "", now=NOW)
    conditions = set_condition(conditions, "Ready", "False", "AzureError", "x" * 40000, now=NOW)
    assert [c.type for c in conditions] == ["NetworkReady", "Ready"]
    assert len(conditions[1].message) == 32768


def test_conditions_read_from_the_wire() -> None:
    status = {
        "observedGeneration": 2,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Ready",
                "lastTransitionTime": "2030-01-01T00:00:00Z",
            }
        ],
    }
    pool = NodePool.model_validate({**example("NodePool"), "status": status})
    assert pool.status is not None
    assert pool.status.conditions[0].last_transition_time == NOW
    assert pool.to_manifest()["status"]["conditions"][0]["lastTransitionTime"] == "2030-01-01T00:00:00Z"


def test_duplicate_condition_types_rejected() -> None:
    condition = {
        "type": "Ready",
        "status": "True",
        "reason": "Ready",
        "lastTransitionTime": "2030-01-01T00:00:00Z",
    }
    with pytest.raises(ValidationError) as caught:
        NodeSet.model_validate({**valid("NodeSet"), "status": {"conditions": [condition, condition]}})
    assert any(line.startswith("status.conditions[1]: Duplicate value") for line in error_lines(caught.value))
