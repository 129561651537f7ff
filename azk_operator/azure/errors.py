"""The one error classifier every Azure call goes through.

ARM reports trouble in three places: the HTTP status, the error envelope's ``code`` (``{"error": {"code",
"message"}}``, also the body of a failed long-running operation) and the retry headers. The classifier is a
pure function over those, so that "is this worth retrying, and when?" has exactly one answer in azk.

Rules (DESIGN.md §4): a 404 on delete means done; 429, 5xx and "another operation is in progress" are
transient and honour ``Retry-After``; quota, authorization and invalid-parameter errors are terminal and carry
a reason and message fit for a Kubernetes condition; a failed or throttled GET never means "missing".
"""

from __future__ import annotations

import email.utils
import enum
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

Operation = Literal["read", "write", "delete"]

# Delays used when Azure says "retry" without saying when.
DEFAULT_THROTTLE_DELAY_S = 10.0
DEFAULT_TRANSIENT_DELAY_S = 5.0
DEFAULT_CONFLICT_DELAY_S = 10.0
DEFAULT_ALLOCATION_DELAY_S = 60.0
# Conditions are shown by kubectl; a bounded message keeps status small.
MAX_MESSAGE_CHARS = 512

_NOT_FOUND_CODES = frozenset(
    {"resourcenotfound", "resourcegroupnotfound", "notfound", "parentresourcenotfound", "operationnotfound"}
)
# Codes that mean "the same request later will probably work".
_TRANSIENT_CODES = frozenset(
    {
        "toomanyrequests",
        "subscriptionrequeststhrottled",
        "throttled",
        "anotheroperationinprogress",
        "retryableerror",
        "retryableerrorduetoanotheroperation",
        "operationpreempted",
        "canceledandsupersededduetoanotheroperation",
        "referencedresourcenotprovisioned",
        "internalservererror",
        "internaloperationerror",
        "serviceunavailable",
        "gatewaytimeout",
        "requesttimeout",
        "preconditionfailed",
        "resourcegroupbeingdeleted",
        "inusesubnetcannotbedeleted",
        "inusenetworksecuritygroupcannotbedeleted",
        "inuseroutetablecannotbedeleted",
        "publicipaddressinuse",
        "loadbalancerinusebyvirtualmachinescaleset",
        "nicinuse",
    }
)
_ALLOCATION_CODES = frozenset(
    {"allocationfailed", "zonalallocationfailed", "overconstrainedallocationrequest"}
)
_AUTH_CODES = frozenset(
    {
        "authorizationfailed",
        "linkedauthorizationfailed",
        "authenticationfailed",
        "invalidauthenticationtoken",
        "invalidauthenticationtokentenant",
        "expiredauthenticationtoken",
        "subscriptionnotfound",
        "missingsubscriptionregistration",
        "requestdisallowedbypolicy",
        "forbidden",
        "unauthorized",
    }
)
_QUOTA_CODES = frozenset(
    {
        "quotaexceeded",
        "operationnotallowedquotaexceeded",
        "publicipcountlimitreached",
        "subscriptionquotaexceeded",
        "resourcequotaexceeded",
    }
)
_IN_PROGRESS_WORDS = re.compile(r"in progress|another operation|currently (being )?(updated|processed)", re.I)
_QUOTA_WORDS = re.compile(r"quota|limit", re.I)
_REASON_OK = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")


class ErrorKind(enum.Enum):
    """What a caller should do about an error."""

    MISSING = "missing"  # a read found nothing: the resource does not exist
    DONE = "done"  # a delete found nothing left to delete
    TRANSIENT = "transient"  # try the same thing again after ``retry_after`` seconds
    TERMINAL = "terminal"  # retrying will not help until someone changes the spec, quota or permissions


@dataclass(frozen=True)
class Classification:
    """The verdict on one error; ``reason``/``message`` are ready for a Kubernetes condition."""

    kind: ErrorKind
    reason: str
    message: str
    code: str | None = None
    status: int | None = None
    retry_after: float | None = None

    @property
    def transient(self) -> bool:
        return self.kind is ErrorKind.TRANSIENT


class LocallyThrottledError(Exception):
    """Raised before sending when Azure recently asked us to back off (see ``policies.ThrottleGate``).

    Deliberately not an ``AzureError``: azure-core's retry policy must not sleep on it inside a handler.
    """

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Azure asked to back off; retry in {retry_after:.1f}s")
        self.retry_after = retry_after


def parse_retry_after(
    headers: Mapping[str, str], *, now: float | None = None, longest: bool = False
) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``x-ms-retry-after-ms`` or ``Retry-After``.

    By default the most precise header wins (milliseconds, which ARM adds for quick polling); with
    ``longest`` the longest one does, which is what honouring a throttling answer needs. ``Retry-After``
    may be integer seconds or an HTTP date; unparseable values are ignored rather than trusted.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    values: list[float] = []
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        milliseconds = _number(lowered.get(name))
        if milliseconds is not None:
            values.append(milliseconds / 1000.0)
    raw = lowered.get("retry-after")
    if raw is not None:
        seconds = _number(raw)
        if seconds is None:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                seconds = max(0.0, when.timestamp() - (time.time() if now is None else now))
        if seconds is not None:
            values.append(seconds)
    if not values:
        return None
    return max(values) if longest else values[0]


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _reason_from_code(code: str | None, fallback: str) -> str:
    if code:
        cleaned = code.replace(".", "").replace("-", "")
        if _REASON_OK.fullmatch(cleaned):
            return cleaned
    return fallback


def _bounded(message: str) -> str:
    message = " ".join(message.split())
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 1] + "…"


def _error_parts(error: HttpResponseError) -> tuple[str | None, str]:
    code = getattr(error.error, "code", None) if error.error is not None else None
    message = getattr(error.error, "message", None) if error.error is not None else None
    if not message:
        message = error.reason or str(error.message or error)
    return (str(code) if code else None), str(message)


def _headers(error: HttpResponseError) -> Mapping[str, str]:
    response = error.response
    headers: Mapping[str, str] = getattr(response, "headers", None) or {}
    return headers


def classify_response(
    status: int | None,
    code: str | None,
    message: str,
    headers: Mapping[str, str],
    *,
    operation: Operation,
    operation_failed: bool = False,
) -> Classification:
    """Classify from the raw parts; ``operation_failed``: a long-running operation ended ``Failed``."""
    lowered = (code or "").lower()
    retry_after = parse_retry_after(headers, longest=status == 429)
    text = _bounded(f"{code}: {message}" if code else message)

    not_found = status == 404 and (lowered in _NOT_FOUND_CODES or not lowered)
    if not_found and not operation_failed:
        if operation == "read":
            return Classification(ErrorKind.MISSING, "NotFound", text, code, status)
        if operation == "delete":
            return Classification(ErrorKind.DONE, "Deleted", text, code, status)
        # A write answered 404: its parent (usually the resource group) is not there yet or any more.
        return Classification(
            ErrorKind.TRANSIENT,
            _reason_from_code(code, "ParentNotFound"),
            text,
            code,
            status,
            retry_after or DEFAULT_TRANSIENT_DELAY_S,
        )

    def transient(reason: str, default_delay: float) -> Classification:
        return Classification(
            ErrorKind.TRANSIENT,
            _reason_from_code(code, reason),
            text,
            code,
            status,
            retry_after or default_delay,
        )

    def terminal(reason: str) -> Classification:
        return Classification(ErrorKind.TERMINAL, _reason_from_code(code, reason), text, code, status)

    if status == 429 or lowered in {"toomanyrequests", "subscriptionrequeststhrottled", "throttled"}:
        return transient("Throttled", DEFAULT_THROTTLE_DELAY_S)
    if lowered in _QUOTA_CODES or (lowered == "operationnotallowed" and _QUOTA_WORDS.search(message)):
        return terminal("QuotaExceeded")
    if lowered in _AUTH_CODES or status in (401, 403):
        return terminal("AuthorizationFailed")
    if lowered in _ALLOCATION_CODES:
        return transient("AllocationFailed", DEFAULT_ALLOCATION_DELAY_S)
    in_progress = bool(_IN_PROGRESS_WORDS.search(message))
    if lowered in {"operationnotallowed", "conflict"} and in_progress:
        return transient("AnotherOperationInProgress", DEFAULT_CONFLICT_DELAY_S)
    if lowered in _TRANSIENT_CODES:
        return transient(
            "AzureBusy", DEFAULT_CONFLICT_DELAY_S if status == 409 else DEFAULT_TRANSIENT_DELAY_S
        )
    if status == 409 and in_progress:
        return transient("AnotherOperationInProgress", DEFAULT_CONFLICT_DELAY_S)
    if status is not None and (status >= 500 or status == 408):
        return transient("AzureUnavailable", DEFAULT_TRANSIENT_DELAY_S)
    if operation_failed:
        return terminal("OperationFailed")
    if status == 400:
        return terminal("InvalidParameter")
    return terminal("AzureRequestFailed" if status is None else f"HTTP{status}")


def classify(error: BaseException, *, operation: Operation) -> Classification:
    """Classify any exception raised by an Azure SDK call made through ``azk_operator.azure``."""
    if isinstance(error, LocallyThrottledError):
        return Classification(ErrorKind.TRANSIENT, "Throttled", str(error), retry_after=error.retry_after)
    if isinstance(error, ClientAuthenticationError) and error.response is None:
        # Raised by a credential before any ARM request: no status, nothing to wait for.
        return Classification(ErrorKind.TERMINAL, "AuthenticationFailed", _bounded(str(error)))
    if isinstance(error, HttpResponseError):
        code, message = _error_parts(error)
        status = error.status_code
        operation_failed = status is not None and status < 400
        return classify_response(
            status, code, message, _headers(error), operation=operation, operation_failed=operation_failed
        )
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return Classification(
            ErrorKind.TRANSIENT,
            "AzureUnreachable",
            _bounded(str(error)),
            retry_after=DEFAULT_TRANSIENT_DELAY_S,
        )
    if isinstance(error, AzureError):
        return Classification(
            ErrorKind.TRANSIENT, "AzureError", _bounded(str(error)), retry_after=DEFAULT_TRANSIENT_DELAY_S
        )
    raise error
