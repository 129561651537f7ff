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
    return _assets_in(*_asset_folder())


def _asset_folder() -> tuple[Path, str]:
    """The folder the binaries are looked for in, and where that choice came from."""
    for var in ASSET_ENV_VARS:
        value = os.environ.get(var)
        if value:
            return Path(value), f"${var}"
    return BUILD_CACHE, "the build cache"


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


def find_kubeadm() -> Path:
    """The kubeadm the build script makes next to the control plane, for validating azk's kubeadm configs.

    Raises KubeAssetsMissing when it is not there (envtest-style asset folders carry no kubeadm).
    """
    folder, origin = _asset_folder()
    kubeadm = folder / "kubeadm"
    if not os.access(kubeadm, os.X_OK):
        raise KubeAssetsMissing(f"kubeadm not found in {folder} ({origin}); run {BUILD_SCRIPT} {folder}")
    return kubeadm
