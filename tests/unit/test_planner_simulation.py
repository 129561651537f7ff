"""Step-by-step rollouts of simulated pools: the planner's bounds hold at every observed moment.

The world models what the planner does not control: the NodeSet controller catching up with spec.replicas
after a random lag (creating VMs, choosing victims with `choose_victims` and draining them), VMs booting
and drains finishing after random times, template changes and rollbacks at random moments, and a
neighbouring pool whose NodeSets must never be touched.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from azk_operator.planner.bounds import rollout_lower_bound_s
from azk_operator.planner.naming import nodeset_name, template_hash
from azk_operator.planner.rollout import (
    CreateNodeSet,
    Done,
    ObservedNodeSet,
    Plan,
    PoolObservation,
    ScaleNodeSet,
    Stalled,
    plan_rollout,
)
from azk_operator.planner.strategy import RolloutStrategy, resolve_strategy
from azk_operator.planner.victims import Instance, choose_victims

POOL = "workers"
NEIGHBOUR = "workers-gpu"
NEVER = -1


def template(version: int) -> str:
    return template_hash({"kubernetesVersion": f"v1.{version}.0", "vmSize": "Standard_D4s_v5"})


@dataclass
class Vm:
    vm_id: int
    requested: float
    state: str  # "booting", "ready" or "draining"
    remaining: int  # ticks until the boot or the drain finishes; NEVER for a boot that hangs


@dataclass
class SimNodeSet:
    name: str
    hash: str
    owner: str
    created: float
    replicas: int
    vms: list[Vm] = field(default_factory=list)
    scale_requested: float = 0.0


@dataclass
class World:
    rng: random.Random
    desired: int
    strategy: RolloutStrategy
    hash: str
    max_boot: int = 3
    max_drain: int = 3
    fixed_ticks: tuple[int, int] | None = None
    """(boot, drain) ticks for every VM instead of random ones up to max_boot and max_drain."""
    reconcile_probability: float = 0.6
    startup_timeout: float = 1000.0
    hanging_hashes: frozenset[str] = frozenset()
    now: float = 0.0
    sets: dict[str, SimNodeSet] = field(default_factory=dict)
    next_id: int = 0

    def add_converged(self, owner: str, hash_: str, count: int) -> None:
        name = nodeset_name(owner, hash_)
        node_set = SimNodeSet(name, hash_, owner, created=self.now, replicas=count)
        node_set.vms = [self._vm(node_set, "ready") for _ in range(count)]
        self.sets[name] = node_set

    def _vm(self, node_set: SimNodeSet, state: str) -> Vm:
        self.next_id += 1
        if state == "ready":
            remaining = 0
        elif node_set.hash in self.hanging_hashes:
            remaining = NEVER
        else:
            remaining = self._ticks(0)
        return Vm(self.next_id, node_set.scale_requested, state, remaining)

    def _ticks(self, kind: int) -> int:
        """Ticks left after the current one for a boot (kind 0) or a drain (kind 1)."""
        if self.fixed_ticks is not None:
            return self.fixed_ticks[kind] - 1
        return self.rng.randint(0, (self.max_boot, self.max_drain)[kind])

    def observe(self) -> PoolObservation:
        observed = []
        for s in self.sets.values():
            booting = [vm.requested for vm in s.vms if vm.state == "booting"]
            if s.replicas > len(s.vms):
                booting.append(s.scale_requested)
            observed.append(
                ObservedNodeSet(
                    name=s.name,
                    template_hash=s.hash,
                    owner=s.owner,
                    replicas=s.replicas,
                    instances=len(s.vms),
                    ready=sum(vm.state == "ready" for vm in s.vms),
                    draining=sum(vm.state == "draining" for vm in s.vms),
                    created=s.created,
                    booting_since=min(booting, default=None),
                )
            )
        return PoolObservation(
            pool=POOL,
            replicas=self.desired,
            template_hash=self.hash,
            strategy=self.strategy,
            node_sets=tuple(observed),
            now=self.now,
            node_startup_timeout_s=self.startup_timeout,
        )

    def apply(self, plan: Plan) -> None:
        for action in plan.actions:
            own = {name for name, s in self.sets.items() if s.owner == POOL}
            if isinstance(action, CreateNodeSet):
                assert action.template_hash not in {self.sets[n].hash for n in own}, "NodeSet not reused"
                assert action.name not in self.sets
                self.sets[action.name] = SimNodeSet(
                    action.name, action.template_hash, POOL, self.now, action.replicas, [], self.now
                )
            elif isinstance(action, ScaleNodeSet):
                assert action.name in own, f"touched {action.name}, not the pool's own"
                node_set = self.sets[action.name]
                if action.replicas > max(node_set.replicas, len(node_set.vms)):
                    node_set.scale_requested = self.now
                node_set.replicas = action.replicas
            else:
                assert action.name in own, f"deleted {action.name}, not the pool's own"
                node_set = self.sets[action.name]
                assert node_set.hash != self.hash, "deleted the current NodeSet"
                assert node_set.replicas == 0 and not node_set.vms, "deleted a NodeSet that still has VMs"
                del self.sets[action.name]

    def reconcile_node_sets(self) -> None:
        """The NodeSet controller: create missing VMs, drain the victims of a scale-down."""
        for s in self.sets.values():
            if self.rng.random() > self.reconcile_probability:
                continue
            active = [vm for vm in s.vms if vm.state != "draining"]
            if len(s.vms) < s.replicas:
                s.vms.extend(self._vm(s, "booting") for _ in range(s.replicas - len(s.vms)))
            elif len(active) > s.replicas:
                candidates = [
                    Instance(str(vm.vm_id), vm.state == "ready", float(vm.vm_id), draining=False)
                    for vm in active
                ]
                for victim in choose_victims(candidates, len(active) - s.replicas):
                    vm = next(vm for vm in s.vms if str(vm.vm_id) == victim.instance_id)
                    vm.state, vm.remaining = "draining", self._ticks(1)

    def advance(self) -> None:
        self.now += 1
        for s in self.sets.values():
            finished = [vm for vm in s.vms if vm.remaining == 0]
            for vm in s.vms:
                vm.remaining -= vm.remaining > 0
            for vm in finished:
                vm.state = "ready" if vm.state == "booting" else vm.state
            s.vms = [vm for vm in s.vms if not (vm in finished and vm.state == "draining")]

    def own_vms(self) -> list[Vm]:
        return [vm for s in self.sets.values() if s.owner == POOL for vm in s.vms]


def check_bounds(world: World, plan: Plan) -> None:
    ceiling = world.desired + plan.strategy.max_surge
    floor = max(world.desired - plan.strategy.max_unavailable, min(1, world.desired))
    vms = world.own_vms()
    assert len(vms) <= ceiling, f"{len(vms)} VMs, more than {ceiling}"
    ready = sum(vm.state == "ready" for vm in vms)
    assert ready >= floor, f"{ready} Ready nodes, fewer than {floor}"


def step(world: World) -> Plan:
    plan = plan_rollout(world.observe())
    world.apply(plan)
    check_bounds(world, plan)
    world.reconcile_node_sets()
    check_bounds(world, plan)
    world.advance()
    return plan


values = st.one_of(st.integers(0, 4), st.sampled_from(["0%", "10%", "25%", "33%", "50%", "100%"]))


@st.composite
def strategies(draw: st.DrawFn) -> RolloutStrategy:
    surge, unavailable = draw(values), draw(values)
    assume(surge not in (0, "0%") or unavailable not in (0, "0%"))
    return RolloutStrategy(max_surge=surge, max_unavailable=unavailable)


def start(seed: int, desired: int, strategy: RolloutStrategy, **knobs: object) -> World:
    world = World(random.Random(seed), desired, strategy, template(1), **knobs)  # type: ignore[arg-type]
    world.add_converged(POOL, template(1), desired)
    world.add_converged(NEIGHBOUR, template(1), 2)
    world.hash = template(2)
    return world


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32),
    desired=st.integers(0, 10),
    strategy=strategies(),
    changes=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 4)), max_size=3),
)
def test_rollouts_stay_within_bounds_and_finish(
    seed: int, desired: int, strategy: RolloutStrategy, changes: list[tuple[int, int]]
) -> None:
    world = start(seed, desired, strategy)
    neighbour = {n: (s.replicas, len(s.vms)) for n, s in world.sets.items() if s.owner == NEIGHBOUR}
    pending = sorted(changes)
    limit = 60 * (desired + 2) * (len(changes) + 1)
    for tick in range(limit):
        while pending and pending[0][0] <= tick:
            world.hash = template(pending.pop(0)[1])  # new templates, and rollbacks to earlier ones
        plan = step(world)
        if isinstance(plan.outcome, Done) and not pending:
            break
    else:
        raise AssertionError(f"no Done within {limit} steps: {plan.outcome}")

    own = [s for s in world.sets.values() if s.owner == POOL]
    assert [s.hash for s in own] == [world.hash]
    assert [vm.state for vm in own[0].vms] == ["ready"] * desired
    assert {n: (s.replicas, len(s.vms)) for n, s in world.sets.items() if s.owner == NEIGHBOUR} == neighbour


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), desired=st.integers(1, 10), strategy=strategies())
def test_new_nodes_that_never_become_ready_stall_at_the_surge_bound(
    seed: int, desired: int, strategy: RolloutStrategy
) -> None:
    world = start(seed, desired, strategy, startup_timeout=8.0, hanging_hashes=frozenset({template(2)}))
    for _ in range(40 * (desired + 2)):
        plan = step(world)
    assert isinstance(plan.outcome, Stalled) and plan.outcome.reason == "NodeStartupTimeout"
    resolved = resolve_strategy(strategy, desired)
    old_ready = sum(vm.state == "ready" for vm in world.own_vms())
    assert old_ready >= max(desired - resolved.max_unavailable, 1)

    # Fixing the template (here: rolling back) resumes and finishes the rollout on the old NodeSet.
    world.hash = template(1)
    for _ in range(40 * (desired + 2)):
        if isinstance(step(world).outcome, Done):
            break
    own = [s for s in world.sets.values() if s.owner == POOL]
    assert [(s.hash, len(s.vms)) for s in own] == [(template(1), desired)]


@settings(max_examples=60, deadline=None)
@given(
    desired=st.integers(1, 24),
    surge=st.sampled_from([1, 2, "10%", "25%", "50%"]),
    boot=st.integers(1, 6),
    drain=st.integers(1, 6),
)
def test_a_rollout_with_prompt_controllers_takes_exactly_its_lower_bound(
    desired: int, surge: int | str, boot: int, drain: int
) -> None:
    """With fixed timings and controllers acting at once, the planner wastes no time between batches."""
    strategy = RolloutStrategy(max_surge=surge, max_unavailable=0)
    world = start(0, desired, strategy, reconcile_probability=1.0, fixed_ticks=(boot, drain))
    ticks = 0
    while not isinstance(step(world).outcome, Done):
        ticks += 1
        assert ticks < 10_000
    # One tick per boot and drain of each batch, plus the pass that deletes the emptied old NodeSet.
    assert ticks == rollout_lower_bound_s(desired, strategy, boot_s=boot, drain_s=drain) + 1
