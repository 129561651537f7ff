"""The rollout lower bound the benchmark compares against."""

from __future__ import annotations

import pytest

from azk_operator.planner.bounds import rollout_batches, rollout_lower_bound_s
from azk_operator.planner.strategy import RolloutStrategy


def test_the_benchmark_pool_rolls_in_four_batches() -> None:
    strategy = RolloutStrategy(max_surge="25%")
    assert rollout_batches(20, strategy) == 4
    assert rollout_lower_bound_s(20, strategy, boot_s=240.0, drain_s=30.0, delete_s=20.0) == 4 * 290.0


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "batches"),
    [(0, 1, 0, 0), (1, 1, 0, 1), (6, 2, 0, 3), (7, 2, 0, 4), (6, 0, 2, 3), (6, 2, 1, 2), (3, "10%", 0, 3)],
)
def test_batches(replicas: int, surge: int | str, unavailable: int | str, batches: int) -> None:
    assert rollout_batches(replicas, RolloutStrategy(max_surge=surge, max_unavailable=unavailable)) == batches


def test_negative_timings_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        rollout_lower_bound_s(3, RolloutStrategy(), boot_s=-1.0, drain_s=1.0)
