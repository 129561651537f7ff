"""Checks that need Azure but write nothing: the credentials work, the location and VM sizes exist.

They run before the first write, so a typo in `--location` or `--node-size`, or a missing `az login`, stops
`azk create` with nothing half-created.
"""

from __future__ import annotations

from collections.abc import Mapping

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.settings import AuthMethod, AzureSettings
from azk_operator.azure.skus import ResourceSkuCache, VmSku
from azk_operator.create.request import CreateRequest, InvalidInput
from azk_operator.planner.scaleset import check_vm_size


class CredentialsFailed(RuntimeError):
    """Azure refused every credential azk tried; the message names them (never their values)."""


def describe_credentials(settings: AzureSettings) -> str:
    """Which identity was tried and where it came from, for an error message (never a secret's value)."""
    where = f" against {settings.arm_endpoint}" if settings.emulated else ""
    ids = ", ".join(
        f"{label} {value}"
        for label, value in (("client id", settings.client_id), ("tenant", settings.tenant_id))
        if value
    )
    who = f" [{ids}]" if ids else ""
    if settings.auth is AuthMethod.SERVICE_PRINCIPAL:
        source = f"service principal{who} (from AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET"
        source += " or AZK_AZURE_SECRET_DIR)"
    elif settings.auth is AuthMethod.WORKLOAD_IDENTITY:
        source = f"workload identity{who} (from AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID)"
    elif settings.auth is AuthMethod.MANAGED_IDENTITY:
        source = f"managed identity{who} (the machine's identity endpoint)"
    else:
        source = (
            "Azure CLI login (`az login`; or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET "
            "for a service principal, or choose a method with AZK_AZURE_AUTH)"
        )
    return f"{source}{where}"


def credentials_failure(error: BaseException, settings: AzureSettings) -> CredentialsFailed | None:
    """The CredentialsFailed an Azure error amounts to (token refused, 401/403), or None for other errors."""
    refused = isinstance(error, ClientAuthenticationError) or (
        isinstance(error, HttpResponseError) and error.status_code in (401, 403)
    )
    if not refused:
        return None
    return CredentialsFailed(
        f"Azure refused the credentials tried: {describe_credentials(settings)} ({first_line(error)})"
    )


async def offered_vm_sizes(azure: AzureClientFactory, subscription_id: str, location: str) -> list[str]:
    """The VM sizes this subscription may use in `location`, by name (empty for an unknown location)."""
    return _usable(await ResourceSkuCache(azure.subscription(subscription_id)).vm_sizes(location))


def _usable(sizes: Mapping[str, VmSku]) -> list[str]:
    return sorted(sku.name for sku in sizes.values() if not sku.restricted)


async def check_offer(azure: AzureClientFactory, request: CreateRequest) -> None:
    """Raise InvalidInput for an unknown location or VM size; CredentialsFailed when Azure refuses us."""
    spec = request.cluster.spec
    location = spec.azure.location
    skus = ResourceSkuCache(azure.subscription(spec.azure.subscription_id))
    try:
        sizes = await skus.vm_sizes(location)
    except HttpResponseError as error:  # ClientAuthenticationError is one too
        failure = credentials_failure(error, azure.settings)
        if failure is not None:
            raise failure from None
        raise
    if not sizes:
        raise InvalidInput([f"--location: unknown location {location} (no VM sizes offered there)"])
    lines = []
    options = request.options
    for flag, size in (
        ("--control-plane-size", options.control_plane_size),
        ("--node-size", options.node_size),
    ):
        problem = check_vm_size(sizes, location, size, options.zones)
        if problem is not None:
            offered = ", ".join(_usable(sizes))
            lines.append(f"{flag}: {problem.message} (offered: {offered})")
    if lines:
        raise InvalidInput(list(dict.fromkeys(lines)))


def first_line(error: BaseException) -> str:
    """The first line of an error's text, bounded (SDK errors carry whole response bodies)."""
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__
