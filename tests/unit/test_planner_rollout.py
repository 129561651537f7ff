"""The rollout planner on hand-written observations, and one-step properties over random ones."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from azk_operator.planner.naming import nodeset_name, template_hash
from azk_operator.planner.rollout import (
    CreateNodeSet,
    DeleteNodeSet,
    Done,
    ObservedNodeSet,
    PoolObservation,
    ScaleNodeSet,
    Stalled,
    Wait,
    plan_rollout,
)
from azk_operator.planner.strategy import RolloutStrategy

POOL = "workers"
OLD, NEW, NEWER = (template_hash({"kubernetesVersion": v}) for v in ("v1.36.0", "v1.37.0", "v1.37.1"))


def node_set(
    hash_: str, replicas: int, ready: int | None = None, *, instances: int | None = None, **extra: object
) -> ObservedNodeSet:
    instances = replicas if instances is None else instances
    fields: dict[str, object] = {"created": {OLD: 1.0, NEW: 2.0, NEWER: 3.0}.get(hash_, 0.0), "owner": POOL}
    fields.update(extra)
    return ObservedNodeSet(
        name=nodeset_name(str(fields["owner"]), hash_),
        template_hash=hash_,
        replicas=replicas,
        instances=instances,
        ready=instances if ready is None else ready,
        **fields,  # type: ignore[arg-type]
    )


def observe(
    *sets: ObservedNodeSet,
    replicas: int = 6,
    hash_: str = NEW,
    surge: int | str = 2,
    unavailable: int | str = 0,
) -> PoolObservation:
    return PoolObservation(
        pool=POOL,
        replicas=replicas,
        template_hash=hash_,
        strategy=RolloutStrategy(max_surge=surge, max_unavailable=unavailable),
        node_sets=sets,
        now=100.0,
        node_startup_timeout_s=60.0,
    )


def name(hash_: str) -> str:
    return nodeset_name(POOL, hash_)


def test_a_new_pool_gets_its_nodeset_with_all_replicas() -> None:
    plan = plan_rollout(observe(replicas=3))
    assert plan.actions == (CreateNodeSet(name(NEW), NEW, 3),)


def test_a_template_change_surges_the_new_nodeset_up_to_max_surge() -> None:
    plan = plan_rollout(observe(node_set(OLD, 6)))
    assert plan.actions == (CreateNodeSet(name(NEW), NEW, 2),)


def test_old_nodes_drain_only_once_new_ones_are_ready() -> None:
    booting = plan_rollout(observe(node_set(OLD, 6), node_set(NEW, 2, 0, booting_since=90.0)))
    assert booting.actions == ()
    assert booting.outcome == Wait("WaitingForNodes", f"0 of 2 node(s) of NodeSet {name(NEW)} Ready", 50.0)
    ready = plan_rollout(observe(node_set(OLD, 6), node_set(NEW, 2)))
    assert ready.actions == (ScaleNodeSet(name(OLD), 4),)


def test_old_nodes_drain_in_whole_batches_not_for_each_new_node() -> None:
    part = plan_rollout(observe(node_set(OLD, 6), node_set(NEW, 2, 1, booting_since=95.0)))
    assert part.actions == (), "one of two new nodes Ready: the batch is not complete"
    whole = plan_rollout(observe(node_set(OLD, 6), node_set(NEW, 2, 2)))
    assert whole.actions == (ScaleNodeSet(name(OLD), 4),)


def test_max_unavailable_still_drains_while_a_batch_joins() -> None:
    plan = plan_rollout(observe(node_set(OLD, 6), node_set(NEW, 2, 1, booting_since=95.0), unavailable=1))
    assert plan.actions == (ScaleNodeSet(name(OLD), 5),), "only the unavailability allowance is spent"


def test_drained_room_is_refilled_with_new_nodes() -> None:
    draining = node_set(OLD, 4, 4, instances=6, draining=2)
    assert plan_rollout(observe(draining, node_set(NEW, 2))).actions == ()
    drained = node_set(OLD, 4)
    assert plan_rollout(observe(drained, node_set(NEW, 2))).actions == (ScaleNodeSet(name(NEW), 4),)


def test_max_unavailable_drains_old_nodes_before_new_ones_exist() -> None:
    plan = plan_rollout(observe(node_set(OLD, 6), surge=0, unavailable=2))
    assert plan.actions == (CreateNodeSet(name(NEW), NEW, 0), ScaleNodeSet(name(OLD), 4))


def test_unready_old_nodes_go_first_and_cost_no_capacity() -> None:
    plan = plan_rollout(observe(node_set(OLD, 6, 4), node_set(NEW, 2)))
    # 6 ready nodes in all, 6 wanted: only the two broken old nodes can go.
    assert plan.actions == (ScaleNodeSet(name(OLD), 4),)


def test_the_last_ready_node_stays_while_its_replacement_boots() -> None:
    plan = plan_rollout(observe(node_set(OLD, 1), node_set(NEW, 1, 0), replicas=1, surge=0, unavailable=1))
    assert plan.actions == ()
    assert plan.strategy.max_surge == 1  # a one-node pool surges instead of going dark


def test_plain_scaling_goes_to_the_current_nodeset() -> None:
    assert plan_rollout(observe(node_set(NEW, 3))).actions == (ScaleNodeSet(name(NEW), 6),)
    assert plan_rollout(observe(node_set(NEW, 6), replicas=2)).actions == (ScaleNodeSet(name(NEW), 2),)


def test_converged_pool_is_done_and_empty_old_nodesets_are_collected() -> None:
    assert plan_rollout(observe(node_set(NEW, 6))).outcome == Done()
    plan = plan_rollout(observe(node_set(OLD, 0), node_set(NEW, 6)))
    assert plan.actions == (DeleteNodeSet(name(OLD)),)
    assert plan.outcome != Done()


def test_other_pools_nodesets_are_never_touched() -> None:
    foreign = [node_set(OLD, 0, owner="gpu"), node_set(NEWER, 3, owner="gpu")]
    plan = plan_rollout(observe(*foreign, node_set(NEW, 6)))
    assert plan.actions == ()
    assert plan.outcome == Done()


def test_a_change_during_a_rollout_moves_on_to_the_newest_template() -> None:
    plan = plan_rollout(observe(node_set(OLD, 4), node_set(NEW, 2, 0, booting_since=99.0), hash_=NEWER))
    # The newest template takes the surge room; the superseded template's booting nodes go at no capacity
    # cost, while the old Ready nodes stay until replacements are Ready.
    assert plan.actions == (CreateNodeSet(name(NEWER), NEWER, 2), ScaleNodeSet(name(NEW), 0))


def test_a_rollback_reuses_the_old_nodeset() -> None:
    plan = plan_rollout(observe(node_set(OLD, 4), node_set(NEW, 2), hash_=OLD))
    assert plan.actions == (ScaleNodeSet(name(OLD), 6),)
    plan = plan_rollout(observe(node_set(OLD, 6), node_set(NEW, 2), hash_=OLD))
    assert plan.actions == (ScaleNodeSet(name(NEW), 0),)


def test_a_current_nodeset_being_deleted_is_waited_for_not_recreated() -> None:
    plan = plan_rollout(observe(node_set(NEW, 0, deleting=True), node_set(OLD, 6), hash_=NEW))
    assert plan.actions == ()
    assert isinstance(plan.outcome, Wait) and plan.outcome.reason == "NodeSetDeleting"


def test_nodes_not_ready_within_the_startup_timeout_stall_the_rollout() -> None:
    plan = plan_rollout(observe(node_set(OLD, 6), node_set(NEW, 2, 0, booting_since=10.0)))
    assert plan.actions == ()
    assert isinstance(plan.outcome, Stalled) and plan.outcome.reason == "NodeStartupTimeout"
    assert name(NEW) in plan.outcome.message


def test_a_blocked_drain_names_its_blocker_and_a_timed_out_one_stalls() -> None:
    blocker = "PodDisruptionBudget shop/web blocks evicting pod shop/web-1"
    old = node_set(OLD, 4, 5, instances=6, draining=1, drain_blocked=blocker)
    plan = plan_rollout(observe(old, node_set(NEW, 2)))
    assert plan.outcome == Wait("DrainBlocked", f"draining NodeSet {name(OLD)}: {blocker}")
    timed_out = node_set(OLD, 4, 5, instances=6, draining=1, drain_blocked=blocker, drain_timed_out=True)
    plan = plan_rollout(observe(timed_out, node_set(NEW, 2)))
    assert isinstance(plan.outcome, Stalled) and plan.outcome.reason == "DrainTimeout"
    assert blocker in plan.outcome.message


# One-step properties over arbitrary observations (not only those a rollout would produce).


@st.composite
def observed_sets(draw: st.DrawFn, hash_: str, created: float) -> ObservedNodeSet:
    instances = draw(st.integers(0, 8))
    ready = draw(st.integers(0, instances))
    draining = draw(st.integers(0, instances - ready))
    return ObservedNodeSet(
        name=name(hash_),
        template_hash=hash_,
        owner=draw(st.sampled_from([POOL, POOL, "gpu"])),
        replicas=draw(st.integers(0, 8)),
        instances=instances,
        ready=ready,
        draining=draining,
        created=created,
        booting_since=draw(st.none() | st.just(95.0)),
        deleting=draw(st.booleans()),
    )


@st.composite
def observations(draw: st.DrawFn) -> PoolObservation:
    hashes = draw(st.lists(st.sampled_from([OLD, NEW, NEWER]), unique=True, max_size=3))
    surges: list[int | str] = [0, 1, 3, "25%"]
    surge = draw(st.sampled_from(surges))
    choices: list[int | str] = [1, 2, "50%"] if surge == 0 else [0, 1, "25%"]
    unavailable = draw(st.sampled_from(choices))
    return observe(
        *(draw(observed_sets(h, float(i))) for i, h in enumerate(hashes)),
        replicas=draw(st.integers(0, 8)),
        hash_=draw(st.sampled_from([OLD, NEW, NEWER])),
        surge=surge,
        unavailable=unavailable,
    )


@settings(max_examples=400, deadline=None)
@given(obs=observations())
def test_no_step_breaks_a_bound_that_held_before_it(obs: PoolObservation) -> None:
    plan = plan_rollout(obs)
    own = {s.name: s for s in obs.node_sets if s.owner == obs.pool}
    targets = {n: s.replicas for n, s in own.items()}
    for action in plan.actions:
        if isinstance(action, CreateNodeSet):
            assert action.template_hash not in {s.template_hash for s in own.values()}
            targets[action.name] = action.replicas
        else:
            assert action.name in own and not own[action.name].deleting
            if isinstance(action, ScaleNodeSet):
                targets[action.name] = action.replicas
            else:
                assert own[action.name].replicas == own[action.name].instances == 0
                assert own[action.name].template_hash != obs.template_hash
                del targets[action.name]

    def footprint(replicas: dict[str, int]) -> int:
        return sum(max(r, own[n].instances if n in own else 0) for n, r in replicas.items())

    def kept(replicas: dict[str, int]) -> int:
        return sum(0 if own[n].deleting else min(own[n].ready, r) for n, r in replicas.items() if n in own)

    ceiling = obs.replicas + plan.strategy.max_surge
    floor = max(obs.replicas - plan.strategy.max_unavailable, min(1, obs.replicas))
    before = {n: s.replicas for n, s in own.items()}
    assert footprint(targets) <= max(ceiling, footprint(before))
    assert kept(targets) >= min(floor, kept(before))
    if isinstance(plan.outcome, Stalled):
        assert all(
            targets.get(n, 0) >= r
            for n, r in before.items()
            if n in own and own[n].template_hash != obs.template_hash and not own[n].deleting and r > 0
        )
