"""Settings from the environment and the credential each method builds (no network involved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.identity.aio import (
    AzureCliCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from azk_operator.azure.credentials import build_credential
from azk_operator.azure.settings import AuthMethod, AzureSettings, SettingsError

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "00000000-0000-0000-0000-00000000c1d0"


def test_service_principal_from_a_mounted_secret(tmp_path: Path) -> None:
    (tmp_path / "client-id").write_text(CLIENT + "\n")
    (tmp_path / "tenant-id").write_text(TENANT)
    (tmp_path / "client-secret").write_text("s3cr3t-value")
    (tmp_path / "subscription-id").write_text("sub-1")
    settings = AzureSettings.from_env({}, secret_dir=tmp_path)
    assert settings.auth is AuthMethod.SERVICE_PRINCIPAL
    assert (settings.client_id, settings.tenant_id, settings.subscription_id) == (CLIENT, TENANT, "sub-1")
    assert settings.client_secret is not None and settings.client_secret.reveal() == "s3cr3t-value"
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings.client_secret)


def test_service_principal_from_env_vars() -> None:
    env = {"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_SECRET": "pw"}
    settings = AzureSettings.from_env(env)
    assert settings.auth is AuthMethod.SERVICE_PRINCIPAL
    assert isinstance(build_credential(settings), ClientSecretCredential)


def test_workload_identity_is_chosen_by_its_token_file(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("jwt")
    env = {"AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": str(token)}
    settings = AzureSettings.from_env(env)
    assert settings.auth is AuthMethod.WORKLOAD_IDENTITY
    assert isinstance(build_credential(settings), WorkloadIdentityCredential)


def test_default_method_when_nothing_selects_one() -> None:
    assert AzureSettings.from_env({}).auth is AuthMethod.MANAGED_IDENTITY
    cli = AzureSettings.from_env({}, default=AuthMethod.AZURE_CLI)
    assert isinstance(build_credential(cli), AzureCliCredential)
    assert isinstance(build_credential(AzureSettings.from_env({})), ManagedIdentityCredential)


def test_explicit_method_wins_and_is_validated() -> None:
    env = {"AZK_AZURE_AUTH": "azure-cli", "AZURE_CLIENT_SECRET": "pw"}
    assert AzureSettings.from_env(env).auth is AuthMethod.AZURE_CLI
    with pytest.raises(SettingsError, match="not one of"):
        AzureSettings.from_env({"AZK_AZURE_AUTH": "password"})
    with pytest.raises(SettingsError, match="tenant id"):
        AzureSettings.from_env({"AZK_AZURE_AUTH": "service-principal", "AZURE_CLIENT_SECRET": "pw"})


def test_emulator_switch_needs_endpoint_and_ca_together(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    settings = AzureSettings.from_env({"AZK_ARM_ENDPOINT": "https://127.0.0.1:8443/", "AZK_ARM_CA": str(ca)})
    assert settings.emulated and settings.arm_endpoint == "https://127.0.0.1:8443"
    assert settings.authority == "https://127.0.0.1:8443"
    with pytest.raises(SettingsError, match="together"):
        AzureSettings.from_env({"AZK_ARM_ENDPOINT": "https://127.0.0.1:8443"})
    with pytest.raises(SettingsError, match="https"):
        AzureSettings.from_env({"AZK_ARM_ENDPOINT": "http://127.0.0.1:8443", "AZK_ARM_CA": str(ca)})
    assert not AzureSettings.from_env({}).emulated


def test_polling_interval() -> None:
    assert AzureSettings.from_env({"AZK_ARM_POLLING_INTERVAL": "0.05"}).polling_interval == 0.05
    with pytest.raises(SettingsError):
        AzureSettings.from_env({"AZK_ARM_POLLING_INTERVAL": "fast"})
    with pytest.raises(SettingsError):
        AzureSettings.from_env({"AZK_ARM_POLLING_INTERVAL": "0"})
