"""NodePool and NodeSet objects as the API returns them -> planner observation, NodeSet writes and status."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from fixtures.api_objects import example

from azk_operator.api.nodepool import NodePool
from azk_operator.planner.naming import nodeset_name
from azk_operator.planner.pool_nodesets import PoolNameUnusable, new_node_set, pool_selector, scale_patch
from azk_operator.planner.pool_observation import (
    SCALE_UP_ANNOTATION,
    format_time,
    observe_pool,
    own_node_sets,
    pool_template_hash,
)
from azk_operator.planner.pool_status import blocked_status, rollout_status
from azk_operator.planner.rollout import CreateNodeSet, Done, ScaleNodeSet, Stalled, Wait, plan_rollout

NOW = datetime.datetime(2026, 12, 4, 10, 0, 0, tzinfo=datetime.UTC)
POOL_UID = "5f0c3c1e-0000-4000-8000-000000000001"
OTHER_UID = "5f0c3c1e-0000-4000-8000-000000000002"


def pool_object(replicas: int = 6, version: str = "v1.37.2", **strategy: Any) -> dict[str, Any]:
    obj = example("NodePool")
    obj["metadata"].update(namespace="azk-system", uid=POOL_UID, generation=3)
    obj["spec"]["replicas"] = replicas
    obj["spec"]["template"]["kubernetesVersion"] = version
    obj["spec"]["strategy"].update(maxSurge=2, **strategy)
    return obj


def pool(replicas: int = 6, version: str = "v1.37.2", **strategy: Any) -> NodePool:
    return NodePool.model_validate(pool_object(replicas, version, **strategy))


def ago(seconds: float) -> str:
    return format_time(NOW - datetime.timedelta(seconds=seconds))


def condition(kind: str, status: str, reason: str, message: str, since_s: float) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": ago(since_s),
    }


def node_set_object(
    of: NodePool,
    replicas: int,
    states: list[str],
    *,
    created_s: float = 600.0,
    uid: str = POOL_UID,
    scaled_s: float | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A NodeSet the pool created, as the API server returns it once the NodeSet controller wrote status."""
    obj = new_node_set(of, nodeset_name("workers", pool_template_hash(of)), replicas, NOW)
    obj["metadata"]["creationTimestamp"] = ago(created_s)
    obj["metadata"]["ownerReferences"][0]["uid"] = uid
    if scaled_s is None:
        del obj["metadata"]["annotations"][SCALE_UP_ANNOTATION]
    else:
        obj["metadata"]["annotations"][SCALE_UP_ANNOTATION] = ago(scaled_s)
    name = obj["metadata"]["name"]
    obj["status"] = {
        "replicas": len(states),
        "instances": [
            {"name": f"{name}_{i}", "nodeName": f"vm{i:06d}", "state": state}
            for i, state in enumerate(states)
        ],
        "conditions": conditions or [],
    }
    return obj


def observe(of: NodePool, *objects: dict[str, Any]) -> Any:
    return observe_pool(of, own_node_sets(POOL_UID, objects), NOW)


OLD = pool(version="v1.36.4")
NEW = pool()


def test_a_nodeset_the_pool_created_is_recognised_as_its_current_template() -> None:
    current = node_set_object(NEW, 6, ["Ready"] * 6)
    observation = observe(NEW, current)
    assert [s.template_hash for s in observation.node_sets] == [observation.template_hash]
    assert plan_rollout(observation).outcome == Done()


def test_a_new_kubernetes_version_is_a_new_template() -> None:
    observation = observe(NEW, node_set_object(OLD, 6, ["Ready"] * 6))
    plan = plan_rollout(observation)
    assert plan.actions == (
        CreateNodeSet(nodeset_name("workers", pool_template_hash(NEW)), observation.template_hash, 2),
    )


def test_only_nodesets_controlled_by_the_pool_uid_are_observed() -> None:
    same_label_other_owner = node_set_object(OLD, 3, ["Ready"] * 3, uid=OTHER_UID)
    not_controller = node_set_object(OLD, 3, ["Ready"] * 3)
    not_controller["metadata"]["ownerReferences"][0]["controller"] = False
    mine = node_set_object(NEW, 6, ["Ready"] * 6)
    own = own_node_sets(POOL_UID, [same_label_other_owner, not_controller, mine])
    assert [s.name for s in own] == [mine["metadata"]["name"]]


def test_instance_states_map_to_vms_ready_and_leaving_nodes() -> None:
    states = ["Ready", "Ready", "NotReady", "Joining", "Creating", "Draining", "Deleting", "Failed"]
    (observed,) = observe(NEW, node_set_object(NEW, 6, states, scaled_s=30)).node_sets
    assert (observed.instances, observed.ready, observed.draining) == (8, 2, 2)
    assert observed.booting_since == (NOW - datetime.timedelta(seconds=30)).timestamp()


def test_a_status_behind_its_instances_never_undercounts_vms() -> None:
    obj = node_set_object(NEW, 6, ["Ready"] * 4)
    obj["status"]["replicas"] = 6
    (observed,) = observe(NEW, obj).node_sets
    assert observed.instances == 6


def test_startup_clock_falls_back_to_creation_and_stops_when_all_are_ready() -> None:
    (booting,) = observe(NEW, node_set_object(NEW, 2, [], created_s=90)).node_sets
    assert booting.booting_since == (NOW - datetime.timedelta(seconds=90)).timestamp()
    (ready,) = observe(NEW, node_set_object(NEW, 2, ["Ready", "Ready"], scaled_s=5)).node_sets
    assert ready.booting_since is None


def test_nodes_not_ready_past_node_startup_timeout_stall_the_rollout() -> None:
    old = node_set_object(OLD, 6, ["Ready"] * 6, created_s=7200)
    new = node_set_object(NEW, 2, ["Joining", "Joining"], scaled_s=21 * 60)  # example timeout: 20m
    plan = plan_rollout(observe(NEW, old, new))
    assert plan.actions == ()
    assert isinstance(plan.outcome, Stalled) and plan.outcome.reason == "NodeStartupTimeout"


PDB = "node vm000001: PodDisruptionBudget shop/web blocks evicting pod shop/web-1"


def test_a_blocked_drain_names_the_budget_and_times_out_after_drain_timeout() -> None:
    def draining(blocked_for_s: float) -> Any:
        old = node_set_object(
            OLD,
            4,
            ["Ready"] * 4 + ["Draining", "Draining"],
            created_s=7200,
            conditions=[condition("DrainBlocked", "True", "DisruptionBudget", PDB, blocked_for_s)],
        )
        return plan_rollout(observe(pool(drainTimeout="5m"), old, node_set_object(NEW, 2, ["Ready"] * 2)))

    blocked = draining(60)
    assert blocked.outcome == Wait(
        "DrainBlocked", f"draining NodeSet {nodeset_name('workers', pool_template_hash(OLD))}: {PDB}"
    )
    timed_out = draining(301)
    assert isinstance(timed_out.outcome, Stalled) and timed_out.outcome.reason == "DrainTimeout"
    assert PDB in timed_out.outcome.message


def test_a_drain_no_longer_blocked_is_not_reported() -> None:
    old = node_set_object(
        OLD,
        4,
        ["Ready"] * 4,
        conditions=[condition("DrainBlocked", "False", "Idle", "no drain is blocked", 900)],
    )
    (observed, _) = observe(NEW, old, node_set_object(NEW, 2, ["Ready"] * 2)).node_sets
    assert observed.drain_blocked is None and not observed.drain_timed_out


def test_scaling_up_restarts_the_startup_clock_only_when_nothing_is_waiting() -> None:
    (idle,) = own_node_sets(POOL_UID, [node_set_object(NEW, 2, ["Ready"] * 2, scaled_s=600)])
    assert scale_patch(idle, 4, NOW) == {
        "spec": {"replicas": 4},
        "metadata": {"annotations": {SCALE_UP_ANNOTATION: format_time(NOW)}},
    }
    (waiting,) = own_node_sets(
        POOL_UID, [node_set_object(NEW, 4, ["Ready"] * 2 + ["Joining"] * 2, scaled_s=60)]
    )
    assert scale_patch(waiting, 6, NOW) == {"spec": {"replicas": 6}}
    assert scale_patch(idle, 1, NOW) == {"spec": {"replicas": 1}}


def test_a_new_nodeset_is_owned_labelled_and_carries_the_pool_template() -> None:
    manifest = new_node_set(NEW, "workers-abc", 2, NOW)
    meta = manifest["metadata"]
    assert meta["labels"] == {"engine.azk.io/cluster": "demo", "engine.azk.io/nodepool": "workers"}
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "engine.azk.io/v1alpha1",
            "kind": "NodePool",
            "name": "workers",
            "uid": POOL_UID,
            "controller": True,
        }
    ]
    assert manifest["spec"]["template"]["kubernetesVersion"] == "v1.37.2"
    assert manifest["spec"]["role"] == "Worker" and manifest["spec"]["replicas"] == 2


def test_pool_names_that_cannot_be_label_values_are_refused() -> None:
    assert pool_selector("workers") == "engine.azk.io/nodepool=workers"
    with pytest.raises(PoolNameUnusable, match="at most 63"):
        pool_selector("w" * 64)


def conditions_of(status: Any) -> dict[str, tuple[str, str, str]]:
    return {c.type: (c.status, c.reason, c.message) for c in status.conditions}


def test_status_of_a_converged_pool() -> None:
    observation = observe(NEW, node_set_object(NEW, 6, ["Ready"] * 6))
    status = rollout_status(NEW, observation, plan_rollout(observation), None, NOW)
    current = nodeset_name("workers", pool_template_hash(NEW))
    assert (status.replicas, status.ready_replicas, status.updated_replicas) == (6, 6, 6)
    assert status.current_node_set == current and status.selector == "engine.azk.io/nodepool=workers"
    assert [(s.name, s.replicas, s.ready_replicas) for s in status.node_sets] == [(current, 6, 6)]
    assert status.observed_generation == 3
    conditions = conditions_of(status)
    assert conditions["Ready"][:2] == ("True", "Ready")
    assert {k: v[0] for k, v in conditions.items() if k != "Ready"} == {
        "RollingOut": "False",
        "ScalingUp": "False",
        "ScalingDown": "False",
    }


def test_status_mid_rollout_names_the_blocking_budget() -> None:
    old = node_set_object(
        OLD,
        4,
        ["Ready"] * 4 + ["Draining"] * 2,
        created_s=7200,
        conditions=[condition("DrainBlocked", "True", "DisruptionBudget", PDB, 30)],
    )
    observation = observe(NEW, old, node_set_object(NEW, 2, ["Ready"] * 2, created_s=100))
    status = rollout_status(NEW, observation, plan_rollout(observation), None, NOW)
    conditions = conditions_of(status)
    assert conditions["RollingOut"][:2] == ("True", "DrainBlocked") and PDB in conditions["RollingOut"][2]
    assert conditions["Ready"][:2] == ("False", "DrainBlocked")
    assert conditions["ScalingUp"][0] == conditions["ScalingDown"][0] == "False"
    assert (status.replicas, status.ready_replicas, status.updated_replicas) == (8, 6, 2)
    assert status.node_sets[0].name == status.current_node_set


def test_status_while_scaling_up_and_down() -> None:
    up = observe(NEW, node_set_object(NEW, 6, ["Ready"] * 3 + ["Joining"] * 3, scaled_s=10))
    assert conditions_of(rollout_status(NEW, up, plan_rollout(up), None, NOW))["ScalingUp"][:2] == (
        "True",
        "WaitingForNodes",
    )
    down_pool = pool(replicas=2)
    down = observe(down_pool, node_set_object(down_pool, 2, ["Ready"] * 2 + ["Draining"] * 4))
    conditions = conditions_of(rollout_status(down_pool, down, plan_rollout(down), None, NOW))
    assert conditions["ScalingDown"][:2] == ("True", "Draining")
    assert conditions["ScalingUp"][0] == "False"


def test_condition_times_move_only_when_their_status_changes() -> None:
    first = observe(NEW, node_set_object(NEW, 6, ["Ready"] * 3 + ["Joining"] * 3, scaled_s=10))
    before = rollout_status(NEW, first, plan_rollout(first), None, NOW - datetime.timedelta(minutes=1))
    later = observe(NEW, node_set_object(NEW, 6, ["Ready"] * 5 + ["Joining"], scaled_s=10))
    after = rollout_status(NEW, later, plan_rollout(later), before, NOW)
    times = {c.type: c.last_transition_time for c in after.conditions}
    assert times["ScalingUp"] == NOW - datetime.timedelta(minutes=1)
    done = observe(NEW, node_set_object(NEW, 6, ["Ready"] * 6))
    final = rollout_status(NEW, done, plan_rollout(done), after, NOW + datetime.timedelta(minutes=1))
    assert {c.type: c.last_transition_time for c in final.conditions}[
        "ScalingUp"
    ] == NOW + datetime.timedelta(minutes=1)


def test_a_pool_that_cannot_be_planned_keeps_its_counts_and_says_why() -> None:
    observation = observe(NEW, node_set_object(NEW, 6, ["Ready"] * 6))
    status = rollout_status(NEW, observation, plan_rollout(observation), None, NOW)
    paused = blocked_status(NEW, status, "ClusterPaused", "Cluster demo is paused", NOW)
    assert conditions_of(paused)["Ready"] == ("False", "ClusterPaused", "Cluster demo is paused")
    assert paused.ready_replicas == 6


def test_scale_actions_reach_the_current_nodeset() -> None:
    observation = observe(pool(replicas=9), node_set_object(NEW, 6, ["Ready"] * 6))
    assert plan_rollout(observation).actions == (
        ScaleNodeSet(nodeset_name("workers", pool_template_hash(NEW)), 9),
    )
