"""Bootstrap tokens (the credential nodes join with) and the discovery CA hash that pins the cluster CA."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from azk_operator.bootstrap.errors import BootstrapError

TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"  # noqa: S105 - an alphabet, not a secret
TOKEN_PATTERN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
DEFAULT_NODE_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token"  # noqa: S105
DEFAULT_USAGES = ("authentication", "signing")
BOOTSTRAP_TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token"  # noqa: S105


@dataclass(frozen=True)
class BootstrapToken:
    """A ``<id>.<secret>`` bootstrap token. ``repr`` and ``str`` show only the public id."""

    token_id: str
    secret: str = field(repr=False)

    def __post_init__(self) -> None:
        if TOKEN_PATTERN.fullmatch(f"{self.token_id}.{self.secret}") is None:
            raise BootstrapError("a bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16}")

    @classmethod
    def generate(cls) -> BootstrapToken:
        """A new token from the system's cryptographic random source."""
        return cls(
            "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(6)),
            "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(16)),
        )

    @classmethod
    def parse(cls, value: str) -> BootstrapToken:
        match = TOKEN_PATTERN.fullmatch(value.strip())
        if match is None:
            raise BootstrapError("a bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16}")
        return cls(match.group(1), match.group(2))

    @property
    def value(self) -> str:
        """The full secret token, for config files with mode 0600 only."""
        return f"{self.token_id}.{self.secret}"

    @property
    def secret_name(self) -> str:
        return f"bootstrap-token-{self.token_id}"

    @property
    def username(self) -> str:
        """The user the apiserver authenticates a request carrying this token as."""
        return f"system:bootstrap:{self.token_id}"

    def __str__(self) -> str:
        return f"bootstrap token {self.token_id}"


def rfc3339(moment: datetime) -> str:
    """UTC, second precision, ``Z`` suffix: the form the bootstrap-token authenticator parses."""
    if moment.tzinfo is None:
        raise BootstrapError("token expiry must be timezone-aware")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def bootstrap_token_secret(
    token: BootstrapToken,
    expires: datetime,
    *,
    description: str = "azk node bootstrap token",
    usages: Sequence[str] = DEFAULT_USAGES,
    extra_groups: Sequence[str] = (DEFAULT_NODE_TOKEN_GROUP,),
) -> dict[str, Any]:
    """The ``kube-system/bootstrap-token-<id>`` Secret manifest (contains the secret: apply, never log)."""
    unknown = sorted(set(usages) - set(DEFAULT_USAGES))
    if unknown:
        raise BootstrapError(f"unknown bootstrap token usages: {', '.join(unknown)}")
    bad_groups = [group for group in extra_groups if not group.startswith("system:bootstrappers:")]
    if bad_groups:
        raise BootstrapError(f"extra groups must start with system:bootstrappers: ({', '.join(bad_groups)})")
    string_data = {
        "token-id": token.token_id,
        "token-secret": token.secret,
        "expiration": rfc3339(expires),
        "description": description,
    }
    string_data.update({f"usage-bootstrap-{usage}": "true" for usage in usages})
    if extra_groups:
        string_data["auth-extra-groups"] = ",".join(extra_groups)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": token.secret_name, "namespace": "kube-system"},
        "type": BOOTSTRAP_TOKEN_SECRET_TYPE,
        "stringData": string_data,
    }


def discovery_ca_hash(ca_cert: x509.Certificate) -> str:
    """``sha256:<hex>`` of the CA's DER SubjectPublicKeyInfo (kubeadm's discovery-token-ca-cert-hash)."""
    spki = ca_cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()
