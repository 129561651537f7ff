"""Real azure-identity credentials against the emulator's token, OpenID and managed-identity endpoints,
each used for a real SDK call."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, ManagedIdentityCredential, WorkloadIdentityCredential
from azure.identity.aio import ClientSecretCredential as AioClientSecretCredential
from azure.identity.aio import ManagedIdentityCredential as AioManagedIdentityCredential
from fixtures.emulator import make_aio_clients, make_clients

from azk_operator.emulator import TEST_CLIENT_ID, TEST_CLIENT_SECRET, ArmEmulator

ARM_SCOPE = "https://management.azure.com/.default"

# Keep every credential away from the real instance metadata address and developer logins.
_AMBIENT = (
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
)


@pytest.fixture(autouse=True)
def _clean_identity_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)


def _secret_credential(emu: ArmEmulator, secret: str = TEST_CLIENT_SECRET) -> ClientSecretCredential:
    return ClientSecretCredential(
        emu.tenant_id,
        TEST_CLIENT_ID,
        secret,
        authority=emu.endpoint,
        disable_instance_discovery=True,
        connection_verify=str(emu.ca_path),
    )


def test_client_secret_credential(arm_emulator: ArmEmulator) -> None:
    credential = _secret_credential(arm_emulator)
    clients = make_clients(arm_emulator, credential=credential)
    created = clients.resource.resource_groups.create_or_update("sp-rg", {"location": "eastus"})
    assert created.name == "sp-rg"
    with pytest.raises(ClientAuthenticationError) as err:
        _secret_credential(arm_emulator, secret="wrong").get_token(ARM_SCOPE)
    assert "AADSTS7000215" in str(err.value)


def test_workload_identity_credential(arm_emulator: ArmEmulator, tmp_path: Path) -> None:
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2ln")
    token_file.chmod(0o600)
    credential = WorkloadIdentityCredential(
        tenant_id=arm_emulator.tenant_id,
        client_id=TEST_CLIENT_ID,
        token_file_path=str(token_file),
        authority=arm_emulator.endpoint,
        disable_instance_discovery=True,
        connection_verify=str(arm_emulator.ca_path),
    )
    clients = make_clients(arm_emulator, credential=credential)
    assert list(clients.network.virtual_networks.list_all()) == []
    token_file.write_text("not-a-jwt")
    stale = WorkloadIdentityCredential(
        tenant_id=arm_emulator.tenant_id,
        client_id=TEST_CLIENT_ID,
        token_file_path=str(token_file),
        authority=arm_emulator.endpoint,
        disable_instance_discovery=True,
        connection_verify=str(arm_emulator.ca_path),
    )
    with pytest.raises(ClientAuthenticationError):
        stale.get_token(ARM_SCOPE)


def test_managed_identity_imds_protocol(arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", arm_emulator.msi_endpoint)
    clients = make_clients(arm_emulator, credential=ManagedIdentityCredential())
    assert clients.resource.resource_groups.check_existence("none") is False


def test_managed_identity_app_service_protocol(
    arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{arm_emulator.msi_endpoint}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", arm_emulator.identity_header)
    clients = make_clients(arm_emulator, credential=ManagedIdentityCredential())
    assert list(clients.compute.virtual_machines.list_all()) == []
    monkeypatch.setenv("IDENTITY_HEADER", "wrong")
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential().get_token(ARM_SCOPE)


async def test_async_credentials(arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = AioClientSecretCredential(
        arm_emulator.tenant_id,
        TEST_CLIENT_ID,
        TEST_CLIENT_SECRET,
        authority=arm_emulator.endpoint,
        disable_instance_discovery=True,
        connection_verify=str(arm_emulator.ca_path),
    )
    clients = make_aio_clients(arm_emulator, credential=secret)
    try:
        group = await clients.resource.resource_groups.create_or_update("aio-sp", {"location": "eastus"})
        assert group.name == "aio-sp"
    finally:
        await clients.close()
        await secret.close()
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", arm_emulator.msi_endpoint)
    managed = AioManagedIdentityCredential()
    clients = make_aio_clients(arm_emulator, credential=managed)
    try:
        assert await clients.resource.resource_groups.check_existence("aio-sp") is True
    finally:
        await clients.close()
        await managed.close()
