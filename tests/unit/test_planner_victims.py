"""Scale-down victims: already draining, then unready, then newest; deterministic on ties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from azk_operator.planner.victims import Instance, choose_victims


def ids(victims: tuple[Instance, ...]) -> list[str]:
    return [v.instance_id for v in victims]


def test_draining_then_unready_then_newest() -> None:
    instances = [
        Instance("0", ready=True, created=1.0),
        Instance("1", ready=True, created=3.0),
        Instance("2", ready=False, created=0.5),
        Instance("3", ready=False, created=2.0, draining=True),
        Instance("4", ready=True, created=2.0),
    ]
    assert ids(choose_victims(instances, 5)) == ["3", "2", "1", "4", "0"]
    assert ids(choose_victims(instances, 2)) == ["3", "2"]
    assert choose_victims(instances, 0) == ()


def test_ties_break_on_the_highest_instance_id_as_a_number() -> None:
    instances = [Instance(i, ready=True, created=5.0) for i in ("9", "10", "2", "vm-11", "vm-3")]
    assert ids(choose_victims(instances, 5)) == ["vm-11", "vm-3", "10", "9", "2"]


instance_lists = st.lists(
    st.builds(
        Instance,
        instance_id=st.from_regex(r"[a-z]{0,2}[0-9]{1,3}", fullmatch=True),
        ready=st.booleans(),
        created=st.integers(0, 5).map(float),
        draining=st.booleans(),
    ),
    max_size=12,
    unique_by=lambda i: i.instance_id,
)


@given(instances=instance_lists, count=st.integers(0, 14), seed=st.randoms(use_true_random=False))
def test_victims_do_not_depend_on_input_order_and_spare_ready_nodes(
    instances: list[Instance], count: int, seed: object
) -> None:
    victims = choose_victims(instances, count)
    shuffled = list(instances)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    assert choose_victims(shuffled, count) == victims
    assert len(victims) == min(count, len(instances))
    # A NodeSet scaled to t keeps min(ready, t) Ready nodes: what the rollout planner's arithmetic assumes.
    kept = [i for i in instances if i not in victims]
    ready = sum(i.ready and not i.draining for i in instances)
    assert sum(i.ready and not i.draining for i in kept) == min(ready, len(kept))
