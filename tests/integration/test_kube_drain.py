"""PDB-aware drain against the real test control plane (the disruption controller computes PDB status).

Found on this control plane (kube-apiserver with no kubelets): a pod with terminationGracePeriodSeconds 0 is
removed by its eviction at once; a pod with a grace period gets a deletionTimestamp and stays Terminating
until a kubelet (here `FakeKubelets.finish_terminating`) removes it; a pod that is not Running is evicted
without asking any budget, so pods a budget protects are reported Running and Ready first.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import kubernetes
from fixtures.kube_world import FakeKubelets

from azk_operator.kube.clients import KubeClients
from azk_operator.kube.cordon import DRAIN_STARTED_ANNOTATION, uncordon
from azk_operator.kube.drain import (
    Blocked,
    Drained,
    DrainPolicy,
    DrainResult,
    InProgress,
    OnDrainTimeout,
    TimedOut,
    drain_step,
)
from azk_operator.kube.podselection import PodRef

FAST = DrainPolicy(poll_interval_s=0.2, blocked_retry_s=0.2)


def pod_names(core: kubernetes.client.CoreV1Api, namespace: str, *, terminating: bool) -> list[str]:
    return sorted(
        p.metadata.name
        for p in core.list_namespaced_pod(namespace).items
        if (p.metadata.deletion_timestamp is not None) == terminating
    )


def protect(core_api: kubernetes.client.ApiClient, namespace: str, app: str, max_unavailable: int) -> None:
    kubernetes.client.PolicyV1Api(core_api).create_namespaced_pod_disruption_budget(
        namespace,
        {
            "metadata": {"name": f"{app}-pdb"},
            "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": {"app": app}}},
        },
    )


async def until_budget(
    api: kubernetes.client.ApiClient, namespace: str, name: str, *, expected_pods: int, allowed: int
) -> None:
    """Wait until the disruption controller has computed the budget's status for its current spec."""
    policy = kubernetes.client.PolicyV1Api(api)
    for _ in range(200):
        pdb = policy.read_namespaced_pod_disruption_budget(name, namespace)
        status = pdb.status
        if (
            status is not None
            and status.observed_generation == pdb.metadata.generation
            and (status.expected_pods, status.disruptions_allowed) == (expected_pods, allowed)
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"PodDisruptionBudget {name} status never reached {expected_pods}/{allowed}: {status}"
    )


async def drain_until(
    clients: KubeClients, node: str, done: type, policy: DrainPolicy = FAST, steps: int = 100
) -> DrainResult:
    """Step the drain as a controller would (honouring retry_after_s) until it returns a `done` result."""
    for _ in range(steps):
        result = await drain_step(clients, node, policy)
        if isinstance(result, done):
            return result
        await asyncio.sleep(getattr(result, "retry_after_s", 0.2))
    raise AssertionError(f"drain of {node} never reached {done.__name__}; last: {result}")


async def test_drain_evicts_plain_pods_and_leaves_daemonset_mirror_and_finished_pods(
    kube_clients: KubeClients, fake_kubelets: FakeKubelets, namespace: str
) -> None:
    node = fake_kubelets.node()
    other = fake_kubelets.node()
    ds = fake_kubelets.daemonset(namespace, "agent")
    fake_kubelets.pod(namespace, "agent-x", node, owner=ds)
    fake_kubelets.pod(namespace, "static", node, annotations={"kubernetes.io/config.mirror": "abc"})
    fake_kubelets.pod(namespace, "job-done", node, phase="Succeeded")
    fake_kubelets.pod(namespace, "quick", node, grace_period_seconds=0)
    fake_kubelets.pod(namespace, "slow", node, grace_period_seconds=30)
    fake_kubelets.pod(namespace, "elsewhere", other)

    first = await drain_step(kube_clients, node, FAST)
    assert isinstance(first, InProgress)
    assert first.remaining == (PodRef(namespace, "slow"),)
    assert "slow" in first.message
    core = fake_kubelets.core
    # quick (grace 0) is gone already; slow terminates with its own grace period; the others are untouched.
    assert pod_names(core, namespace, terminating=False) == ["agent-x", "elsewhere", "job-done", "static"]
    assert core.read_namespaced_pod("slow", namespace).metadata.deletion_grace_period_seconds == 30
    assert core.read_node(node).spec.unschedulable
    assert not core.read_node(other).spec.unschedulable

    assert fake_kubelets.finish_terminating(namespace) == ["slow"]
    done = await drain_step(kube_clients, node, FAST)
    assert isinstance(done, Drained)
    assert done.started_at == first.started_at  # the recorded start survives between steps
    assert pod_names(core, namespace, terminating=False) == ["agent-x", "elsewhere", "job-done", "static"]


async def test_pdb_blocks_with_a_result_naming_it_and_lifting_it_lets_the_drain_finish(
    kube_clients: KubeClients,
    fake_kubelets: FakeKubelets,
    namespace: str,
    k8s_api: kubernetes.client.ApiClient,
) -> None:
    node = fake_kubelets.node()
    # maxUnavailable needs the pods' controller scale: the disruption controller reads the ReplicaSet.
    owner = fake_kubelets.replicaset(namespace, "db")
    fake_kubelets.pod(namespace, "db-0", node, labels={"app": "db"}, owner=owner, grace_period_seconds=0)
    fake_kubelets.pod(namespace, "web-0", node, labels={"app": "web"}, grace_period_seconds=0)
    protect(k8s_api, namespace, "db", max_unavailable=0)
    await until_budget(k8s_api, namespace, "db-pdb", expected_pods=1, allowed=0)

    blocked = await drain_step(kube_clients, node, FAST)
    assert isinstance(blocked, Blocked)
    assert (blocked.pdb, blocked.pod) == ("db-pdb", PodRef(namespace, "db-0"))
    assert (
        f"PodDisruptionBudget {namespace}/db-pdb blocks eviction of pod {namespace}/db-0" in blocked.message
    )
    assert blocked.remaining == (PodRef(namespace, "db-0"),)  # the unprotected pod went at once
    assert pod_names(fake_kubelets.core, namespace, terminating=False) == ["db-0"]

    policy = kubernetes.client.PolicyV1Api(k8s_api)
    policy.patch_namespaced_pod_disruption_budget("db-pdb", namespace, {"spec": {"maxUnavailable": 1}})
    await until_budget(k8s_api, namespace, "db-pdb", expected_pods=1, allowed=1)
    await drain_until(kube_clients, node, Drained)
    assert pod_names(fake_kubelets.core, namespace, terminating=False) == []


async def test_at_the_timeout_the_default_policy_reports_and_never_breaks_the_budget(
    kube_clients: KubeClients,
    fake_kubelets: FakeKubelets,
    namespace: str,
    k8s_api: kubernetes.client.ApiClient,
) -> None:
    node = fake_kubelets.node()
    fake_kubelets.pod(namespace, "db-0", node, labels={"app": "db"})
    protect(k8s_api, namespace, "db", max_unavailable=0)
    first = await drain_step(kube_clients, node, FAST)
    assert isinstance(first, Blocked)

    later = first.started_at + FAST.timeout + timedelta(seconds=1)
    for _ in range(2):  # keeps reporting on every step; nothing is forced
        result = await drain_step(kube_clients, node, FAST, now=later)
        assert isinstance(result, TimedOut)
        assert result.blocked is not None
        assert (result.blocked.pdb, result.blocked.pod) == ("db-pdb", PodRef(namespace, "db-0"))
        assert result.deleted == ()
        assert result.message.startswith("drain timed out after 601s; PodDisruptionBudget")
    assert pod_names(fake_kubelets.core, namespace, terminating=False) == ["db-0"]
    assert fake_kubelets.core.read_node(node).spec.unschedulable


async def test_at_the_timeout_the_delete_pods_policy_deletes_with_grace_then_drains(
    kube_clients: KubeClients,
    fake_kubelets: FakeKubelets,
    namespace: str,
    k8s_api: kubernetes.client.ApiClient,
) -> None:
    node = fake_kubelets.node()
    fake_kubelets.pod(namespace, "db-0", node, labels={"app": "db"}, grace_period_seconds=20)
    protect(k8s_api, namespace, "db", max_unavailable=0)
    policy = DrainPolicy(
        timeout=timedelta(minutes=2), on_timeout=OnDrainTimeout.DELETE_PODS, poll_interval_s=0.2
    )
    first = await drain_step(kube_clients, node, policy)
    assert isinstance(first, Blocked)  # before the timeout the budget is honoured under every policy

    later = first.started_at + timedelta(minutes=3)
    forced = await drain_step(kube_clients, node, policy, now=later)
    assert isinstance(forced, TimedOut)
    assert forced.deleted == (PodRef(namespace, "db-0"),)
    assert forced.remaining == (PodRef(namespace, "db-0"),)  # terminating, with its own grace period
    assert (
        fake_kubelets.core.read_namespaced_pod("db-0", namespace).metadata.deletion_grace_period_seconds == 20
    )

    fake_kubelets.finish_terminating(namespace)
    assert isinstance(await drain_step(kube_clients, node, policy, now=later), Drained)


async def test_terminating_pods_on_a_not_ready_node_are_not_waited_for(
    kube_clients: KubeClients, fake_kubelets: FakeKubelets, namespace: str
) -> None:
    node = fake_kubelets.node(ready=False)
    fake_kubelets.pod(namespace, "stuck", node, grace_period_seconds=30)
    result = await drain_step(kube_clients, node, FAST)
    assert isinstance(result, Drained)
    assert pod_names(fake_kubelets.core, namespace, terminating=True) == ["stuck"]


async def test_uncordon_abandons_the_drain_and_a_missing_node_counts_as_drained(
    kube_clients: KubeClients, fake_kubelets: FakeKubelets
) -> None:
    node = fake_kubelets.node()
    assert isinstance(await drain_step(kube_clients, node, FAST), Drained)
    assert DRAIN_STARTED_ANNOTATION in fake_kubelets.core.read_node(node).metadata.annotations
    assert await uncordon(kube_clients, node)
    restored = fake_kubelets.core.read_node(node)
    assert not restored.spec.unschedulable
    assert DRAIN_STARTED_ANNOTATION not in (restored.metadata.annotations or {})

    gone = await drain_step(kube_clients, "no-such-node", FAST)
    assert isinstance(gone, Drained)
    assert gone.message == "node does not exist"
