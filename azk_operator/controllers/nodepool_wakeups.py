"""Wake-up flags that let a NodeSet's change start its pool's next planning pass at once.

A rollout step ends when a NodeSet's status changes (a node turned Ready, a drained VM was deleted), which
is an event on the NodeSet, not on the NodePool. The NodeSet event handler sets the pool's flag; the pool's
observation timer waits on it (or on the resync interval), so each step follows the previous one without a
polling delay and without a second writer: every pass of a pool still runs in its one timer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable

PoolKey = tuple[str, str]
"""(namespace, pool name)."""


class PoolWakeups:
    """One flag per pool, created on first use; kept in the operator-wide kopf memo."""

    def __init__(self) -> None:
        self._flags: dict[PoolKey, asyncio.Event] = {}

    def _flag(self, key: PoolKey) -> asyncio.Event:
        return self._flags.setdefault(key, asyncio.Event())

    def wake(self, key: PoolKey) -> None:
        self._flag(key).set()

    def forget(self, key: PoolKey) -> None:
        self._flags.pop(key, None)

    async def wait(self, key: PoolKey, stopped: Awaitable[object]) -> None:
        """Return once the pool is woken or `stopped` completes (e.g. a timeout or the operator stopping),
        consuming the wake-up so that the next wait blocks again."""
        flag = self._flag(key)
        woken = asyncio.ensure_future(flag.wait())
        ended = asyncio.ensure_future(stopped)
        try:
            await asyncio.wait({woken, ended}, return_when=asyncio.FIRST_COMPLETED)
            # Cleared before anything else can run: a wake-up arriving from here on is kept for next time.
            flag.clear()
        finally:
            for task in (woken, ended):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
