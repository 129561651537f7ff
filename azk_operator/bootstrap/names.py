"""Validation of the names and labels that end up in certificates, kubeadm configs and kubelet flags."""

from __future__ import annotations

import re

from azk_operator.bootstrap.sans import is_dns_name

# A cluster name becomes part of Azure resource names and the kubeconfig; a DNS-1123 label keeps it valid
# in both.
CLUSTER_NAME_PATTERN = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")

# The NodeRestriction admission plugin lets a kubelet set labels in the kubernetes.io / k8s.io namespaces
# only under these prefixes or for these keys; kubelet refuses to start with any other such --node-labels.
_KUBELET_ALLOWED_PREFIXES = ("kubelet.kubernetes.io", "node.kubernetes.io")
_KUBELET_ALLOWED_KEYS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
    }
)


def is_cluster_name(value: str) -> bool:
    """A lowercase DNS label of at most 40 characters, starting with a letter."""
    return CLUSTER_NAME_PATTERN.fullmatch(value) is not None


def label_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a node label a kubelet sets on itself, or None when it can."""
    prefix, _, name = key.rpartition("/")
    if prefix and not is_dns_name(prefix):
        return f"label key {key!r}: prefix is not a DNS subdomain"
    if _LABEL_NAME.fullmatch(name) is None:
        return f"label key {key!r}: name must be 1-63 alphanumerics, '-', '_' or '.'"
    restricted = prefix.endswith(("kubernetes.io", "k8s.io"))
    allowed = key in _KUBELET_ALLOWED_KEYS or any(
        prefix == allowed_prefix or prefix.endswith("." + allowed_prefix)
        for allowed_prefix in _KUBELET_ALLOWED_PREFIXES
    )
    if restricted and not allowed:
        return f"label key {key!r}: kubelets may not set labels in the kubernetes.io/k8s.io namespaces"
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a label value, or None when it can."""
    if _LABEL_VALUE.fullmatch(value) is None:
        return f"label value {value!r}: at most 63 alphanumerics, '-', '_' or '.'"
    return None
