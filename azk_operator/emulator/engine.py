"""ARM semantics independent of HTTP: routing of ARM paths, CRUD, etags, paging and operations.

The engine runs on the server's event loop only (never from two threads), so it needs no locks.
"""

from __future__ import annotations

import copy
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azk_operator.emulator import catalog
from azk_operator.emulator.boot import BootEvent, ShutdownEvent
from azk_operator.emulator.errors import ArmError, not_found
from azk_operator.emulator.faults import FaultBook
from azk_operator.emulator.ipam import AddressPools
from azk_operator.emulator.operations import Operation, OperationBook
from azk_operator.emulator.profiles import Latency, LatencyProfile
from azk_operator.emulator.resources.base import Effect, EmbeddedChild, ResourceKind, require_dict
from azk_operator.emulator.resources.compute import vcpus_in_use
from azk_operator.emulator.resources.registry import RESOURCE_GROUP_TYPE, build_registry
from azk_operator.emulator.store import Record, ResourceStore, iter_reference_ids, parent_and_child

_RETRY_AFTER_CAP_S = 15  # ARM never asks to wait longer than this between polls
_READ_ONLY_KEYS = ("id", "name", "type", "etag")


@dataclass
class ArmRequest:
    method: str
    path: str
    query: Mapping[str, str]  # keys lowercased
    headers: Mapping[str, str]  # case-insensitive
    body: Any
    base_url: str  # "https://127.0.0.1:PORT", used for absolute operation URLs and nextLinks

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")


@dataclass
class ArmResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Subscription:
    id: str
    display_name: str
    tenant_id: str

    def body(self) -> dict[str, Any]:
        return {
            "id": f"/subscriptions/{self.id}",
            "subscriptionId": self.id,
            "displayName": self.display_name,
            "tenantId": self.tenant_id,
            "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "spendingLimit": "Off"},
        }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as ARM applies PATCH bodies."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class ArmEngine:
    """One emulated ARM: the resource store, address pools and operations, and the request semantics.

    Writes store the requested state at once with a non-terminal ``provisioningState``; the operation
    started with it finishes on observation (see ``profiles``) and then applies its effects (state
    Succeeded, removal, power changes). A new write on a resource with an operation in flight finishes
    that operation first, so the last writer wins, as in ARM.
    """

    def __init__(
        self,
        *,
        profile: LatencyProfile,
        faults: FaultBook,
        emit: Callable[[BootEvent | ShutdownEvent], None],
        subscriptions: list[Subscription],
        page_size: int = 100,
    ) -> None:
        self.profile = profile
        self.faults = faults
        self._emit = emit
        self.subscriptions = {sub.id.lower(): sub for sub in subscriptions}
        self.page_size = page_size
        self.store = ResourceStore()
        self.pools = AddressPools()
        self.ops = OperationBook()
        self.kinds, self.children = build_registry()
        self.dirty = False

    # -- World protocol (used by resource handlers) -------------------------------------------------

    def emit(self, event: BootEvent | ShutdownEvent) -> None:
        self._emit(event)

    def resource_removed(self, record: Record) -> None:
        kind = self.kinds.get(record.type.lower())
        if kind is not None:
            kind.on_removed(self, record)

    # -- entry point ---------------------------------------------------------------------------------

    def handle(self, req: ArmRequest) -> ArmResponse:
        segs = [seg for seg in req.path.split("/") if seg]
        low = [seg.lower() for seg in segs]
        if not low or low[0] != "subscriptions":
            raise ArmError(404, "InvalidResourceType", f"No route for '{req.path}'.")
        if len(low) == 1:
            return self._require_get(req) or self._page(
                req, [sub.body() for sub in self.subscriptions.values()]
            )
        sub = self._subscription(segs[1])
        if len(low) == 2:
            return self._require_get(req) or ArmResponse(200, sub.body())
        rest, rest_low = segs[2:], low[2:]
        if rest_low == ["locations"]:
            return self._require_get(req) or self._page(
                req, [catalog.location_body(sub.id, loc) for loc in catalog.LOCATIONS.values()]
            )
        if rest_low[0] == "operationresults" and len(rest) == 2:
            return self._operation_location(req, rest[1])
        if rest_low[0] == "resourcegroups":
            return self._resource_groups(req, sub, rest[1:])
        if rest_low[0] == "providers" and len(rest) >= 3:
            return self._subscription_provider(req, sub, rest[1:])
        raise ArmError(404, "InvalidResourceType", f"No route for '{req.path}'.")

    def _require_get(self, req: ArmRequest) -> ArmResponse | None:
        if req.method not in ("GET", "HEAD"):
            raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed here.")
        return None

    def _subscription(self, sub_id: str) -> Subscription:
        sub = self.subscriptions.get(sub_id.lower())
        if sub is None:
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{sub_id}' could not be found.")
        return sub

    # -- subscription-level provider paths ------------------------------------------------------------

    def _subscription_provider(self, req: ArmRequest, sub: Subscription, parts: list[str]) -> ArmResponse:
        low = [part.lower() for part in parts]
        namespace = low[0]
        if len(low) == 5 and low[1] == "locations" and low[3] in ("operations", "operationresults"):
            if low[3] == "operations":
                return self._operation_status(req, parts[4])
            return self._operation_location(req, parts[4])
        self._require_get(req)
        if namespace == "microsoft.compute" and low[1:] == ["skus"]:
            location = _location_filter(req.query.get("$filter", ""))
            return self._page(req, catalog.resource_skus(location))
        if (
            namespace == "microsoft.compute"
            and len(low) == 4
            and low[1] == "locations"
            and low[3] == "usages"
        ):
            return self._page(req, self._usages(sub, catalog.normalize_location(parts[2])))
        if len(low) == 2:
            kind = self.kinds.get(f"{namespace}/{low[1]}")
            if kind is None:
                raise _unknown_type(parts[0], parts[1])
            prefix = f"/subscriptions/{sub.id}/".lower()
            items = [
                kind.view(self, rec)
                for rec in self.store.records()
                if rec.type.lower() == kind.key and rec.key.startswith(prefix)
            ]
            return self._page(req, items)
        raise ArmError(404, "InvalidResourceType", f"No route for '{req.path}'.")

    def _usages(self, sub: Subscription, location: str) -> list[dict[str, Any]]:
        used = vcpus_in_use(self.store, sub.id, location)
        rows = [("cores", "Total Regional vCPUs", sum(used.values()), catalog.REGIONAL_VCPU_LIMIT)]
        families = sorted({size.family for size in catalog.VM_SIZES.values()})
        rows += [
            (family, f"{family} vCPUs", used.get(family, 0), catalog.FAMILY_VCPU_LIMIT) for family in families
        ]
        return [
            {
                "unit": "Count",
                "currentValue": current,
                "limit": limit,
                "name": {"value": name, "localizedValue": label},
            }
            for name, label, current, limit in rows
        ]

    # -- resource groups ------------------------------------------------------------------------------

    def group_id(self, sub: Subscription, name: str) -> str:
        existing = self.store.get(f"/subscriptions/{sub.id}/resourceGroups/{name}")
        return existing.id if existing else f"/subscriptions/{sub.id}/resourceGroups/{name}"

    def _resource_groups(self, req: ArmRequest, sub: Subscription, parts: list[str]) -> ArmResponse:
        if not parts:
            self._require_get(req)
            groups = [
                rec.body
                for rec in self.store.records()
                if rec.type == RESOURCE_GROUP_TYPE and rec.key.startswith(f"/subscriptions/{sub.id}/".lower())
            ]
            return self._page(req, groups)
        group_name = parts[0]
        if len(parts) == 1:
            return self._resource_group(req, sub, group_name)
        group = self._existing_group(sub, group_name)
        low = [part.lower() for part in parts]
        if low[1:] == ["resources"]:
            self._require_get(req)
            summary_keys = ("id", "name", "type", "location", "tags")
            items: list[dict[str, Any]] = [
                {key: rec.body[key] for key in summary_keys if key in rec.body}
                for rec in self.store.under(group.id)
                if rec.type.lower() in self.kinds and rec.key.count("/") == group.key.count("/") + 4
            ]
            return self._page(req, items)
        if low[1] == "providers" and len(parts) >= 4:
            return self._provider_path(req, sub, group, parts[2:])
        raise ArmError(404, "InvalidResourceType", f"No route for '{req.path}'.")

    def _existing_group(self, sub: Subscription, name: str) -> Record:
        group = self.store.get(f"/subscriptions/{sub.id}/resourceGroups/{name}")
        if group is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        return group

    def _resource_group(self, req: ArmRequest, sub: Subscription, name: str) -> ArmResponse:
        rid = self.group_id(sub, name)
        existing = self.store.get(rid)
        if req.method in ("GET", "HEAD"):
            if existing is None:
                if req.method == "HEAD":
                    return ArmResponse(404)
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
            pending = self.ops.pending_for(rid)
            if pending is not None:
                self.observe(pending)
            if req.method == "HEAD":
                return ArmResponse(204)
            return ArmResponse(200, existing.body)
        if req.method == "PUT":
            body = require_dict(req.body, "The request body")
            location = _requested_location(body, existing, RESOURCE_GROUP_TYPE)
            if existing is None:
                _check_name(name, 90)
            elif existing.properties.get("provisioningState") == "Deleting":
                raise _group_being_deleted(name)
            record = Record(
                id=rid,
                type=RESOURCE_GROUP_TYPE,
                body={
                    "id": rid,
                    "name": rid.rsplit("/", 1)[-1],
                    "type": RESOURCE_GROUP_TYPE,
                    "location": location,
                    "tags": dict(body.get("tags") or {}),
                    "properties": {"provisioningState": "Succeeded"},
                },
            )
            if body.get("managedBy"):
                record.body["managedBy"] = body["managedBy"]
            self.store.put(record)
            self.dirty = True
            return ArmResponse(200 if existing else 201, record.body)
        if existing is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        if req.method == "PATCH":
            patch = require_dict(req.body, "The request body")
            if "tags" in patch:
                existing.body["tags"] = dict(patch.get("tags") or {})
            if "managedBy" in patch:
                existing.body["managedBy"] = patch["managedBy"]
            self.dirty = True
            return ArmResponse(200, existing.body)
        if req.method == "DELETE":
            pending = self.ops.pending_for(rid)
            if pending is not None and pending.method == "DELETE":
                return self._lro_response(req, pending, 202, None, location=True, async_header=False)
            existing.properties["provisioningState"] = "Deleting"
            op = self._start(
                sub=sub.id,
                namespace="",
                location=existing.body["location"],
                method="DELETE",
                target=rid,
                latency=self.profile.latency("resourcegroups/delete"),
                effects=[{"kind": "remove_group", "id": rid}],
            )
            return self._lro_response(req, op, 202, None, location=True, async_header=False)
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed here.")

    # -- provider resources inside a group ---------------------------------------------------------

    def _provider_path(
        self, req: ArmRequest, sub: Subscription, group: Record, parts: list[str]
    ) -> ArmResponse:
        namespace, chain = parts[0], parts[1:]
        types = [namespace, *chain[0::2]]
        full_type = "/".join(types).lower()
        if len(chain) % 2 == 1:
            # ".../type" lists a collection; ".../type/name/verb" is an action of the resource.
            if full_type in self.kinds or full_type in self.children:
                self._require_get(req)
                return self._list(req, group, parts)
            rid_parts = parts[:-1]
            verb = parts[-1].lower()
            owner, record = self._resolve_record(group, rid_parts)
            return self._action(req, sub, owner, record, verb)
        if full_type in self.children:
            return self._embedded(req, sub, group, self.children[full_type], parts)
        kind = self.kinds.get(full_type)
        if kind is None:
            raise _unknown_type(namespace, "/".join(chain[0::2]))
        rid = self._canonical_id(group, kind, parts)
        if req.method in ("GET", "HEAD"):
            record = self._must_get(rid, kind)
            pending = self.ops.pending_for(record.id)
            if pending is not None:
                self.observe(pending)
            return ArmResponse(200, kind.view(self, record))
        if req.method == "PUT":
            return self._put(req, sub, group, kind, rid)
        if req.method == "PATCH":
            return self._patch(req, sub, group, kind, rid)
        if req.method == "DELETE":
            return self._delete(req, sub, kind, rid)
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed here.")

    def _canonical_id(self, group: Record, kind: ResourceKind, parts: list[str]) -> str:
        """The id as first created (ARM keeps the original casing), or the requested one spelled with the
        registry's type names."""
        names = parts[2::2]
        type_names = kind.type_name.split("/")
        built = f"{group.id}/providers/{type_names[0]}"
        for type_name, name in zip(type_names[1:], names, strict=True):
            built += f"/{type_name}/{name}"
        existing = self.store.get(built)
        return existing.id if existing else built

    def _resolve_record(self, group: Record, parts: list[str]) -> tuple[ResourceKind, Record]:
        full_type = "/".join([parts[0], *parts[1:][0::2]]).lower()
        kind = self.kinds.get(full_type)
        if kind is None:
            raise _unknown_type(parts[0], "/".join(parts[1:][0::2]))
        return kind, self._must_get(self._canonical_id(group, kind, parts), kind)

    def _must_get(self, rid: str, kind: ResourceKind) -> Record:
        record = self.store.get(rid)
        if record is None:
            group = rid.split("/")[4]
            raise not_found(kind.type_name, "/".join(rid.split("/")[8::2]), group)
        return record

    def _list(self, req: ArmRequest, group: Record, parts: list[str]) -> ArmResponse:
        full_type = "/".join([parts[0], *parts[1:][0::2]]).lower()
        if full_type in self.children:
            child = self.children[full_type]
            _, parent = self._resolve_record(group, parts[:-1])
            return self._page(req, list(parent.properties.get(child.collection) or []))
        kind = self.kinds[full_type]
        parent_prefix = group.id if len(parts) == 2 else self._resolve_record(group, parts[:-1])[1].id
        depth = parent_prefix.count("/") + (4 if len(parts) == 2 else 2)
        items = [
            kind.view(self, rec)
            for rec in self.store.under(parent_prefix)
            if rec.type.lower() == kind.key and rec.id.count("/") == depth
        ]
        return self._page(req, items)

    def _check_preconditions(self, req: ArmRequest, existing: dict[str, Any] | None) -> None:
        if_match = req.headers.get("If-Match")
        if if_match is not None:
            current = existing.get("etag") if existing else None
            if existing is None or (if_match != "*" and if_match != current):
                raise ArmError(
                    412,
                    "PreconditionFailed",
                    f"The condition in the If-Match header ({if_match}) is not met.",
                )
        if req.headers.get("If-None-Match") == "*" and existing is not None:
            raise ArmError(412, "PreconditionFailed", "The resource already exists (If-None-Match: *).")

    def _writable_group(self, group: Record) -> None:
        if group.properties.get("provisioningState") == "Deleting":
            raise _group_being_deleted(group.body["name"])

    def _put(
        self, req: ArmRequest, sub: Subscription, group: Record, kind: ResourceKind, rid: str
    ) -> ArmResponse:
        self._writable_group(group)
        body = require_dict(req.body, "The request body")
        self._require_creatable(kind)
        existing = self.store.get(rid)
        self._check_preconditions(req, existing.body if existing else None)
        if existing is not None:
            self._supersede(existing.id)
        record = self._build(kind, rid, body, existing)
        return self._write(req, sub, kind, record, existing, 200 if existing else kind.created_status)

    def _patch(
        self, req: ArmRequest, sub: Subscription, group: Record, kind: ResourceKind, rid: str
    ) -> ArmResponse:
        self._writable_group(group)
        patch = require_dict(req.body, "The request body")
        self._require_creatable(kind)
        existing = self._must_get(rid, kind)
        self._check_preconditions(req, existing.body)
        self._supersede(existing.id)
        merged = merge_patch(existing.body, patch)
        record = self._build(kind, rid, merged, existing)
        if not kind.patch_is_lro:
            self._commit(kind, record, existing, "Succeeded")
            kind.after_commit(self, record, existing)
            return ArmResponse(200, kind.view(self, record))
        return self._write(req, sub, kind, record, existing, 200)

    def _require_creatable(self, kind: ResourceKind) -> None:
        if not kind.creatable:
            raise ArmError(
                405, "OperationNotAllowed", f"{kind.type_name} resources are changed through their parent."
            )

    def _prepare(self, kind: ResourceKind, record: Record, existing: Record | None) -> None:
        """Run the handler's validation; undo its address allocations when it rejects the request."""
        snapshot = self.pools.snapshot()
        try:
            kind.prepare(self, record, existing)
            self._check_references(record)
        except ArmError:
            self.pools.restore(snapshot)
            raise

    def _check_references(self, record: Record) -> None:
        """Like ARM, refuse references to resources of known types that do not exist."""
        for ref in iter_reference_ids(record.body):
            low = ref.lower()
            if low == record.key or low.startswith(record.key + "/"):
                continue
            parts = ref.split("/")
            if len(parts) < 9 or parts[5].lower() != "providers":
                continue
            ref_type = "/".join([parts[6], *parts[7::2]]).lower()
            if (ref_type in self.kinds or ref_type in self.children) and not self.store.exists(ref):
                raise ArmError(
                    400,
                    "InvalidResourceReference",
                    f"Resource {ref} referenced by resource {record.id} was not found.",
                )

    def _build(self, kind: ResourceKind, rid: str, body: dict[str, Any], existing: Record | None) -> Record:
        clean = {key: copy.deepcopy(value) for key, value in body.items() if key not in _READ_ONLY_KEYS}
        clean.setdefault("properties", {})
        if not isinstance(clean["properties"], dict):
            raise ArmError(400, "InvalidRequestContent", "properties must be a JSON object.")
        clean["properties"].pop("provisioningState", None)
        record = Record(
            id=rid,
            type=kind.type_name,
            body={"id": rid, "name": rid.rsplit("/", 1)[-1], "type": kind.type_name, **clean},
            meta=copy.deepcopy(existing.meta) if existing else {},
        )
        if existing is None:
            _check_name(record.body["name"], 80)
        if kind.has_location:
            record.body["location"] = _requested_location(body, existing, kind.type_name)
        if "tags" in record.body and record.body["tags"] is None:
            record.body["tags"] = {}
        self._prepare(kind, record, existing)
        return record

    def _commit(self, kind: ResourceKind, record: Record, existing: Record | None, state: str) -> None:
        record.body["etag"] = kind.new_etag(existing.body.get("etag") if existing else None)
        record.properties["provisioningState"] = state
        self._derive_children(kind, record, state)
        self.store.put(record)
        self.dirty = True

    def _derive_children(self, kind: ResourceKind, record: Record, state: str) -> None:
        for child in self.children.values():
            if child.parent is not kind:
                continue
            for item in record.properties.get(child.collection) or []:
                item["id"] = f"{record.id}/{child.collection}/{item.get('name', '')}"
                item["etag"] = record.body["etag"]
                item["type"] = child.type_name
                item.setdefault("properties", {})["provisioningState"] = state

    def _write(
        self,
        req: ArmRequest,
        sub: Subscription,
        kind: ResourceKind,
        record: Record,
        existing: Record | None,
        status: int,
    ) -> ArmResponse:
        if not kind.put_is_lro:
            self._commit(kind, record, existing, "Succeeded")
            kind.after_commit(self, record, existing)
            kind.on_succeeded(self, record, existing is None)
            return ArmResponse(status, kind.view(self, record))
        self._commit(kind, record, existing, kind.pending_state(existing is None))
        kind.after_commit(self, record, existing)
        op = self._start(
            sub=sub.id,
            namespace=kind.namespace,
            location=record.body.get("location", "global"),
            method=req.method,
            target=record.id,
            latency=self.profile.latency(kind.key),
            effects=[{"kind": "succeed", "id": record.id, "created": existing is None}],
        )
        return self._lro_response(req, op, status, kind.view(self, record), location=False, async_header=True)

    def _delete(self, req: ArmRequest, sub: Subscription, kind: ResourceKind, rid: str) -> ArmResponse:
        record = self.store.get(rid)
        if record is None:
            return ArmResponse(204)
        self._check_preconditions(req, record.body)
        pending = self.ops.pending_for(record.id)
        if pending is not None and pending.method == "DELETE":
            return self._lro_response(req, pending, 202, None, location=True, async_header=True)
        kind.check_delete(self, record)
        self._supersede(record.id)
        self.dirty = True
        if not kind.delete_is_lro:
            self._remove_tree(record.id)
            return ArmResponse(200)
        record.properties["provisioningState"] = "Deleting"
        op = self._start(
            sub=sub.id,
            namespace=kind.namespace,
            location=record.body.get("location", "global"),
            method="DELETE",
            target=record.id,
            latency=self.profile.latency(kind.key),
            effects=[{"kind": "remove", "id": record.id}],
        )
        return self._lro_response(req, op, 202, None, location=True, async_header=True)

    def _action(
        self, req: ArmRequest, sub: Subscription, kind: ResourceKind, record: Record, verb: str
    ) -> ArmResponse:
        if req.method == "GET":
            get_action = kind.get_actions().get(verb)
            if get_action is None:
                raise ArmError(
                    404, "InvalidResourceType", f"'{verb}' is not a sub-resource of {kind.type_name}."
                )
            return self._page_or_body(req, get_action(self, record))
        action = kind.actions().get(verb)
        if req.method != "POST" or action is None:
            raise ArmError(
                405, "MethodNotAllowed", f"'{req.method} {verb}' is not supported on {kind.type_name}."
            )
        body = req.body if isinstance(req.body, dict) else {}
        result = action(self, record, body)
        self.dirty = True
        op = self._start(
            sub=sub.id,
            namespace=kind.namespace,
            location=record.body.get("location", "global"),
            method="POST",
            target=f"{record.id}/{verb}",
            latency=self.profile.latency(kind.key),
            effects=result.effects,
        )
        return self._lro_response(req, op, 202, None, location=True, async_header=True)

    def _page_or_body(self, req: ArmRequest, body: dict[str, Any]) -> ArmResponse:
        if set(body) == {"value"} and isinstance(body["value"], list):
            return self._page(req, body["value"])
        return ArmResponse(200, body)

    # -- embedded children (subnets, rules, routes, load-balancer parts) -----------------------------

    def _embedded(
        self, req: ArmRequest, sub: Subscription, group: Record, child: EmbeddedChild, parts: list[str]
    ) -> ArmResponse:
        _, parent = self._resolve_record(group, parts[:-2])
        name = parts[-1]
        items: list[dict[str, Any]] = list(parent.properties.get(child.collection) or [])
        current = next((item for item in items if str(item.get("name", "")).lower() == name.lower()), None)
        child_rid = f"{parent.id}/{child.collection}/{current['name'] if current else name}"
        if req.method == "GET":
            if current is None:
                raise ArmError(404, "NotFound", f"Resource {child_rid} not found.")
            pending = self.ops.pending_for(child_rid)
            if pending is not None:
                self.observe(pending)
            return ArmResponse(200, current)
        if not child.writable:
            raise ArmError(405, "MethodNotAllowed", f"{child.type_name} is changed through its parent.")
        self._writable_group(group)
        if req.method == "PUT":
            body = require_dict(req.body, "The request body")
            self._check_preconditions(req, current)
            self._supersede(parent.id)
            new_item = {
                "name": current["name"] if current else name,
                "properties": dict(body.get("properties") or {}),
            }
            new_items = [item for item in items if item is not current] if current else list(items)
            position = items.index(current) if current else len(new_items)
            new_items.insert(position, new_item)
            parent_body = copy.deepcopy(parent.body)
            parent_body["properties"][child.collection] = new_items
            kind = self.kinds[parent.type.lower()]
            candidate = Record(
                id=parent.id, type=parent.type, body=parent_body, meta=copy.deepcopy(parent.meta)
            )
            self._prepare(kind, candidate, parent)
            return self._commit_child(
                req, sub, kind, parent, candidate, child, child_rid, 200 if current else 201
            )
        if req.method == "DELETE":
            if current is None:
                return ArmResponse(204)
            referrers = [rec for rec in self.store.referrers(child_rid) if rec.key != parent.key]
            if referrers:
                raise ArmError(
                    400,
                    child.in_use_code,
                    f"{child_rid} is in use by {referrers[0].id} and cannot be deleted.",
                )
            current.setdefault("properties", {})["provisioningState"] = "Deleting"
            self.dirty = True
            op = self._start(
                sub=sub.id,
                namespace=self.kinds[parent.type.lower()].namespace,
                location=parent.body.get("location", "global"),
                method="DELETE",
                target=child_rid,
                latency=self.profile.latency(child.key),
                effects=[{"kind": "remove_child", "id": child_rid}],
            )
            return self._lro_response(req, op, 202, None, location=True, async_header=True)
        raise ArmError(405, "MethodNotAllowed", f"The method '{req.method}' is not allowed here.")

    def _commit_child(
        self,
        req: ArmRequest,
        sub: Subscription,
        kind: ResourceKind,
        parent: Record,
        candidate: Record,
        child: EmbeddedChild,
        child_rid: str,
        status: int,
    ) -> ArmResponse:
        states = {
            str(item.get("name", "")).lower(): item.get("properties", {}).get(
                "provisioningState", "Succeeded"
            )
            for item in parent.properties.get(child.collection) or []
        }
        candidate.body["etag"] = kind.new_etag(parent.body.get("etag"))
        candidate.properties["provisioningState"] = parent.properties.get("provisioningState", "Succeeded")
        self._derive_children(kind, candidate, "Succeeded")
        target_name = child_rid.rsplit("/", 1)[-1].lower()
        view: dict[str, Any] = {}
        for item in candidate.properties.get(child.collection) or []:
            name = str(item.get("name", "")).lower()
            item["properties"]["provisioningState"] = (
                "Updating" if name == target_name else states.get(name, "Succeeded")
            )
            if name == target_name:
                view = item
        self.store.put(candidate)
        self.dirty = True
        op = self._start(
            sub=sub.id,
            namespace=kind.namespace,
            location=candidate.body.get("location", "global"),
            method="PUT",
            target=child_rid,
            latency=self.profile.latency(child.key),
            effects=[{"kind": "succeed", "id": child_rid, "created": status == 201}],
        )
        return self._lro_response(req, op, status, view, location=False, async_header=True)

    # -- operations ---------------------------------------------------------------------------------

    def _start(
        self,
        *,
        sub: str,
        namespace: str,
        location: str,
        method: str,
        target: str,
        latency: Latency,
        effects: list[Effect],
    ) -> Operation:
        op = self.ops.start(
            subscription=sub,
            namespace=namespace,
            location=location,
            method=method,
            target=target,
            latency=latency,
            effects=effects,
        )
        op.fail_with = self.faults.operation_failure(target)
        self.dirty = True
        return op

    def _supersede(self, target: str) -> None:
        """A new write on a resource finishes its in-flight operation first (its effects apply)."""
        pending = self.ops.pending_for(target)
        if pending is not None:
            self._complete(pending)

    def observe(self, op: Operation) -> None:
        """One observation of an in-flight operation; finishes it when its latency rule is met."""
        if op.status != "InProgress":
            return
        op.polls += 1
        op.last_observed = time.time()
        if op.ready(op.last_observed):
            self._complete(op)

    def settle(self, now: float) -> None:
        """Finish the operations nobody watches once their time is up, as Azure does on its own."""
        for op in self.ops.in_flight():
            if op.status == "InProgress" and op.finishes_unwatched(now):
                self._complete(op)

    def _complete(self, op: Operation) -> None:
        if op.fail_with is not None:
            self.ops.finish(op, op.fail_with)
            self._mark_failed(op.target)
        else:
            for effect in op.effects:
                self._apply(effect)
            self.ops.finish(op, None)
        self.dirty = True

    def _mark_failed(self, target: str) -> None:
        record = self.store.get(target)
        if record is not None:
            record.properties["provisioningState"] = "Failed"
            return
        found = self.store.find_child(target)
        if found is not None:
            found[1].setdefault("properties", {})["provisioningState"] = "Failed"

    def _apply(self, effect: Effect) -> None:
        kind_name = effect["kind"]
        rid = str(effect["id"])
        if kind_name == "succeed":
            record = self.store.get(rid)
            if record is not None:
                record.properties["provisioningState"] = "Succeeded"
                kind = self.kinds[record.type.lower()]
                self._derive_children(kind, record, "Succeeded")
                kind.on_succeeded(self, record, bool(effect.get("created")))
                return
            found = self.store.find_child(rid)
            if found is not None:
                found[1].setdefault("properties", {})["provisioningState"] = "Succeeded"
        elif kind_name == "remove":
            self._remove_tree(rid)
        elif kind_name == "remove_child":
            split = parent_and_child(rid)
            parent = self.store.get(split[0]) if split else None
            if parent is not None and split is not None:
                items = parent.properties.get(split[1]) or []
                parent.properties[split[1]] = [
                    i for i in items if str(i.get("name", "")).lower() != split[2].lower()
                ]
        elif kind_name == "remove_group":
            for record in sorted(self.store.under(rid), key=lambda rec: -rec.id.count("/")):
                self._remove_one(record)
            self.store.remove(rid)
        elif kind_name == "call":
            record = self.store.get(rid)
            if record is not None:
                self.kinds[record.type.lower()].apply_effect(
                    self, record, effect["name"], effect.get("args", {})
                )

    def _remove_tree(self, rid: str) -> None:
        for record in sorted(self.store.under(rid), key=lambda rec: -rec.id.count("/")):
            self._remove_one(record)
        root = self.store.get(rid)
        if root is not None:
            self._remove_one(root)

    def _remove_one(self, record: Record) -> None:
        self.store.remove(record.id)
        for op in self.ops.pending_under(record.id):
            self.ops.finish(op, None)
        self.resource_removed(record)

    def _op_url(self, req: ArmRequest, op: Operation, segment: str) -> str:
        version = req.api_version or "2024-01-01"
        if not op.namespace:
            return (
                f"{req.base_url}/subscriptions/{op.subscription}/operationresults/{op.id}"
                f"?api-version={version}"
            )
        return (
            f"{req.base_url}/subscriptions/{op.subscription}/providers/{op.namespace}/locations/{op.location}"
            f"/{segment}/{op.id}?api-version={version}"
        )

    def _poll_headers(self, op: Operation) -> dict[str, str]:
        """``retry-after-ms`` keeps SDK polling quick; an integer ``Retry-After`` (which the SDK prefers)
        only appears when the operation really has a second or more to go, as ARM would say."""
        remaining = op.remaining(time.time())
        headers = {"retry-after-ms": str(max(1, min(int(remaining * 1000), _RETRY_AFTER_CAP_S * 1000)))}
        if remaining >= 1:
            headers["Retry-After"] = str(min(_RETRY_AFTER_CAP_S, math.floor(remaining)))
        return headers

    def _lro_response(
        self, req: ArmRequest, op: Operation, status: int, body: Any, *, location: bool, async_header: bool
    ) -> ArmResponse:
        headers = self._poll_headers(op)
        if async_header:
            headers["Azure-AsyncOperation"] = self._op_url(req, op, "operations")
        if location:
            headers["Location"] = self._op_url(req, op, "operationResults")
        return ArmResponse(status, body, headers)

    def _find_op(self, op_id: str) -> Operation:
        op = self.ops.get(op_id)
        if op is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{op_id}' was not found.")
        return op

    def _operation_status(self, req: ArmRequest, op_id: str) -> ArmResponse:
        self._require_get(req)
        op = self._find_op(op_id)
        self.observe(op)
        headers = self._poll_headers(op) if op.status == "InProgress" else {}
        return ArmResponse(200, op.status_body(), headers)

    def _operation_location(self, req: ArmRequest, op_id: str) -> ArmResponse:
        self._require_get(req)
        op = self._find_op(op_id)
        self.observe(op)
        if op.status == "InProgress":
            headers = self._poll_headers(op)
            headers["Location"] = self._op_url(req, op, "operationResults")
            return ArmResponse(202, None, headers)
        if op.status == "Failed":
            return ArmResponse(400, {"error": op.error})
        return ArmResponse(204 if op.method in ("DELETE", "POST") else 200, None)

    # -- paging -------------------------------------------------------------------------------------

    def _page(self, req: ArmRequest, items: list[dict[str, Any]]) -> ArmResponse:
        try:
            skip = max(0, int(req.query.get("$skiptoken", "0")))
        except ValueError as exc:
            raise ArmError(400, "InvalidSkipToken", "The $skiptoken is not valid.") from exc
        page = items[skip : skip + self.page_size]
        body: dict[str, Any] = {"value": page}
        if skip + self.page_size < len(items):
            query = "&".join(
                f"{key}={value}"
                for key, value in req.query.items()
                if key not in ("$skiptoken", "api-version")
            )
            extra = f"&{query}" if query else ""
            body["nextLink"] = (
                f"{req.base_url}{req.path}?api-version={req.api_version}{extra}"
                f"&%24skiptoken={skip + self.page_size}"
            )
        return ArmResponse(200, body)

    # -- persistence --------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "resources": self.store.to_json(),
            "operations": self.ops.to_json(),
            "pools": self.pools.to_json(),
        }

    def load_json(self, data: dict[str, Any]) -> None:
        self.store.load_json(data.get("resources", []))
        self.ops.load_json(data.get("operations", []))
        self.pools.load_json(data.get("pools", {}))

    def reset(self) -> None:
        self.store.clear()
        self.ops.clear()
        self.pools.clear()
        self.dirty = True


def _location_filter(expression: str) -> str | None:
    """The ``location eq 'x'`` filter the SKU listing accepts."""
    text = expression.strip()
    if text.lower().startswith("location eq "):
        return catalog.normalize_location(text[len("location eq ") :].strip().strip("'"))
    return None


_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._()-]*[A-Za-z0-9_)])?$")


def _check_name(name: str, limit: int) -> None:
    if len(name) > limit or not _NAME.fullmatch(name):
        raise ArmError(
            400,
            "InvalidResourceName",
            f"Resource name {name!r} is invalid: up to {limit} letters, digits, '_', '.', '-', '(' and ')', "
            "starting with a letter or digit and not ending with '.' or '-'.",
        )


def _requested_location(body: dict[str, Any], existing: Record | None, type_name: str) -> str:
    """ARM refuses a missing or unknown location, and a change of location of an existing resource."""
    raw = body.get("location")
    if not raw:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    location = catalog.normalize_location(str(raw))
    if existing is not None and existing.body.get("location") != location:
        code = (
            "InvalidResourceGroupLocation" if type_name == RESOURCE_GROUP_TYPE else "InvalidResourceLocation"
        )
        raise ArmError(
            409,
            code,
            f"The resource '{existing.body['name']}' already exists in location "
            f"'{existing.body['location']}'. It cannot move to '{location}'.",
        )
    if location not in catalog.LOCATIONS:
        raise _bad_location(str(raw), type_name)
    return location


def _unknown_type(namespace: str, type_path: str) -> ArmError:
    return ArmError(
        404,
        "InvalidResourceType",
        f"The resource type '{type_path}' could not be found in the namespace '{namespace}'.",
    )


def _bad_location(location: str, type_name: str) -> ArmError:
    return ArmError(
        400,
        "LocationNotAvailableForResourceType",
        f"The provided location '{location}' is not available for resource type '{type_name}'. "
        f"List of available regions is '{','.join(catalog.LOCATIONS)}'.",
    )


def _group_being_deleted(name: str) -> ArmError:
    return ArmError(
        409,
        "ResourceGroupBeingDeleted",
        f"The resource group '{name}' is in deprovisioning state and cannot perform this operation.",
    )
