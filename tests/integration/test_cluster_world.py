"""The Cluster controller on a self-managed cluster: the operator runs against the API server the boot
simulator started for the cluster it manages, and every check is on Azure (emulator) or Kubernetes state."""

from __future__ import annotations

import random
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes
import pytest
from fixtures.cluster_world import World, cluster_manifest
from fixtures.waiting import eventually

from azk_operator.azure.tags import ownership_key
from azk_operator.bootstrap import inspect_endpoint
from azk_operator.controllers.settings import PEERING_NAME
from azk_operator.create.manifests import peering_object

GROUP, VERSION = "engine.azk.io", "v1alpha1"
READY_TIMEOUT_S = 180.0
WRITE_METHODS = {"PUT", "PATCH", "POST", "DELETE"}

EXPECTED_TYPES = {
    "microsoft.resources/resourcegroups",
    "microsoft.network/virtualnetworks",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/routetables",
    "microsoft.network/publicipaddresses",
    "microsoft.network/loadbalancers",
    "microsoft.compute/virtualmachinescalesets",
    "microsoft.compute/virtualmachinescalesets/virtualmachines",
}


def custom(world: World) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(world.kube.api)


def cluster_obj(world: World) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = custom(world).get_namespaced_custom_object(
            GROUP, VERSION, world.namespace, "clusters", world.cluster_name
        )
    except kubernetes.client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    for c in (obj or {}).get("status", {}).get("conditions", []):
        if c["type"] == kind:
            found: dict[str, Any] = c
            return found
    return {}


def is_ready(world: World) -> bool:
    return bool(condition(cluster_obj(world), "Ready").get("status") == "True")


def owned(world: World) -> list[Any]:
    key = ownership_key(world.cluster_name).lower()
    return [
        item
        for item in world.emulator.control.inventory()
        if any(k.lower() == key for k in (item.tags or {}))
    ]


def writes_since(world: World, mark: int) -> list[Any]:
    return [r for r in world.emulator.control.journal()[mark:] if r.method in WRITE_METHODS]


def test_cluster_reaches_ready_and_a_converged_cluster_sends_no_azure_writes(cluster_world: World) -> None:
    world = cluster_world
    with world.run_operator():
        eventually(lambda: is_ready(world), "Cluster Ready", READY_TIMEOUT_S)
        obj = cluster_obj(world)
        assert obj is not None
        for kind in ("ResourceGroupReady", "NetworkReady", "LoadBalancerReady", "ControlPlaneReady"):
            assert condition(obj, kind).get("status") == "True", kind
        status = obj["status"]
        assert status["endpoint"] == f"https://{world.endpoint}"
        assert status["observedGeneration"] == obj["metadata"]["generation"]

        types = {item.type.lower() for item in world.emulator.control.inventory()}
        assert types == EXPECTED_TYPES, "exactly the base infrastructure and one scale set with its VMs"
        untagged = [item.id for item in world.emulator.control.inventory() if item not in owned(world)]
        assert untagged == [], "everything azk created carries the ownership tag"

        host, port = world.endpoint.rsplit(":", 1)
        ca = world.kubeconfig.parent / "cluster-ca.crt"
        ca.write_bytes(world.pki.ca.cert_pem)
        served = inspect_endpoint(host, int(port), ca_file=ca)
        assert host in served.sans.as_strings(), (
            "the endpoint answers with the cluster CA and lists its address"
        )

        mark = len(world.emulator.control.journal())
        time.sleep(10)  # several resync periods at the test time scale (resync 3 s)
        assert writes_since(world, mark) == [], "a converged cluster sends zero Azure writes"
        assert condition(cluster_obj(world), "Ready").get("status") == "True"


def test_the_operator_serves_its_azure_request_counters_as_prometheus_metrics(cluster_world: World) -> None:
    world = cluster_world
    with socket.socket() as probe:  # a free loopback port for the endpoint
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with world.run_operator(metrics=f"127.0.0.1:{port}"):
        eventually(lambda: is_ready(world), "Cluster Ready", READY_TIMEOUT_S)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = response.read().decode()
    counters = {
        line.rpartition(" ")[0]: int(line.rpartition(" ")[2])
        for line in text.splitlines()
        if line.startswith("azk_azure_requests_total{")
    }
    vnet_reads = (
        'azk_azure_requests_total{category="read",resource_type="microsoft.network/virtualnetworks",'
        'outcome="success"}'
    )
    assert counters[vnet_reads] >= 1, text
    assert "# TYPE azk_azure_requests_total counter" in text
    operator_calls = [r for r in world.emulator.control.journal() if "virtualnetworks/" in r.path.lower()]
    assert len(operator_calls) >= counters[vnet_reads], "only requests that reached Azure are counted"


def test_paused_cluster_sends_no_writes_even_when_azure_drifted(cluster_world: World) -> None:
    world = cluster_world
    with world.run_operator():
        eventually(lambda: is_ready(world), "Cluster Ready", READY_TIMEOUT_S)
        custom(world).patch_namespaced_custom_object(
            GROUP, VERSION, world.namespace, "clusters", world.cluster_name, {"spec": {"paused": True}}
        )
        eventually(
            lambda: condition(cluster_obj(world), "Ready").get("reason") == "Paused", "Paused reported", 30
        )
        mark = len(world.emulator.control.journal())
        time.sleep(8)
        assert writes_since(world, mark) == []


def test_deleting_the_cluster_leaves_nothing_tagged_in_azure(cluster_world: World) -> None:
    world = cluster_world
    with world.run_operator():
        eventually(lambda: is_ready(world), "Cluster Ready", READY_TIMEOUT_S)
        custom(world).delete_namespaced_custom_object(
            GROUP, VERSION, world.namespace, "clusters", world.cluster_name
        )
        # The resource-group delete takes the control plane (and this operator's API server) with it.
        eventually(lambda: owned(world) == [], "nothing tagged with the cluster left in Azure", 120)


@pytest.mark.slow
def test_steady_429_and_5xx_faults_still_converge_and_honour_retry_after(cluster_world: World) -> None:
    world = cluster_world
    control = world.emulator.control
    control.inject_fault(
        ".*", "*", status=429, code="TooManyRequests", retry_after=1, probability=0.15, seed=7
    )
    control.inject_fault(".*", "*", status=503, code="ServiceUnavailable", probability=0.1, seed=11)
    with world.run_operator():
        eventually(lambda: is_ready(world), "Cluster Ready under faults", READY_TIMEOUT_S)
    journal = control.journal()
    for i, record in enumerate(journal):
        if record.status == 429:
            retry_at = record.time + 1.0
            early = [
                r
                for r in journal[i + 1 :]
                if r.time < retry_at - 0.05 and r.path.lower() == record.path.lower()
            ]
            assert early == [], f"a request went out before Retry-After after a 429 on {record.path}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_operator_killed_at_random_points_converges_without_duplicates(
    cluster_world: World, seed: int
) -> None:
    world = cluster_world
    rng = random.Random(seed)
    for _ in range(3):
        operator = world.start_operator_process()
        time.sleep(rng.uniform(1.0, 6.0))
        operator.send_signal(signal.SIGKILL)
        operator.wait()
    with world.run_operator():
        eventually(lambda: is_ready(world), "Cluster Ready after restarts", READY_TIMEOUT_S)
    scale_sets = [
        i for i in world.emulator.control.inventory() if i.type.lower().endswith("virtualmachinescalesets")
    ]
    assert len(scale_sets) == 1, "one control-plane scale set, never a duplicate"
    types = {item.type.lower() for item in world.emulator.control.inventory()}
    assert types == EXPECTED_TYPES


def test_an_unknown_location_is_reported_and_nothing_is_created(cluster_world: World) -> None:
    world = cluster_world
    manifest = cluster_manifest("faraway", world.namespace, world.emulator.subscription_id)
    manifest["spec"]["azure"]["location"] = "marsnorth"
    with world.run_operator():
        custom(world).create_namespaced_custom_object(GROUP, VERSION, world.namespace, "clusters", manifest)

        def reported() -> dict[str, Any]:
            obj = custom(world).get_namespaced_custom_object(
                GROUP, VERSION, world.namespace, "clusters", "faraway"
            )
            found = condition(obj, "ResourceGroupReady")
            return found if found.get("reason") == "LocationNotAvailableForResourceType" else {}

        eventually(lambda: bool(reported()), "the unknown location reported", 60)
        ready = condition(
            custom(world).get_namespaced_custom_object(
                GROUP, VERSION, world.namespace, "clusters", "faraway"
            ),
            "Ready",
        )
    assert "marsnorth" in reported()["message"] and ready["status"] == "False"
    assert [i for i in world.emulator.control.inventory() if "faraway" in i.id.lower()] == []


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_operator_killed_at_random_points_during_delete_leaves_nothing(
    cluster_world: World, seed: int
) -> None:
    world = cluster_world
    rng = random.Random(seed)
    with world.run_operator():
        eventually(lambda: is_ready(world), "Cluster Ready", READY_TIMEOUT_S)
    custom(world).delete_namespaced_custom_object(
        GROUP, VERSION, world.namespace, "clusters", world.cluster_name
    )
    for _ in range(2):
        operator = world.start_operator_process()
        time.sleep(rng.uniform(0.5, 3.0))
        operator.send_signal(signal.SIGKILL)
        operator.wait()
        if not owned(world):
            break
    if owned(world):  # not finished while being killed: a last operator finishes it
        operator = world.start_operator_process()
        try:
            eventually(lambda: owned(world) == [], "nothing tagged with the cluster left in Azure", 120)
        finally:
            operator.kill()
            operator.wait()
    assert owned(world) == []


def ran_handlers(log: Path) -> bool:
    """Whether an operator's log shows a resource handler or timer (not a start-up activity) finishing."""
    return re.search(r"\] (Handler|Timer) '[^']+' succeeded", log.read_text()) is not None


@pytest.mark.slow
def test_two_peered_replicas_one_acts_the_standby_takes_over(cluster_world: World, tmp_path: Path) -> None:
    world = cluster_world
    custom(world).create_namespaced_custom_object(
        "kopf.dev", "v1", world.namespace, "kopfpeerings", peering_object(world.namespace)
    )
    active_log, standby_log = tmp_path / "active.log", tmp_path / "standby.log"

    def priorities() -> list[int]:
        peering = custom(world).get_namespaced_custom_object(
            "kopf.dev", "v1", world.namespace, "kopfpeerings", PEERING_NAME
        )
        return sorted(peer["priority"] for peer in (peering.get("status") or {}).values())

    # kopf starts a peered replica paused and resumes it at its first look at the peering unless a live
    # peer of higher priority is listed there; so the standby starts once the active is listed.
    active = world.start_operator_process(priority=200, log=active_log)
    standby: subprocess.Popen[bytes] | None = None
    try:
        eventually(lambda: priorities() == [200], "the active replica in the peering", 60)
        standby = world.start_operator_process(priority=100, log=standby_log)
        eventually(lambda: priorities() == [100, 200], "both replicas in the peering", 60)
        eventually(lambda: is_ready(world), "Cluster Ready with two replicas", READY_TIMEOUT_S)
        assert ran_handlers(active_log)
        assert not ran_handlers(standby_log), "the standby ran no handler"

        active.kill()
        active.wait()
        custom(world).patch_namespaced_custom_object(
            GROUP, VERSION, world.namespace, "clusters", world.cluster_name, {"spec": {"paused": True}}
        )
        eventually(
            lambda: condition(cluster_obj(world), "Ready").get("reason") == "Paused",
            "the standby to take over and act on a change",
            60,
        )
        assert "Resuming operations" in standby_log.read_text()
    finally:
        for process in (active, standby):
            if process is not None:
                process.kill()
                process.wait()
