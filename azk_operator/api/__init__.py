"""The engine.azk.io/v1alpha1 API: pydantic models of the four kinds, the source of the CRDs in crds/.

Validate input with `Cluster.model_validate(obj)` (and the other kinds): the models apply the same
defaults and reject the same objects, with the same messages at the same field paths, as the API server.
Updates additionally go through `Cluster.validate_update(old, new)` (immutable fields).
"""

from azk_operator.api.addonmanager import Addon, AddonManager, AddonManagerSpec, AddonManagerStatus
from azk_operator.api.cluster import (
    AzureIdentity,
    AzureSpec,
    CertificatesSpec,
    Cluster,
    ClusterSpec,
    ClusterStatus,
    ControlPlaneSpec,
    NetworkSpec,
    SecretKeyRef,
)
from azk_operator.api.conditions import Condition, find_condition, set_condition
from azk_operator.api.meta import API_VERSION, GROUP, VERSION, ObjectMeta, Resource
from azk_operator.api.nodepool import NodePool, NodePoolSpec, NodePoolStatus, RolloutStrategy
from azk_operator.api.nodeset import NodeSet, NodeSetSpec, NodeSetStatus
from azk_operator.api.nodetemplate import NodeTemplate, Taint
from azk_operator.api.rules import error_lines

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "Addon",
    "AddonManager",
    "AddonManagerSpec",
    "AddonManagerStatus",
    "AzureIdentity",
    "AzureSpec",
    "CertificatesSpec",
    "Cluster",
    "ClusterSpec",
    "ClusterStatus",
    "Condition",
    "ControlPlaneSpec",
    "NetworkSpec",
    "NodePool",
    "NodePoolSpec",
    "NodePoolStatus",
    "NodeSet",
    "NodeSetSpec",
    "NodeSetStatus",
    "NodeTemplate",
    "ObjectMeta",
    "Resource",
    "RolloutStrategy",
    "SecretKeyRef",
    "Taint",
    "error_lines",
    "find_condition",
    "set_condition",
]
