"""Raw REST calls for what the generated API classes cannot express generically (any kind, apply patches)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import kubernetes

APPLY_PATCH = "application/apply-patch+yaml"


class RestCaller:
    """Sends one request through the shared `ApiClient` (its auth, TLS and pool) and decodes JSON.

    Non-2xx answers raise the client's usual `ApiException` subclasses, so every caller classifies errors
    the same way whether it used a generated method or this one.
    """

    def __init__(self, api: kubernetes.client.ApiClient) -> None:
        self._api = api

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: dict[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if body is not None:
            # JSON is valid YAML, so an apply patch can be sent as JSON under the apply-patch media type.
            headers["Content-Type"] = content_type
        serialized = self._api.param_serialize(
            method=method,
            resource_path=path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self._api.call_api(*serialized)
        response.read()  # type: ignore[no-untyped-call]
        text = response.data.decode("utf-8") if response.data else ""
        if not 200 <= response.status <= 299:
            kubernetes.client.ApiException.from_response(http_resp=response, body=text, data=None)
            raise kubernetes.client.ApiException(status=response.status, reason=response.reason)
        decoded: dict[str, Any] = json.loads(text) if text else {}
        return decoded
