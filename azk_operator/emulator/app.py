"""The HTTP side of the emulator: request pipeline (api-version, auth, faults, throttling, journal) in front
of the ARM engine, plus the identity and control routes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from azk_operator.emulator.boot import BootDispatcher, BootHandler, NullBootHandler
from azk_operator.emulator.catalog import DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID
from azk_operator.emulator.engine import ArmEngine, ArmRequest, Subscription
from azk_operator.emulator.errors import ArmError
from azk_operator.emulator.faults import FaultBook
from azk_operator.emulator.identity import IdentityConfig, IdentityService, TokenIssuer, new_secret
from azk_operator.emulator.journal import Journal, request_kind
from azk_operator.emulator.persistence import load_state, save_state
from azk_operator.emulator.profiles import LatencyProfile
from azk_operator.emulator.throttle import Throttle, ThrottleSpec

log = logging.getLogger(__name__)
SETTLE_INTERVAL_S = 0.5
"""How often operations nobody polls are checked for completion (see ``operations.UNWATCHED_GRACE_S``) and
changed state is written to the state file (and once more when the emulator stops): writing the whole
state after every request made a state-backed emulator several times slower."""


@dataclass
class EmulatorSettings:
    """Everything that shapes an emulator instance."""

    profile: LatencyProfile = field(default_factory=LatencyProfile.fast)
    state_file: Path | None = None
    page_size: int = 100
    boot_handler: BootHandler = field(default_factory=NullBootHandler)
    throttle: ThrottleSpec | None = None
    subscriptions: list[Subscription] = field(
        default_factory=lambda: [Subscription(DEFAULT_SUBSCRIPTION_ID, "azk emulator", DEFAULT_TENANT_ID)]
    )
    tenant_id: str = DEFAULT_TENANT_ID
    identity: IdentityConfig | None = None


def _resource_type(engine: ArmEngine, segs: list[str]) -> str:
    """The ARM type a path addresses, for counters ("operations" for operation polls)."""
    low = [seg.lower() for seg in segs]
    if len(low) >= 2 and low[-2] in ("operations", "operationresults"):
        return "operations"
    if "providers" in low:
        index = len(low) - 1 - low[::-1].index("providers")
        chain = segs[index + 1 :]
        if len(chain) < 2:
            return "providers"
        types = [chain[0], *chain[1:][0::2]]
        key = "/".join(types).lower()
        if key not in engine.kinds and key not in engine.children and len(types) > 2:
            key = "/".join(types[:-1]).lower()
        known = engine.kinds.get(key) or engine.children.get(key)
        return known.type_name if known else "/".join(types)
    if "resourcegroups" in low:
        return "Microsoft.Resources/resourceGroups"
    return "Microsoft.Resources/subscriptions"


def _scale_set_of(segs: list[str]) -> str | None:
    low = [seg.lower() for seg in segs]
    for index in range(len(low) - 1):
        if low[index] == "virtualmachinescalesets" and index + 1 < len(low):
            return "/".join(low[: index + 2])
    return None


class EmulatorApp:
    """State and handlers of one emulator; runs on a single event loop."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.faults = FaultBook()
        self.journal = Journal()
        self.throttle = Throttle(settings.throttle)
        self.dispatcher = BootDispatcher(settings.boot_handler)
        self.engine = ArmEngine(
            profile=settings.profile,
            faults=self.faults,
            emit=self.dispatcher.emit,
            subscriptions=settings.subscriptions,
            page_size=settings.page_size,
        )
        token_key = secrets.token_bytes(32)
        self.identity_header = new_secret()
        state = load_state(settings.state_file) if settings.state_file else None
        self.restored = state is not None
        if state is not None:
            self.engine.load_json(state.get("engine", {}))
            token_key = base64.b64decode(state["token_key"])
            self.identity_header = state.get("identity_header", self.identity_header)
        self._token_key = token_key
        self.identity = IdentityService(
            settings.identity or IdentityConfig(settings.tenant_id),
            TokenIssuer(token_key, settings.tenant_id),
            self.identity_header,
        )

    # -- persistence -------------------------------------------------------------------------------

    def persist(self, force: bool = False) -> None:
        if self.settings.state_file is None or not (self.engine.dirty or force):
            return
        save_state(
            self.settings.state_file,
            {
                "engine": self.engine.to_json(),
                "token_key": base64.b64encode(self._token_key).decode(),
                "identity_header": self.identity_header,
            },
        )
        self.engine.dirty = False

    # -- applications ------------------------------------------------------------------------------

    def arm_app(self) -> web.Application:
        from azk_operator.emulator.control_api import control_routes

        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.add_routes(control_routes(self))
        app.add_routes(self.identity.routes())
        app.router.add_route("*", "/{tail:.*}", self.handle_arm)
        app.cleanup_ctx.append(self._settling)
        return app

    async def _settling(self, _: web.Application) -> AsyncIterator[None]:
        """Finish unwatched operations in the background for as long as the server runs."""

        async def settle_forever() -> None:
            while True:
                await asyncio.sleep(SETTLE_INTERVAL_S)
                self.engine.settle(time.time())
                self.persist()

        task = asyncio.create_task(settle_forever())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def msi_app(self) -> web.Application:
        app = web.Application()
        app.add_routes(self.identity.msi_routes())
        return app

    # -- the ARM pipeline --------------------------------------------------------------------------

    async def handle_arm(self, request: web.Request) -> web.StreamResponse:
        segs = [seg for seg in request.path.split("/") if seg]
        query = {key.lower(): value for key, value in request.query.items()}
        api_version = query.get("api-version")
        resource_type = _resource_type(self.engine, segs)
        kind = request_kind(request.method)
        try:
            response = await self._dispatch(request, segs, query, api_version)
        except ArmError as err:
            response = web.json_response(err.body(), status=err.status, headers=err.headers)
        except Exception:
            log.exception("emulator failed on %s %s", request.method, request.path)
            response = web.json_response(
                {"error": {"code": "InternalServerError", "message": "The emulator failed on this request."}},
                status=500,
            )
        client_id = request.headers.get("x-ms-client-request-id")
        response.headers.setdefault("x-ms-request-id", secrets.token_hex(16))
        if client_id:
            response.headers["x-ms-client-request-id"] = client_id
        self.journal.record(
            method=request.method,
            path=request.path,
            api_version=api_version,
            client_request_id=client_id,
            status=response.status,
            resource_type=resource_type,
            kind=kind,
        )
        return response

    async def _dispatch(
        self, request: web.Request, segs: list[str], query: dict[str, str], api_version: str | None
    ) -> web.StreamResponse:
        if not api_version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        self._authenticate(request)
        rule = self.faults.match(request.method, request.path)
        if rule is not None:
            if rule.latency_ms:
                await asyncio.sleep(rule.latency_ms / 1000)
            if rule.status is not None:
                return web.json_response(
                    rule.response_body(), status=rule.status, headers=rule.response_headers()
                )
        wait, limit_headers = self.throttle.check(
            subscription=segs[1] if len(segs) > 1 else "",
            write=request.method not in ("GET", "HEAD"),
            scale_set=_scale_set_of(segs) if request.method in ("PUT", "PATCH", "POST") else None,
        )
        if wait is not None:
            raise ArmError(
                429,
                "TooManyRequests",
                "The request is being throttled as the limit has been reached for operation type.",
                headers={"Retry-After": str(wait), **limit_headers},
            )
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise ArmError(
                        400, "InvalidRequestContent", "The request content is not valid JSON."
                    ) from exc
        arm_request = ArmRequest(
            method=request.method,
            path=request.path,
            query=query,
            headers=request.headers,
            body=body,
            base_url=f"{request.scheme}://{request.host}",
        )
        result = self.engine.handle(arm_request)
        headers = {**limit_headers, **result.headers}
        if result.body is None or request.method == "HEAD":
            return web.Response(status=result.status, headers=headers)
        return web.json_response(result.body, status=result.status, headers=headers)

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        challenge = {
            "WWW-Authenticate": (
                f'Bearer authorization_uri="{request.scheme}://{request.host}/{self.settings.tenant_id}", '
                'error="invalid_token", error_description="The access token is missing or invalid."'
            )
        }
        if not header:
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                headers=challenge,
            )
        if scheme.lower() != "bearer" or not self.identity.accepts(token.strip()):
            raise ArmError(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid or expired.",
                headers=challenge,
            )

    def reset(self, *, resources: bool = True, journal: bool = True, faults: bool = True) -> None:
        if resources:
            self.engine.reset()
        if journal:
            self.journal.clear()
        if faults:
            self.faults.clear()
            self.throttle.configure(self.settings.throttle)
        self.engine.page_size = self.settings.page_size
        self.dispatcher.handler = self.settings.boot_handler
        self.persist(force=True)
