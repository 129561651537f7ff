"""Credentials for kopf from an explicit kubeconfig file.

kopf's own login reads the default kubeconfig locations; azk's operator and its tests name the file
instead (`azk operator run --kubeconfig PATH`), so several clusters can be driven from one machine.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import kopf
import yaml


class KubeconfigError(ValueError):
    """The kubeconfig lacks what a login needs; the message names the missing key, never a secret."""


def connection_from_kubeconfig(path: Path, context: str | None = None) -> kopf.ConnectionInfo:
    """The server, CA and client credentials of `context` (default: current-context) in `path`."""
    config: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    context_name = context or config.get("current-context")
    if not context_name:
        raise KubeconfigError(f"{path}: no context given and no current-context set")
    ctx = _named(config, "contexts", context_name, path)["context"]
    cluster = _named(config, "clusters", ctx["cluster"], path)["cluster"]
    user = _named(config, "users", ctx["user"], path).get("user") or {}
    return kopf.ConnectionInfo(
        server=cluster["server"],
        ca_path=cluster.get("certificate-authority"),
        ca_data=_decoded(cluster.get("certificate-authority-data")),
        insecure=cluster.get("insecure-skip-tls-verify"),
        certificate_path=user.get("client-certificate"),
        certificate_data=_decoded(user.get("client-certificate-data")),
        private_key_path=user.get("client-key"),
        private_key_data=_decoded(user.get("client-key-data")),
        token=user.get("token"),
        default_namespace=ctx.get("namespace"),
    )


def _named(config: dict[str, Any], section: str, name: str, path: Path) -> dict[str, Any]:
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            found: dict[str, Any] = entry
            return found
    raise KubeconfigError(f"{path}: {section} has no entry named {name!r}")


def _decoded(data: str | None) -> bytes | None:
    return base64.b64decode(data) if data else None
