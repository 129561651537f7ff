"""The CLI's own records of a cluster, under ``$AZK_HOME/<cluster>/`` (default ``~/.azk``).

They are what makes `azk create` resumable: the cluster PKI (never generated twice: a second CA would split
the cluster's trust), the first bootstrap token, the validated resources and the admin kubeconfig. Every
file is written with mode 0600 in a 0700 directory.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from azk_operator.bootstrap.files import write_secret_file
from azk_operator.bootstrap.pki import ClusterPKI, load_cluster_pki, load_or_create_cluster_pki
from azk_operator.bootstrap.tokens import BootstrapToken

HOME_ENV = "AZK_HOME"
# The first token only has to outlive the create itself; the operator keeps a fresh one from then on.
FIRST_TOKEN_LIFETIME = datetime.timedelta(hours=24)


def azk_home() -> Path:
    """``$AZK_HOME`` when set (tests, several users of one machine), else ``~/.azk``."""
    value = os.environ.get(HOME_ENV)
    return Path(value) if value else Path.home() / ".azk"


@dataclass(frozen=True)
class ClusterHome:
    """One cluster's folder; methods read or write one record each."""

    root: Path

    @classmethod
    def of(cls, cluster: str, home: Path | None = None) -> ClusterHome:
        return cls((home or azk_home()) / cluster)

    @property
    def kubeconfig_path(self) -> Path:
        return self.root / "admin.kubeconfig"

    @property
    def resources_path(self) -> Path:
        return self.root / "resources.yaml"

    @property
    def token_path(self) -> Path:
        return self.root / "bootstrap-token.json"

    @property
    def settings_path(self) -> Path:
        return self.root / "cluster.json"

    def exists(self) -> bool:
        return self.root.is_dir()

    def _ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.chmod(0o700)

    def pki(self) -> ClusterPKI | None:
        return load_cluster_pki(self.root)

    def load_or_create_pki(self) -> ClusterPKI:
        self._ensure()
        pki = load_or_create_cluster_pki(self.root)
        # Certificates are public, but the folder is the cluster's secret store: keep all of it owner-only.
        for path in self.root.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
        return pki

    def load_or_create_token(
        self, now: datetime.datetime | None = None
    ) -> tuple[BootstrapToken, datetime.datetime]:
        """The token the first control plane's document carries; a new one only when none or expired."""
        now = now or datetime.datetime.now(datetime.UTC)
        if self.token_path.is_file():
            record = json.loads(self.token_path.read_text())
            expires = datetime.datetime.fromisoformat(record["expires"])
            if expires - now > datetime.timedelta(hours=1):
                return BootstrapToken.parse(record["token"]), expires
        token, expires = BootstrapToken.generate(), now + FIRST_TOKEN_LIFETIME
        self._ensure()
        write_secret_file(
            self.token_path, json.dumps({"token": token.value, "expires": expires.isoformat()}).encode()
        )
        return token, expires

    def write_resources(self, resources: list[dict[str, Any]]) -> None:
        self._ensure()
        write_secret_file(self.resources_path, yaml.safe_dump_all(resources, sort_keys=False).encode())

    def resources(self) -> list[dict[str, Any]]:
        if not self.resources_path.is_file():
            return []
        return [doc for doc in yaml.safe_load_all(self.resources_path.read_text()) if doc]

    def write_settings(self, settings: dict[str, Any]) -> None:
        """Non-secret facts later commands need (namespace, local mode, endpoint)."""
        self._ensure()
        write_secret_file(self.settings_path, json.dumps(settings, indent=2, sort_keys=True).encode())

    def settings(self) -> dict[str, Any]:
        if not self.settings_path.is_file():
            return {}
        loaded: dict[str, Any] = json.loads(self.settings_path.read_text())
        return loaded

    def write_kubeconfig(self, kubeconfig: str) -> None:
        self._ensure()
        write_secret_file(self.kubeconfig_path, kubeconfig.encode())

    def kubeconfig(self) -> Path | None:
        return self.kubeconfig_path if self.kubeconfig_path.is_file() else None

    def remove(self) -> None:
        """Forget the cluster (after `azk delete` saw Azure empty): its CA is of no use any more."""
        shutil.rmtree(self.root, ignore_errors=True)
