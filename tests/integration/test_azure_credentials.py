"""Each identity the settings can describe logs in with the real azure-identity credential and calls ARM."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.core.exceptions import ClientAuthenticationError

from azk_operator.azure.clients import AzureClientFactory
from azk_operator.azure.settings import AuthMethod, AzureSettings
from azk_operator.emulator import TEST_CLIENT_ID, TEST_CLIENT_SECRET, ArmEmulator


def emulator_env(emu: ArmEmulator) -> dict[str, str]:
    return {
        "AZK_ARM_ENDPOINT": emu.endpoint,
        "AZK_ARM_CA": str(emu.ca_path),
        "AZURE_SUBSCRIPTION_ID": emu.subscription_id,
        "AZURE_TENANT_ID": emu.tenant_id,
        "AZURE_CLIENT_ID": TEST_CLIENT_ID,
    }


async def list_groups(settings: AzureSettings) -> int:
    async with AzureClientFactory(settings) as factory:
        groups = [group async for group in factory.subscription().resource.resource_groups.list()]
        assert factory.accounting.snapshot().count("read", outcome="success") == 1
        return len(groups)


async def test_workload_identity(arm_emulator: ArmEmulator, tmp_path: Path) -> None:
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(arm_emulator.control.issue_token("system:serviceaccount:azk-system:azk-operator"))
    settings = AzureSettings.from_env(
        {**emulator_env(arm_emulator), "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    )
    assert settings.auth is AuthMethod.WORKLOAD_IDENTITY
    assert await list_groups(settings) == 0


async def test_managed_identity(arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # azure-identity finds the managed-identity endpoint in its environment, as on an Azure host.
    monkeypatch.setenv("IDENTITY_ENDPOINT", arm_emulator.msi_endpoint + "/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", arm_emulator.identity_header)
    settings = AzureSettings.from_env({**emulator_env(arm_emulator), "AZK_AZURE_AUTH": "managed-identity"})
    assert await list_groups(settings) == 0


async def test_service_principal_with_a_wrong_secret_is_refused(arm_emulator: ArmEmulator) -> None:
    settings = AzureSettings.from_env({**emulator_env(arm_emulator), "AZURE_CLIENT_SECRET": "not-the-secret"})
    with pytest.raises(ClientAuthenticationError) as refused:
        await list_groups(settings)
    assert "not-the-secret" not in str(refused.value)


@pytest.mark.parametrize("auth", [AuthMethod.SERVICE_PRINCIPAL, AuthMethod.MANAGED_IDENTITY])
async def test_one_token_serves_every_client_and_request(
    arm_emulator: ArmEmulator, monkeypatch: pytest.MonkeyPatch, auth: AuthMethod
) -> None:
    """The factory's one credential caches its token: three clients, five rounds of reads, one token."""
    env = {**emulator_env(arm_emulator), "AZK_AZURE_AUTH": auth.value}
    if auth is AuthMethod.SERVICE_PRINCIPAL:
        env["AZURE_CLIENT_SECRET"] = TEST_CLIENT_SECRET
    else:
        monkeypatch.setenv("IDENTITY_ENDPOINT", arm_emulator.msi_endpoint + "/msi/token")
        monkeypatch.setenv("IDENTITY_HEADER", arm_emulator.identity_header)
    settings = AzureSettings.from_env(env)
    assert settings.auth is auth
    issuer = arm_emulator.app.identity.issuer
    issued_before = issuer.issued
    async with AzureClientFactory(settings) as factory:
        clients = factory.subscription()
        for _ in range(5):
            assert [group async for group in clients.resource.resource_groups.list()] == []
            assert [net async for net in clients.network.virtual_networks.list_all()] == []
            assert [vmss async for vmss in clients.compute.virtual_machine_scale_sets.list_all()] == []
        assert factory.accounting.snapshot().count("read", outcome="success") == 15
    assert issuer.issued - issued_before == 1
