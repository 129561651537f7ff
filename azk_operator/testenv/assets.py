"""Where the test control plane's binaries are: a user's envtest assets, or the project's own build."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_CACHE = REPO_ROOT / ".cache" / "kube-assets"
BUILD_SCRIPT = REPO_ROOT / "tools" / "build-control-plane.sh"

# Checked in this order; the first that names a folder wins.
ASSET_ENV_VARS = ("AZK_KUBE_ASSETS", "KUBEBUILDER_ASSETS")


class KubeAssetsMissing(RuntimeError):
    """The control-plane binaries are not where they were looked for."""


@dataclass(frozen=True)
class KubeAssets:
    """Paths of the three binaries a test control plane runs."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path


def find_kube_assets() -> KubeAssets:
    """Return the control-plane binaries, from an env var folder or the build cache.

    Raises KubeAssetsMissing naming what was searched and how to build the binaries.
    """
    for var in ASSET_ENV_VARS:
        value = os.environ.get(var)
        if value:
            return _assets_in(Path(value), f"${var}")
    return _assets_in(BUILD_CACHE, "the build cache")


def _assets_in(folder: Path, origin: str) -> KubeAssets:
    assets = KubeAssets(
        etcd=folder / "etcd",
        kube_apiserver=folder / "kube-apiserver",
        kube_controller_manager=folder / "kube-controller-manager",
    )
    missing = [
        p.name
        for p in (assets.etcd, assets.kube_apiserver, assets.kube_controller_manager)
        if not os.access(p, os.X_OK)
    ]
    if missing:
        raise KubeAssetsMissing(
            f"{', '.join(missing)} not found in {folder} ({origin}); run {BUILD_SCRIPT} "
            f"or point AZK_KUBE_ASSETS at a folder holding etcd, kube-apiserver and kube-controller-manager"
        )
    return assets
