"""Wake-ups between a NodeSet's change and its pool's next pass: none lost, none counted twice."""

from __future__ import annotations

import asyncio

from azk_operator.controllers.nodepool_wakeups import PoolWakeups

POOL = ("azk-system", "web")


async def test_a_wake_up_before_the_wait_is_kept_and_consumed_once() -> None:
    wakeups = PoolWakeups()
    wakeups.wake(POOL)
    await asyncio.wait_for(wakeups.wait(POOL, asyncio.Event().wait()), timeout=5)
    second = asyncio.ensure_future(wakeups.wait(POOL, asyncio.Event().wait()))
    await asyncio.sleep(0.05)
    assert not second.done()
    wakeups.wake(POOL)
    await asyncio.wait_for(second, timeout=5)


async def test_other_pools_do_not_wake_it_and_the_stop_signal_ends_the_wait() -> None:
    wakeups = PoolWakeups()
    stopped = asyncio.Event()
    waiting = asyncio.ensure_future(wakeups.wait(POOL, stopped.wait()))
    wakeups.wake(("azk-system", "db"))
    wakeups.wake(("other", "web"))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    stopped.set()
    await asyncio.wait_for(waiting, timeout=5)
