"""Identity endpoints: a Microsoft Entra-like token service and a managed-identity endpoint.

The real azure-identity credentials work against them unchanged:

- ``ClientSecretCredential(tenant, client_id, secret, authority=<emulator endpoint>,
  disable_instance_discovery=True, connection_verify=<ca>)``
- ``WorkloadIdentityCredential(..., token_file_path=<federated token file>, authority=..., ...)``
- ``ManagedIdentityCredential()`` with ``AZURE_POD_IDENTITY_AUTHORITY_HOST=<msi endpoint>`` (IMDS protocol)
  or ``IDENTITY_ENDPOINT=<msi endpoint>/msi/token`` + ``IDENTITY_HEADER=<header secret>`` (App Service).

Access tokens are HS256 JWTs signed with a key that is persisted with the emulator state, so tokens issued
before a restart stay valid. The ARM server accepts them and the static test token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

STATIC_TEST_TOKEN = "azk-emulator-static-test-token"  # noqa: S105 - a documented test credential
TEST_CLIENT_ID = "00000000-0000-4000-8000-0000000000c1"
TEST_CLIENT_SECRET = "azk-emulator-test-secret"  # noqa: S105 - a documented test credential
ARM_AUDIENCE = "https://management.azure.com/"
_LIFETIME_S = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class IdentityConfig:
    """Registered applications: client id → secret (``None``: federated credentials only)."""

    tenant_id: str
    clients: dict[str, str | None] = field(default_factory=lambda: {TEST_CLIENT_ID: TEST_CLIENT_SECRET})
    managed_identity_client_id: str = "00000000-0000-4000-8000-0000000000d1"


class TokenIssuer:
    def __init__(self, key: bytes, tenant_id: str) -> None:
        self.key = key
        self.tenant_id = tenant_id
        self.issued = 0
        """Tokens issued since start: how tests see whether a client reuses its token."""

    def issue(self, subject: str, audience: str, issuer: str) -> tuple[str, int]:
        self.issued += 1
        now = int(time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "aud": audience,
            "iss": issuer,
            "sub": subject,
            "oid": subject,
            "appid": subject,
            "tid": self.tenant_id,
            "iat": now,
            "nbf": now,
            "exp": now + _LIFETIME_S,
        }
        payload = _b64(json.dumps(claims).encode())
        signature = _b64(hmac.new(self.key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}", _LIFETIME_S

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired token this issuer signed; None otherwise."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = _b64(hmac.new(self.key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return None
        try:
            claims: dict[str, Any] = json.loads(_unb64(parts[1]))
        except ValueError:
            return None
        return claims if int(claims.get("exp", 0)) > time.time() else None


def _scope_to_audience(scope: str) -> str:
    first = scope.split()[0] if scope.split() else ARM_AUDIENCE
    return first.removesuffix(".default").removesuffix("/") + "/"


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class IdentityService:
    """aiohttp handlers for the token service (HTTPS app) and the managed-identity app (plain HTTP)."""

    def __init__(self, config: IdentityConfig, issuer: TokenIssuer, identity_header: str) -> None:
        self.config = config
        self.issuer = issuer
        self.identity_header = identity_header

    def accepts(self, token: str) -> bool:
        return hmac.compare_digest(token, STATIC_TEST_TOKEN) or self.issuer.verify(token) is not None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/{tenant}/v2.0/.well-known/openid-configuration", self.openid_configuration),
            web.get("/{tenant}/.well-known/openid-configuration", self.openid_configuration),
            web.post("/{tenant}/oauth2/v2.0/token", self.token),
        ]

    def msi_routes(self) -> list[web.RouteDef]:
        return [
            web.get("/metadata/identity/oauth2/token", self.imds_token),
            web.get("/msi/token", self.app_service_token),
        ]

    async def openid_configuration(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        base = f"{request.scheme}://{request.host}/{tenant}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "tenant_region_scope": None,
            }
        )

    async def token(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        form = await request.post()
        if tenant.lower() not in (self.config.tenant_id.lower(), "organizations", "common"):
            return _oauth_error(400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "AADSTS70003: Only client_credentials is supported."
            )
        client_id = str(form.get("client_id", ""))
        if client_id not in self.config.clients:
            return _oauth_error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found.",
            )
        assertion = form.get("client_assertion")
        if assertion is not None:
            if str(assertion).count(".") != 2:
                return _oauth_error(
                    400, "invalid_client", "AADSTS50027: The client assertion is not a valid JWT."
                )
        else:
            secret = self.config.clients[client_id]
            given = str(form.get("client_secret", ""))
            if secret is None or not hmac.compare_digest(given, secret):
                return _oauth_error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        issuer = f"{request.scheme}://{request.host}/{self.config.tenant_id}/v2.0"
        token, lifetime = self.issuer.issue(client_id, _scope_to_audience(str(form.get("scope", ""))), issuer)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": token,
            }
        )

    def _managed_token(self, request: web.Request, resource: str) -> tuple[str, int]:
        issuer = f"{request.scheme}://{request.host}/{self.config.tenant_id}/v2.0"
        return self.issuer.issue(self.config.managed_identity_client_id, _scope_to_audience(resource), issuer)

    async def imds_token(self, request: web.Request) -> web.Response:
        if request.headers.get("Metadata", "").lower() != "true":
            return web.json_response(
                {"error": "invalid_request", "error_description": "Required metadata header not specified"},
                status=400,
            )
        resource = request.query.get("resource", ARM_AUDIENCE)
        token, lifetime = self._managed_token(request, resource)
        return web.json_response(
            {
                "access_token": token,
                "expires_in": str(lifetime),
                "expires_on": str(int(time.time()) + lifetime),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": self.config.managed_identity_client_id,
            }
        )

    async def app_service_token(self, request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get("X-IDENTITY-HEADER", ""), self.identity_header):
            return web.json_response(
                {"statusCode": 401, "message": "Unauthorized: the identity header is wrong."}, status=401
            )
        resource = request.query.get("resource", ARM_AUDIENCE)
        token, lifetime = self._managed_token(request, resource)
        return web.json_response(
            {
                "access_token": token,
                "expires_on": int(time.time()) + lifetime,
                "resource": resource,
                "token_type": "Bearer",
                "client_id": self.config.managed_identity_client_id,
            }
        )


def new_secret() -> str:
    return secrets.token_urlsafe(32)
