"""The error classifier: every rule of DESIGN.md §4 as a table, against real azure-core exceptions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.core.polling.base_polling import OperationFailed
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from azk_operator.azure.errors import (
    MAX_MESSAGE_CHARS,
    ErrorKind,
    LocallyThrottledError,
    Operation,
    classify,
    parse_retry_after,
)


class FakeResponse:
    """The parts of an azure-core HTTP response the exception classes read."""

    def __init__(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> None:
        self.status_code = status
        self.reason = "Reason"
        self.headers = headers or {}
        self.request = HttpRequest("GET", "https://127.0.0.1/x")
        self.content_type = "application/json"
        self._body = json.dumps(body).encode() if body is not None else b""

    def text(self, encoding: str | None = None) -> str:
        return self._body.decode()

    def body(self) -> bytes:
        return self._body


def arm_error(
    status: int, code: str | None, message: str = "msg", headers: dict[str, str] | None = None
) -> HttpResponseError:
    body = {"error": {"code": code, "message": message}} if code else None
    response = FakeResponse(status, body, headers)
    error_class = {404: ResourceNotFoundError, 409: ResourceExistsError, 401: ClientAuthenticationError}.get(
        status, HttpResponseError
    )
    return error_class(response=response, error_format=ARMErrorFormat)  # type: ignore[arg-type]


def failed_operation(code: str, message: str) -> HttpResponseError:
    """What the SDK raises when an LRO's status ends Failed: a 200 poll response carrying ``error``."""
    body = {"status": "Failed", "error": {"code": code, "message": message}}
    return HttpResponseError(response=FakeResponse(200, body), error=OperationFailed("failed"))  # type: ignore[arg-type]


# (status, code, message, headers, operation) -> (kind, reason, retry_after)
TABLE: list[tuple[int, str | None, str, dict[str, str], Operation, ErrorKind, str, float | None]] = [
    # not found: only a real 404 means "missing"; on delete it means done
    (404, "ResourceNotFound", "gone", {}, "read", ErrorKind.MISSING, "NotFound", None),
    (404, "ResourceGroupNotFound", "gone", {}, "read", ErrorKind.MISSING, "NotFound", None),
    (404, None, "", {}, "read", ErrorKind.MISSING, "NotFound", None),
    (404, "ResourceNotFound", "gone", {}, "delete", ErrorKind.DONE, "Deleted", None),
    (404, "ResourceGroupNotFound", "gone", {}, "delete", ErrorKind.DONE, "Deleted", None),
    (404, "ResourceGroupNotFound", "gone", {}, "write", ErrorKind.TRANSIENT, "ResourceGroupNotFound", 5.0),
    (404, "SubscriptionNotFound", "no sub", {}, "read", ErrorKind.TERMINAL, "SubscriptionNotFound", None),
    # throttling: a throttled GET is not "missing"; the delay comes from the headers
    (
        429,
        "TooManyRequests",
        "slow down",
        {"Retry-After": "7"},
        "read",
        ErrorKind.TRANSIENT,
        "TooManyRequests",
        7.0,
    ),
    (429, None, "", {"retry-after-ms": "1500"}, "write", ErrorKind.TRANSIENT, "Throttled", 1.5),
    (429, None, "", {"x-ms-retry-after-ms": "250"}, "delete", ErrorKind.TRANSIENT, "Throttled", 0.25),
    (
        429,
        "SubscriptionRequestsThrottled",
        "x",
        {},
        "read",
        ErrorKind.TRANSIENT,
        "SubscriptionRequestsThrottled",
        10.0,
    ),
    # 5xx: transient
    (500, "InternalServerError", "oops", {}, "read", ErrorKind.TRANSIENT, "InternalServerError", 5.0),
    (503, None, "", {"Retry-After": "3"}, "read", ErrorKind.TRANSIENT, "AzureUnavailable", 3.0),
    (502, "BadGateway", "x", {}, "write", ErrorKind.TRANSIENT, "BadGateway", 5.0),
    (504, "GatewayTimeout", "x", {}, "write", ErrorKind.TRANSIENT, "GatewayTimeout", 5.0),
    # another operation in progress: transient
    (
        409,
        "AnotherOperationInProgress",
        "busy",
        {},
        "write",
        ErrorKind.TRANSIENT,
        "AnotherOperationInProgress",
        10.0,
    ),
    (
        409,
        "OperationNotAllowed",
        "Operation is not allowed since another operation is in progress",
        {},
        "write",
        ErrorKind.TRANSIENT,
        "OperationNotAllowed",
        10.0,
    ),
    (
        409,
        "Conflict",
        "An operation is in progress on the resource",
        {"Retry-After": "2"},
        "write",
        ErrorKind.TRANSIENT,
        "Conflict",
        2.0,
    ),
    (409, "RetryableError", "retry", {}, "write", ErrorKind.TRANSIENT, "RetryableError", 10.0),
    (
        400,
        "ReferencedResourceNotProvisioned",
        "nsg not ready",
        {},
        "write",
        ErrorKind.TRANSIENT,
        "ReferencedResourceNotProvisioned",
        5.0,
    ),
    (
        400,
        "InUseSubnetCannotBeDeleted",
        "in use",
        {},
        "delete",
        ErrorKind.TRANSIENT,
        "InUseSubnetCannotBeDeleted",
        5.0,
    ),
    (412, "PreconditionFailed", "etag", {}, "write", ErrorKind.TRANSIENT, "PreconditionFailed", 5.0),
    # quota: terminal
    (409, "QuotaExceeded", "cores", {}, "write", ErrorKind.TERMINAL, "QuotaExceeded", None),
    (
        409,
        "OperationNotAllowed",
        "Operation could not be completed as it results in exceeding approved quota",
        {},
        "write",
        ErrorKind.TERMINAL,
        "OperationNotAllowed",
        None,
    ),
    (
        400,
        "PublicIPCountLimitReached",
        "limit",
        {},
        "write",
        ErrorKind.TERMINAL,
        "PublicIPCountLimitReached",
        None,
    ),
    # authorization: terminal
    (403, "AuthorizationFailed", "no rights", {}, "read", ErrorKind.TERMINAL, "AuthorizationFailed", None),
    (
        401,
        "InvalidAuthenticationToken",
        "bad token",
        {},
        "read",
        ErrorKind.TERMINAL,
        "InvalidAuthenticationToken",
        None,
    ),
    (403, None, "", {}, "write", ErrorKind.TERMINAL, "AuthorizationFailed", None),
    (
        403,
        "LinkedAuthorizationFailed",
        "x",
        {},
        "write",
        ErrorKind.TERMINAL,
        "LinkedAuthorizationFailed",
        None,
    ),
    # invalid parameters: terminal
    (400, "InvalidParameter", "bad cidr", {}, "write", ErrorKind.TERMINAL, "InvalidParameter", None),
    (400, "BadRequest", "bad", {}, "write", ErrorKind.TERMINAL, "BadRequest", None),
    (409, "SkuNotAvailable", "no such size here", {}, "write", ErrorKind.TERMINAL, "SkuNotAvailable", None),
    (
        400,
        "LocationNotAvailableForResourceType",
        "x",
        {},
        "write",
        ErrorKind.TERMINAL,
        "LocationNotAvailableForResourceType",
        None,
    ),
    (400, "InvalidTemplate", "x", {}, "write", ErrorKind.TERMINAL, "InvalidTemplate", None),
    (400, None, "", {}, "write", ErrorKind.TERMINAL, "InvalidParameter", None),
    (409, "Conflict", "name already used elsewhere", {}, "write", ErrorKind.TERMINAL, "Conflict", None),
    # a failed read is never "missing"
    (
        400,
        "InvalidApiVersionParameter",
        "x",
        {},
        "read",
        ErrorKind.TERMINAL,
        "InvalidApiVersionParameter",
        None,
    ),
    (418, None, "", {}, "read", ErrorKind.TERMINAL, "HTTP418", None),
]


@pytest.mark.parametrize(
    ("status", "code", "message", "headers", "operation", "kind", "reason", "retry_after"), TABLE
)
def test_classification_table(
    status: int,
    code: str | None,
    message: str,
    headers: dict[str, str],
    operation: Operation,
    kind: ErrorKind,
    reason: str,
    retry_after: float | None,
) -> None:
    verdict = classify(arm_error(status, code, message, headers), operation=operation)
    assert (verdict.kind, verdict.reason, verdict.retry_after) == (kind, reason, retry_after)
    assert verdict.status == status
    if code and message:
        assert verdict.message == f"{code}: {message}"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("QuotaExceeded", ErrorKind.TERMINAL),
        ("InvalidParameter", ErrorKind.TERMINAL),
        ("SomethingAzureInvented", ErrorKind.TERMINAL),
        ("InternalServerError", ErrorKind.TRANSIENT),
        ("RetryableError", ErrorKind.TRANSIENT),
        ("ZonalAllocationFailed", ErrorKind.TRANSIENT),
        ("ResourceNotFound", ErrorKind.TERMINAL),  # a *failed operation* is never "missing"
    ],
)
def test_failed_operation_keeps_azure_code_and_message(code: str, kind: ErrorKind) -> None:
    verdict = classify(failed_operation(code, "details from Azure"), operation="write")
    assert verdict.kind is kind
    assert verdict.code == code
    assert verdict.reason == code
    assert verdict.message == f"{code}: details from Azure"


def test_reasons_are_valid_condition_reasons_even_for_odd_codes() -> None:
    verdict = classify(arm_error(400, "Invalid.Parameter-Name", "x"), operation="write")
    assert verdict.reason == "InvalidParameterName"
    verdict = classify(arm_error(400, "bad code with spaces", "x"), operation="write")
    assert verdict.reason == "InvalidParameter"


def test_messages_are_bounded_and_single_line() -> None:
    verdict = classify(arm_error(400, "InvalidParameter", "line\n" * 1000), operation="write")
    assert len(verdict.message) <= MAX_MESSAGE_CHARS
    assert "\n" not in verdict.message


def test_credential_failure_without_response_is_terminal() -> None:
    verdict = classify(ClientAuthenticationError("token endpoint refused"), operation="read")
    assert (verdict.kind, verdict.reason) == (ErrorKind.TERMINAL, "AuthenticationFailed")


def test_connection_errors_and_local_throttling_are_transient() -> None:
    assert classify(ServiceRequestError("refused"), operation="read").kind is ErrorKind.TRANSIENT
    verdict = classify(LocallyThrottledError(3.5), operation="write")
    assert (verdict.kind, verdict.reason, verdict.retry_after) == (ErrorKind.TRANSIENT, "Throttled", 3.5)


def test_programming_errors_are_not_swallowed() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("bug"), operation="read")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"retry-after": "0"}, 0.0),
        ({"Retry-After": "5", "retry-after-ms": "200"}, 0.2),  # the precise one
        ({"x-ms-retry-after-ms": "1200"}, 1.2),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = 1445412480.0  # 07:28:00 on that date
    assert parse_retry_after(headers, now=now) == expected
