"""The ``/_emulator/`` control API used by tests, benchmarks and local mode (no ARM auth: loopback only)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from aiohttp import web

from azk_operator.emulator.faults import FaultRule, OperationFault
from azk_operator.emulator.identity import ARM_AUDIENCE
from azk_operator.emulator.throttle import BucketSpec, ThrottleSpec

if TYPE_CHECKING:
    from azk_operator.emulator.app import EmulatorApp

_RULE_FIELDS = {f.name for f in dataclasses.fields(FaultRule)} - {"id", "hits"}
_OP_FAULT_FIELDS = {f.name for f in dataclasses.fields(OperationFault)} - {"id"}


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(text="body must be JSON") from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


def _bucket(data: dict[str, Any] | None, default: BucketSpec) -> BucketSpec:
    if not data:
        return default
    return BucketSpec(
        float(data.get("capacity", default.capacity)),
        float(data.get("refill_per_second", default.refill_per_second)),
    )


def control_routes(emu: EmulatorApp) -> list[web.RouteDef]:
    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "resources": len(emu.engine.store)})

    async def inventory(request: web.Request) -> web.Response:
        wanted = request.query.get("type", "").lower()
        items = [
            {
                "id": rec.id,
                "type": rec.type,
                "name": rec.body.get("name"),
                "location": rec.body.get("location"),
                "tags": dict(rec.body.get("tags") or {}),
                "provisioningState": rec.properties.get("provisioningState"),
            }
            for rec in emu.engine.store.records()
            if not wanted or rec.type.lower() == wanted
        ]
        return web.json_response({"resources": items})

    async def journal(request: web.Request) -> web.Response:
        return web.json_response({"entries": emu.journal.to_json()})

    async def counters(request: web.Request) -> web.Response:
        return web.json_response({"counters": emu.journal.counters})

    async def operations(request: web.Request) -> web.Response:
        return web.json_response(
            {"operations": [op.to_json() | {"effects": None} for op in emu.engine.ops.in_flight()]}
        )

    async def add_fault(request: web.Request) -> web.Response:
        data = await _json(request)
        unknown = set(data) - _RULE_FIELDS
        if unknown:
            raise web.HTTPBadRequest(text=f"unknown fault fields {sorted(unknown)}")
        rule = FaultRule(**data)
        emu.faults.rules.append(rule)
        return web.json_response({"id": rule.id}, status=201)

    async def list_faults(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "rules": [rule.to_json() for rule in emu.faults.rules],
                "operation_faults": [dataclasses.asdict(fault) for fault in emu.faults.operation_faults],
            }
        )

    async def delete_fault(request: web.Request) -> web.Response:
        if not emu.faults.remove(request.match_info["fault_id"]):
            raise web.HTTPNotFound(text="no such fault")
        return web.Response(status=204)

    async def clear_faults(request: web.Request) -> web.Response:
        emu.faults.clear()
        return web.Response(status=204)

    async def add_operation_fault(request: web.Request) -> web.Response:
        data = await _json(request)
        unknown = set(data) - _OP_FAULT_FIELDS
        if unknown or "code" not in data:
            raise web.HTTPBadRequest(text=f"operation faults take {sorted(_OP_FAULT_FIELDS)} and need 'code'")
        fault = OperationFault(**data)
        emu.faults.operation_faults.append(fault)
        return web.json_response({"id": fault.id}, status=201)

    async def throttling(request: web.Request) -> web.Response:
        data = await _json(request)
        if not data.get("enabled", True):
            emu.throttle.configure(None)
        else:
            base = ThrottleSpec()
            emu.throttle.configure(
                ThrottleSpec(
                    reads=_bucket(data.get("reads"), base.reads),
                    writes=_bucket(data.get("writes"), base.writes),
                    scale_set_updates=_bucket(data.get("scale_set_updates"), base.scale_set_updates),
                )
            )
        return web.json_response({"enabled": emu.throttle.enabled})

    async def config(request: web.Request) -> web.Response:
        data = await _json(request)
        if "page_size" in data:
            size = int(data["page_size"])
            if size < 1:
                raise web.HTTPBadRequest(text="page_size must be positive")
            emu.engine.page_size = size
        return web.json_response({"page_size": emu.engine.page_size, "profile": emu.engine.profile.name})

    async def token(request: web.Request) -> web.Response:
        data = await _json(request)
        issued, lifetime = emu.identity.issuer.issue(
            str(data.get("subject", "azk-test")),
            str(data.get("audience", ARM_AUDIENCE)),
            f"{request.scheme}://{request.host}/{emu.settings.tenant_id}/v2.0",
        )
        return web.json_response({"access_token": issued, "expires_in": lifetime})

    async def reset(request: web.Request) -> web.Response:
        data = await _json(request)
        emu.reset(
            resources=bool(data.get("resources", True)),
            journal=bool(data.get("journal", True)),
            faults=bool(data.get("faults", True)),
        )
        return web.Response(status=204)

    async def persist(request: web.Request) -> web.Response:
        emu.persist(force=True)
        return web.Response(status=204)

    prefix = "/_emulator"
    return [
        web.get(f"{prefix}/health", health),
        web.get(f"{prefix}/inventory", inventory),
        web.get(f"{prefix}/journal", journal),
        web.get(f"{prefix}/counters", counters),
        web.get(f"{prefix}/operations", operations),
        web.post(f"{prefix}/faults", add_fault),
        web.get(f"{prefix}/faults", list_faults),
        web.delete(f"{prefix}/faults", clear_faults),
        web.delete(f"{prefix}/faults/{{fault_id}}", delete_fault),
        web.post(f"{prefix}/operation-faults", add_operation_fault),
        web.put(f"{prefix}/throttling", throttling),
        web.put(f"{prefix}/config", config),
        web.post(f"{prefix}/tokens", token),
        web.post(f"{prefix}/reset", reset),
        web.post(f"{prefix}/persist", persist),
    ]
