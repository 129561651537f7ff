"""Boot hooks: what the emulator tells the outside world when a VM starts or goes away.

The emulator calls ``on_boot`` when a virtual machine or a scale-set instance has been created (its create
operation finished) and ``on_shutdown`` when it has been deleted; power actions and restarts of the emulator
send the same events with another ``reason``. Handlers are coroutines run on the
emulator's event loop, so a simulator may start processes and await them; events of one machine are
delivered in order (a shutdown never overtakes its boot), different machines run concurrently.
A handler's exception is logged and does not affect the ARM answer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Literal, Protocol

# Why a machine boots: its create finished, it was started after a power-off (or restarted), or the
# emulator restarted from saved state and announces the machines that were running.
BootReason = Literal["created", "started", "restored"]
# Why it shuts down: it was deleted (scale-in, instance delete, group delete) or powered off/deallocated
# (or is restarting).
ShutdownReason = Literal["deleted", "stopped"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrontendAddress:
    """A load-balancer frontend in front of a machine.

    ``address`` is what ARM reports (a 127.10.x.y public address, or the private address of an internal
    frontend); ``loopback`` is always a bindable loopback address for it (equal to ``address`` for public
    frontends).
    """

    load_balancer_id: str
    frontend_name: str
    address: str
    loopback: str


@dataclass(frozen=True)
class BootEvent:
    """One machine: a VM (``instance_id`` is None) or a scale-set instance."""

    resource_id: str
    name: str
    computer_name: str
    location: str
    vm_size: str
    tags: dict[str, str]
    custom_data: bytes | None
    private_ips: tuple[str, ...]
    frontends: tuple[FrontendAddress, ...] = ()
    scale_set_id: str | None = None
    instance_id: str | None = None
    zones: tuple[str, ...] = field(default_factory=tuple)
    reason: BootReason = "created"


@dataclass(frozen=True)
class ShutdownEvent:
    resource_id: str
    name: str
    computer_name: str
    scale_set_id: str | None = None
    instance_id: str | None = None
    reason: ShutdownReason = "deleted"


class BootHandler(Protocol):
    """Implement both methods; either may be a no-op."""

    async def on_boot(self, event: BootEvent) -> None: ...

    async def on_shutdown(self, event: ShutdownEvent) -> None: ...


class NullBootHandler:
    """The default: machines "boot" without running anything."""

    async def on_boot(self, event: BootEvent) -> None:
        return None

    async def on_shutdown(self, event: ShutdownEvent) -> None:
        return None


class BootDispatcher:
    """Runs handler calls as tasks, chained per machine so each machine's events stay ordered."""

    def __init__(self, handler: BootHandler) -> None:
        self.handler = handler
        self._last: dict[str, asyncio.Task[None]] = {}

    def emit(self, event: BootEvent | ShutdownEvent) -> None:
        key = event.resource_id.lower()
        previous = self._last.get(key)
        task = asyncio.get_running_loop().create_task(self._run(previous, event))
        self._last[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        if self._last.get(key) is task:
            del self._last[key]

    async def _run(self, previous: asyncio.Task[None] | None, event: BootEvent | ShutdownEvent) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            if isinstance(event, BootEvent):
                await self.handler.on_boot(event)
            else:
                await self.handler.on_shutdown(event)
        except Exception:
            log.exception("boot handler failed for %s", event.resource_id)

    async def drain(self) -> None:
        """Wait until every handler call emitted so far has finished."""
        while self._last:
            await asyncio.gather(*list(self._last.values()), return_exceptions=True)
