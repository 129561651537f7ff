"""The control-plane NodeSet a Cluster owns, as a manifest computed from the Cluster (pure)."""

from __future__ import annotations

from typing import Any

from azk_operator.api.cluster import ClusterSpec
from azk_operator.api.meta import API_VERSION
from azk_operator.bootstrap.cluster_secrets import CLUSTER_LABEL

CONTROL_PLANE_ROLE = "ControlPlane"


def control_plane_nodeset_name(cluster: str) -> str:
    return f"{cluster}-control-plane"


def control_plane_nodeset(
    cluster: str, namespace: str, cluster_uid: str, spec: ClusterSpec
) -> dict[str, Any]:
    """The NodeSet manifest (server-side applied): owned by the Cluster, so it goes when the Cluster goes."""
    return {
        "apiVersion": API_VERSION,
        "kind": "NodeSet",
        "metadata": {
            "name": control_plane_nodeset_name(cluster),
            "namespace": namespace,
            "labels": {CLUSTER_LABEL: cluster},
            "ownerReferences": [
                {
                    "apiVersion": API_VERSION,
                    "kind": "Cluster",
                    "name": cluster,
                    "uid": cluster_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "clusterName": cluster,
            "role": CONTROL_PLANE_ROLE,
            "replicas": spec.control_plane.replicas,
            "template": {
                "vmSize": spec.control_plane.vm_size,
                "kubernetesVersion": spec.kubernetes_version,
                "zones": list(spec.control_plane.zones),
                "osDiskSizeGB": spec.control_plane.os_disk_size_gb,
            },
        },
    }
