"""A real Kubernetes control plane for tests and local mode: etcd, kube-apiserver, kube-controller-manager."""

from azk_operator.testenv.assets import KubeAssets, KubeAssetsMissing, find_kube_assets, find_kubeadm
from azk_operator.testenv.controlplane import ControlPlane, ControlPlaneError
from azk_operator.testenv.pki import SuppliedPKI

__all__ = [
    "ControlPlane",
    "ControlPlaneError",
    "KubeAssets",
    "KubeAssetsMissing",
    "SuppliedPKI",
    "find_kube_assets",
    "find_kubeadm",
]
