"""Which Azure identity azk uses and which ARM endpoint it talks to, read once from the environment.

The only switch between the real cloud and the emulator is ``AZK_ARM_ENDPOINT`` + ``AZK_ARM_CA``: when both
are set every client (and every credential's token request) goes to that endpoint, trusting that CA.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_POLLING_INTERVAL_S = 10.0
# Keys (file names) of a mounted Kubernetes Secret holding a service principal, one value per file.
SECRET_KEYS = ("client-id", "tenant-id", "client-secret", "subscription-id")


class AuthMethod(enum.Enum):
    WORKLOAD_IDENTITY = "workload-identity"
    MANAGED_IDENTITY = "managed-identity"
    SERVICE_PRINCIPAL = "service-principal"
    AZURE_CLI = "azure-cli"


class Secret:
    """A string that never shows itself in a repr, a log line or an exception message."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SettingsError(ValueError):
    """The environment does not describe a usable Azure identity or endpoint."""


@dataclass(frozen=True)
class AzureSettings:
    auth: AuthMethod
    subscription_id: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = field(default=None, repr=False)
    federated_token_file: Path | None = None
    authority_host: str | None = None
    arm_endpoint: str | None = None
    arm_ca: Path | None = None
    polling_interval: float = DEFAULT_POLLING_INTERVAL_S

    @property
    def emulated(self) -> bool:
        """True when every call goes to a non-Azure ARM endpoint (the azk emulator)."""
        return self.arm_endpoint is not None

    @property
    def authority(self) -> str | None:
        """Token authority: ``AZURE_AUTHORITY_HOST``, else the emulator itself, else Azure's default."""
        return self.authority_host or self.arm_endpoint

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        default: AuthMethod = AuthMethod.MANAGED_IDENTITY,
        secret_dir: Path | None = None,
    ) -> AzureSettings:
        """Read the settings; ``default`` is used when nothing selects a method (operator: managed identity,
        CLI: the Azure CLI login).

        Selection: ``AZK_AZURE_AUTH`` if set; else a federated token file (workload identity); else a
        service principal from ``secret_dir``/``AZK_AZURE_SECRET_DIR`` or ``AZURE_CLIENT_SECRET``.
        """
        env = os.environ if env is None else env
        secret_dir = secret_dir or _path(env.get("AZK_AZURE_SECRET_DIR"))
        from_dir = _read_secret_dir(secret_dir) if secret_dir else {}

        endpoint = env.get("AZK_ARM_ENDPOINT") or None
        ca = _path(env.get("AZK_ARM_CA"))
        if (endpoint is None) != (ca is None):
            raise SettingsError("AZK_ARM_ENDPOINT and AZK_ARM_CA must be set together")
        if endpoint is not None and not endpoint.startswith("https://"):
            raise SettingsError("AZK_ARM_ENDPOINT must be an https:// URL")

        secret_value = from_dir.get("client-secret") or env.get("AZURE_CLIENT_SECRET")
        token_file = _path(env.get("AZURE_FEDERATED_TOKEN_FILE"))
        explicit = env.get("AZK_AZURE_AUTH")
        if explicit:
            try:
                auth = AuthMethod(explicit)
            except ValueError:
                names = ", ".join(method.value for method in AuthMethod)
                raise SettingsError(f"AZK_AZURE_AUTH={explicit!r} is not one of {names}") from None
        elif token_file is not None:
            auth = AuthMethod.WORKLOAD_IDENTITY
        elif secret_value:
            auth = AuthMethod.SERVICE_PRINCIPAL
        else:
            auth = default

        settings = cls(
            auth=auth,
            subscription_id=from_dir.get("subscription-id") or env.get("AZURE_SUBSCRIPTION_ID") or None,
            tenant_id=from_dir.get("tenant-id") or env.get("AZURE_TENANT_ID") or None,
            client_id=from_dir.get("client-id") or env.get("AZURE_CLIENT_ID") or None,
            client_secret=Secret(secret_value) if secret_value else None,
            federated_token_file=token_file,
            authority_host=env.get("AZURE_AUTHORITY_HOST") or None,
            arm_endpoint=endpoint.rstrip("/") if endpoint else None,
            arm_ca=ca,
            polling_interval=_interval(env.get("AZK_ARM_POLLING_INTERVAL")),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        missing: list[str] = []
        if self.auth in (AuthMethod.SERVICE_PRINCIPAL, AuthMethod.WORKLOAD_IDENTITY):
            missing += [
                name
                for name, value in (("tenant id", self.tenant_id), ("client id", self.client_id))
                if not value
            ]
        if self.auth is AuthMethod.SERVICE_PRINCIPAL and self.client_secret is None:
            missing.append("client secret")
        if self.auth is AuthMethod.WORKLOAD_IDENTITY and self.federated_token_file is None:
            missing.append("federated token file (AZURE_FEDERATED_TOKEN_FILE)")
        if missing:
            raise SettingsError(f"{self.auth.value} needs: {', '.join(missing)}")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _interval(value: str | None) -> float:
    if not value:
        return DEFAULT_POLLING_INTERVAL_S
    try:
        interval = float(value)
    except ValueError:
        raise SettingsError(f"AZK_ARM_POLLING_INTERVAL={value!r} is not a number of seconds") from None
    if interval <= 0:
        raise SettingsError("AZK_ARM_POLLING_INTERVAL must be positive")
    return interval


def _read_secret_dir(directory: Path) -> dict[str, str]:
    """Values of a mounted Secret; absent keys are simply absent (a Secret may hold only some of them)."""
    values: dict[str, str] = {}
    for name in SECRET_KEYS:
        path = directory / name
        if path.is_file():
            values[name] = path.read_text().strip()
    return values
