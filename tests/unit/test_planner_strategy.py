"""maxSurge / maxUnavailable resolution: Deployment rounding, managed-Kubernetes defaults, no dead ends."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azk_operator.planner.strategy import (
    InvalidStrategy,
    ResolvedStrategy,
    RolloutStrategy,
    resolve_strategy,
)


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        ("25%", 0, 20, (5, 0)),
        ("25%", 0, 6, (2, 0)),  # 1.5 rounds up
        (0, "25%", 6, (0, 1)),  # 1.5 rounds down
        ("10%", 0, 3, (1, 0)),  # the default surges one node on a small pool
        ("10%", 0, 20, (2, 0)),
        (2, 1, 6, (2, 1)),
        (0, "10%", 5, (0, 1)),  # both round to zero: one unavailable, as a Deployment does
        (0, 1, 1, (1, 1)),  # a one-node pool never drops its only node: it surges instead
        (3, 10, 4, (3, 4)),  # never more unavailable than there are nodes
        ("100%", "100%", 7, (7, 7)),
    ],
)
def test_resolution(
    surge: int | str, unavailable: int | str, replicas: int, expected: tuple[int, int]
) -> None:
    strategy = RolloutStrategy(max_surge=surge, max_unavailable=unavailable)
    assert resolve_strategy(strategy, replicas) == ResolvedStrategy(*expected)


def test_defaults_follow_managed_kubernetes() -> None:
    assert RolloutStrategy() == RolloutStrategy(max_surge="10%", max_unavailable=0)
    assert resolve_strategy(RolloutStrategy(), 1) == ResolvedStrategy(1, 0)


@pytest.mark.parametrize(("surge", "unavailable"), [(0, 0), ("0%", 0), (0, "0%"), ("0%", "0%")])
def test_both_zero_is_rejected(surge: int | str, unavailable: int | str) -> None:
    with pytest.raises(InvalidStrategy, match="must not both be zero"):
        RolloutStrategy(max_surge=surge, max_unavailable=unavailable)


@pytest.mark.parametrize("value", [-1, "101%", "5", "%", "1.5%", " 5%", True])
def test_malformed_values_are_rejected_naming_the_field(value: int | str) -> None:
    with pytest.raises(InvalidStrategy, match="maxSurge"):
        RolloutStrategy(max_surge=value)


@given(
    surge=st.one_of(st.integers(0, 50), st.integers(0, 100).map(lambda p: f"{p}%")),
    unavailable=st.one_of(st.integers(0, 50), st.integers(0, 100).map(lambda p: f"{p}%")),
    replicas=st.integers(0, 1000),
)
def test_every_valid_strategy_can_make_progress(
    surge: int | str, unavailable: int | str, replicas: int
) -> None:
    try:
        strategy = RolloutStrategy(max_surge=surge, max_unavailable=unavailable)
    except InvalidStrategy:
        return
    resolved = resolve_strategy(strategy, replicas)
    assert resolved.max_surge >= 0 and 0 <= resolved.max_unavailable <= max(replicas, 1)
    # Progress needs surge room, or room to drop a node while keeping one Ready.
    assert resolved.max_surge >= 1 or (resolved.max_unavailable >= 1 and replicas != 1)
    if isinstance(surge, str) and surge != "0%" and replicas > 0:
        assert resolved.max_surge >= 1  # a percentage surge has a floor of one node
