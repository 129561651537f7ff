"""Validation of the names and labels that end up in certificates, kubeadm configs and kubelet flags."""

from __future__ import annotations

import re

from azk_operator.api import types
from azk_operator.bootstrap.sans import is_dns_name

# The API's rules (the single source), compiled for the artifacts built from them.
CLUSTER_NAME_PATTERN = re.compile(types.CLUSTER_NAME_PATTERN)
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def is_cluster_name(value: str) -> bool:
    """A lowercase DNS label of at most 40 characters, starting with a letter."""
    return len(value) <= types.CLUSTER_NAME_MAX_LENGTH and CLUSTER_NAME_PATTERN.fullmatch(value) is not None


def label_key_problem(key: str) -> str | None:
    """Why ``key`` cannot be a node label a kubelet sets on itself, or None when it can."""
    prefix, _, name = key.rpartition("/")
    if prefix and not is_dns_name(prefix):
        return f"label key {key!r}: prefix is not a DNS subdomain"
    if _LABEL_NAME.fullmatch(name) is None:
        return f"label key {key!r}: name must be 1-63 alphanumerics, '-', '_' or '.'"
    if not types.kubelet_may_set_label(key):
        return f"label key {key!r}: kubelets may not set labels in the kubernetes.io/k8s.io namespaces"
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a label value, or None when it can."""
    if _LABEL_VALUE.fullmatch(value) is None:
        return f"label value {value!r}: at most 63 alphanumerics, '-', '_' or '.'"
    return None
