"""What a resource type handler is: validation, defaults, derived fields, actions and delete rules.

The engine owns the generic ARM semantics (routing, LROs, etags, paging); a handler only knows its own
resource type. Handlers get the engine through the narrow ``World`` protocol so they cannot reach into
server concerns (journal, faults, auth).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from azk_operator.emulator.errors import ArmError
from azk_operator.emulator.store import Record

if TYPE_CHECKING:
    from azk_operator.emulator.boot import BootEvent, ShutdownEvent
    from azk_operator.emulator.ipam import AddressPools
    from azk_operator.emulator.store import ResourceStore

Effect = dict[str, Any]


class World(Protocol):
    """The parts of the engine a handler may use."""

    store: ResourceStore
    pools: AddressPools

    def emit(self, event: BootEvent | ShutdownEvent) -> None: ...

    def resource_removed(self, record: Record) -> None: ...


@dataclass(frozen=True)
class ActionResult:
    """An action's immediate answer: effects applied when its operation finishes."""

    effects: list[Effect] = field(default_factory=list)


ActionFn = Callable[["World", Record, dict[str, Any]], ActionResult]
GetActionFn = Callable[["World", Record], dict[str, Any]]


class ResourceKind:
    """Base handler for a top-level (or record-backed child) resource type."""

    type_name: str = ""
    namespace: str = ""
    # How the PUT answers: True → 201/200 + Azure-AsyncOperation; False → synchronous 200/201.
    put_is_lro: bool = True
    # Compute PATCH is an LRO (200 + Azure-AsyncOperation); network PATCH (tags) is synchronous.
    patch_is_lro: bool = False
    # DELETE answers 202 + operation headers; False → synchronous 200 (availability sets).
    delete_is_lro: bool = True
    # Status of a PUT that creates: 201 for most types, 200 for availability sets.
    created_status: int = 201
    has_location: bool = True
    in_use_code: str = "InUseResourceCannotBeDeleted"
    creatable: bool = True

    @property
    def key(self) -> str:
        return self.type_name.lower()

    def new_etag(self, previous: str | None) -> str:
        """Network resources carry weak GUID etags; compute overrides this with a counter."""
        return f'W/"{uuid.uuid4()}"'

    def prepare(self, world: World, record: Record, previous: Record | None) -> None:
        """Validate ``record.body`` (the requested state), fill defaults and derived fields.

        Raise :class:`ArmError` for invalid requests. ``previous`` is the stored record on an update.
        """

    def pending_state(self, created: bool) -> str:
        return "Updating"

    def check_delete(self, world: World, record: Record) -> None:
        referrers = world.store.referrers(record.id)
        if referrers:
            raise ArmError(
                400,
                self.in_use_code,
                f"{record.id} is in use by {referrers[0].id} and cannot be deleted.",
            )

    def after_commit(self, world: World, record: Record, previous: Record | None) -> None:
        """Called once the new state is stored (a scale set adds or marks its instances here)."""

    def on_succeeded(self, world: World, record: Record, created: bool) -> None:
        """Called when the record's create/update operation finished (boot hooks live here)."""

    def on_removed(self, world: World, record: Record) -> None:
        """Called after the record left the store: release addresses, shutdown hooks."""

    def view(self, world: World, record: Record) -> dict[str, Any]:
        """The body ARM returns; back-references are computed here so they never block a delete."""
        return record.body

    def apply_effect(self, world: World, record: Record, name: str, args: dict[str, Any]) -> None:
        """Apply a kind-specific effect of a finished operation (see ``actions``)."""
        raise ArmError(500, "InternalServerError", f"{self.type_name} has no effect {name!r}")

    def actions(self) -> dict[str, ActionFn]:
        """POST actions by lowercase name."""
        return {}

    def get_actions(self) -> dict[str, GetActionFn]:
        """GET sub-resources computed from the record (``instanceView``) by lowercase name."""
        return {}


@dataclass(frozen=True)
class EmbeddedChild:
    """A child that lives in its parent's ``properties.<collection>`` array (a subnet, a rule)."""

    parent: ResourceKind
    collection: str  # the property name, e.g. "subnets"
    type_name: str  # e.g. "Microsoft.Network/virtualNetworks/subnets"
    writable: bool = True
    in_use_code: str = "InUseResourceCannotBeDeleted"

    @property
    def key(self) -> str:
        return self.type_name.lower()


def require_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ArmError(400, "InvalidRequestContent", f"{what} must be a JSON object.")
    return value


def child_id(parent_id: str, collection: str, name: str) -> str:
    return f"{parent_id}/{collection}/{name}"
