"""The async credential for the identity ``AzureSettings`` describes (created once per process).

azure-identity caches access tokens inside each credential object, so reusing the one credential is what
keeps token requests to one per hour rather than one per call.
"""

from __future__ import annotations

from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import (
    AzureCliCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from azk_operator.azure.settings import AuthMethod, AzureSettings


def _endpoint_options(settings: AzureSettings) -> dict[str, Any]:
    """Authority and TLS options: the emulator's token endpoint is not an Azure authority."""
    options: dict[str, Any] = {}
    if settings.authority is not None:
        options["authority"] = settings.authority
    if settings.emulated:
        options["disable_instance_discovery"] = True
        options["connection_verify"] = str(settings.arm_ca)
    return options


def build_credential(settings: AzureSettings) -> AsyncTokenCredential:
    settings.validate()
    if settings.auth is AuthMethod.SERVICE_PRINCIPAL:
        assert settings.tenant_id and settings.client_id and settings.client_secret  # checked by validate()
        return ClientSecretCredential(
            settings.tenant_id,
            settings.client_id,
            settings.client_secret.reveal(),
            **_endpoint_options(settings),
        )
    if settings.auth is AuthMethod.WORKLOAD_IDENTITY:
        assert settings.tenant_id and settings.client_id and settings.federated_token_file
        return WorkloadIdentityCredential(
            tenant_id=settings.tenant_id,
            client_id=settings.client_id,
            token_file_path=str(settings.federated_token_file),
            **_endpoint_options(settings),
        )
    if settings.auth is AuthMethod.MANAGED_IDENTITY:
        # The managed-identity endpoint comes from the environment (IMDS, or IDENTITY_ENDPOINT in tests).
        return ManagedIdentityCredential(client_id=settings.client_id)
    return AzureCliCredential(tenant_id=settings.tenant_id or "")
