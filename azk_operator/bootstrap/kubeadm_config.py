"""kubeadm configuration documents (``kubeadm.k8s.io/v1beta4``, current since kubeadm 1.31)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from azk_operator.bootstrap.config import ClusterBootstrapConfig, NodeBootstrapConfig
from azk_operator.bootstrap.keys import KeyAlgorithm
from azk_operator.bootstrap.sans import SubjectAltNames
from azk_operator.bootstrap.tokens import DEFAULT_NODE_TOKEN_GROUP, DEFAULT_USAGES, BootstrapToken

KUBEADM_API_VERSION = "kubeadm.k8s.io/v1beta4"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
API_SERVER_PORT = 6443
# A fixed lifetime (kubeadm's default), never one computed from the clock: the first control plane's
# document is its scale set's customData, and a value that changed on every render would make every
# reconcile look like drift and send a write. The token Secret azk applies once the API answers sets the
# recorded expiry.
INIT_TOKEN_TTL = timedelta(hours=24)


def _node_registration(node: NodeBootstrapConfig) -> dict[str, Any]:
    # v1beta4 takes extra arguments as a list of name/value pairs, not a map.
    kubelet_args = [{"name": "cloud-provider", "value": "external"}]
    if node.node_labels:
        labels = ",".join(f"{key}={value}" for key, value in node.node_labels.items())
        kubelet_args.append({"name": "node-labels", "value": labels})
    registration: dict[str, Any] = {"criSocket": CRI_SOCKET, "kubeletExtraArgs": kubelet_args}
    if node.taints is not None:
        registration["taints"] = [taint.model_dump(exclude_defaults=True) for taint in node.taints]
    return registration


def cluster_cert_sans(cluster: ClusterBootstrapConfig) -> list[str]:
    """``apiServer.certSANs``: what kubeadm does not add by itself (the endpoint host and the extra SANs)."""
    sans = SubjectAltNames.from_strings((cluster.endpoint_host, *cluster.apiserver_cert_sans))
    return list(sans.as_strings())


def init_configuration(
    cluster: ClusterBootstrapConfig,
    node: NodeBootstrapConfig,
    token: BootstrapToken,
    token_ttl: timedelta,
    key_algorithm: KeyAlgorithm,
) -> list[dict[str, Any]]:
    """InitConfiguration + ClusterConfiguration for ``kubeadm init`` on the first control-plane node.

    The token's lifetime is a ``ttl``, not ``expires``: kubeadm defaults ``ttl`` to 24 h when it is absent
    and then refuses the pair as mutually exclusive. A ``ttl`` of zero means "never expires": refused here.
    """
    seconds = math.ceil(token_ttl.total_seconds())
    if seconds <= 0:
        raise ValueError(f"the bootstrap token's remaining lifetime must be positive, got {token_ttl}")
    init = {
        "apiVersion": KUBEADM_API_VERSION,
        "kind": "InitConfiguration",
        "bootstrapTokens": [
            {
                "token": token.value,
                "description": f"azk node bootstrap token for cluster {cluster.cluster_name}",
                "ttl": f"{seconds}s",
                "usages": list(DEFAULT_USAGES),
                "groups": [DEFAULT_NODE_TOKEN_GROUP],
            }
        ],
        "nodeRegistration": _node_registration(node),
        "localAPIEndpoint": {"bindPort": API_SERVER_PORT},
    }
    cluster_configuration = {
        "apiVersion": KUBEADM_API_VERSION,
        "kind": "ClusterConfiguration",
        "clusterName": cluster.cluster_name,
        "kubernetesVersion": cluster.version_tag,
        "controlPlaneEndpoint": cluster.control_plane_endpoint,
        # Leaves kubeadm issues locally use the same key type as the CAs azk generated.
        "encryptionAlgorithm": key_algorithm.value,
        "networking": {
            "serviceSubnet": cluster.service_cidr,
            "podSubnet": cluster.pod_cidr,
            "dnsDomain": cluster.dns_domain,
        },
        "apiServer": {"certSANs": cluster_cert_sans(cluster)},
    }
    return [init, cluster_configuration]


def join_configuration(
    cluster: ClusterBootstrapConfig, node: NodeBootstrapConfig, token: BootstrapToken, ca_hash: str
) -> dict[str, Any]:
    """JoinConfiguration for ``kubeadm join``; control-plane nodes also get a ``controlPlane`` section."""
    join: dict[str, Any] = {
        "apiVersion": KUBEADM_API_VERSION,
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": cluster.control_plane_endpoint,
                "token": token.value,
                "caCertHashes": [ca_hash],
            }
        },
        "nodeRegistration": _node_registration(node),
    }
    if node.role.is_control_plane:
        join["controlPlane"] = {"localAPIEndpoint": {"bindPort": API_SERVER_PORT}}
    return join
