"""Value types shared by the four kinds: each one's pattern, bounds and CEL rule in one place.

Bounds (`maxLength`, `maxItems`, `maxProperties`) matter twice: they keep objects small, and they let the
API server's CEL cost estimator accept the rules at CRD creation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainValidator, Strict, WithJsonSchema
from pydantic_core import PydanticCustomError

from azk_operator.api import cidr
from azk_operator.api.rules import FieldRule, ListType

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4_CIDR_PATTERN = rf"^({_OCTET}\.){{3}}{_OCTET}/([0-9]|[12][0-9]|3[0-2])$"
#: One form only, with the leading "v" that kubeadm, `kubectl version` and `/version` print, so that two
#: equal versions are always equal strings (NodeSet names hash the version).
KUBERNETES_VERSION_PATTERN = r"^v1\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,3})$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#: A label or taint key: an optional DNS-subdomain prefix and a name of at most 63 characters.
QUALIFIED_NAME_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE_PATTERN = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
QUALIFIED_NAME_MAX_LENGTH = 317  # 253 (prefix) + "/" + 63 (name)

#: RFC 3339 text on the wire; the models are strict (as the API server is) except here, where the wire
#: form is a string and Python's is a datetime.
Timestamp = Annotated[datetime, Strict(False)]

Guid = Annotated[str, Field(pattern=GUID_PATTERN, min_length=36, max_length=36)]

Ipv4Cidr = Annotated[
    str,
    Field(pattern=IPV4_CIDR_PATTERN, max_length=18, examples=["10.0.0.0/16"]),
    FieldRule(
        cel="!isCIDR(self) || cidr(self) == cidr(self).masked()",
        message="must be a network address: no bits set after the prefix length (e.g. 10.0.0.0/16)",
        check=cidr.is_network_address,
    ),
]

KubernetesVersion = Annotated[
    str, Field(pattern=KUBERNETES_VERSION_PATTERN, max_length=16, examples=["v1.37.2"])
]

DnsLabel = Annotated[str, Field(pattern=DNS_LABEL_PATTERN, min_length=1, max_length=63)]
DnsSubdomain = Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, min_length=1, max_length=253)]

#: A Cluster's name, and every reference to it. Azure resource names, tags, computer names and the
#: kubeconfig are derived from it, so it is a DNS label that starts with a letter, short enough to leave
#: room for suffixes within Azure's 64-character names.
CLUSTER_NAME_PATTERN = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
CLUSTER_NAME_MAX_LENGTH = 40
ClusterName = Annotated[
    str, Field(pattern=CLUSTER_NAME_PATTERN, min_length=1, max_length=CLUSTER_NAME_MAX_LENGTH)
]

QualifiedName = Annotated[
    str, Field(pattern=QUALIFIED_NAME_PATTERN, min_length=1, max_length=QUALIFIED_NAME_MAX_LENGTH)
]
LabelValue = Annotated[str, Field(pattern=LABEL_VALUE_PATTERN, max_length=63)]

_QUALIFIED_NAME = re.compile(QUALIFIED_NAME_PATTERN)


def _label_keys_valid(labels: dict[str, str]) -> bool:
    return all(len(key) <= QUALIFIED_NAME_MAX_LENGTH and _QUALIFIED_NAME.fullmatch(key) for key in labels)


#: The NodeRestriction admission plugin lets a kubelet set labels of the kubernetes.io and k8s.io
#: namespaces (and their subdomains) only under kubelet.kubernetes.io and node.kubernetes.io or for these
#: well-known keys; a kubelet started with any other such --node-labels refuses to start.
KUBELET_RESTRICTED_LABEL_PATTERN = r"^([^/]*\.)?(kubernetes|k8s)\.io/"
KUBELET_ALLOWED_LABEL_PATTERN = r"^([^/]*\.)?(kubelet|node)\.kubernetes\.io/"
KUBELET_ALLOWED_LABEL_KEYS = (
    "kubernetes.io/hostname",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
)
_KUBELET_RESTRICTED = re.compile(KUBELET_RESTRICTED_LABEL_PATTERN)
_KUBELET_ALLOWED = re.compile(KUBELET_ALLOWED_LABEL_PATTERN)


def kubelet_may_set_label(key: str) -> bool:
    """Whether a kubelet may register its node with this label key (see the patterns above)."""
    return (
        _KUBELET_RESTRICTED.match(key) is None
        or _KUBELET_ALLOWED.match(key) is not None
        or key in KUBELET_ALLOWED_LABEL_KEYS
    )


_ALLOWED_KEYS_CEL = ", ".join(f"'{key}'" for key in KUBELET_ALLOWED_LABEL_KEYS)

#: Node labels, set by each node's kubelet when it registers. The schema cannot constrain map keys, so
#: CEL rules check them.
Labels = Annotated[
    dict[str, LabelValue],
    Field(max_length=32, json_schema_extra={"default": {}}),
    FieldRule(
        cel=f"self.all(k, k.size() <= {QUALIFIED_NAME_MAX_LENGTH} && k.matches(r'{QUALIFIED_NAME_PATTERN}'))",
        message="label keys must be qualified names such as example.com/tier or tier",
        check=_label_keys_valid,
    ),
    FieldRule(
        cel=(
            f"self.all(k, !k.matches(r'{KUBELET_RESTRICTED_LABEL_PATTERN}') || "
            f"k.matches(r'{KUBELET_ALLOWED_LABEL_PATTERN}') || k in [{_ALLOWED_KEYS_CEL}])"
        ),
        message=(
            "kubelets may set labels of the kubernetes.io and k8s.io namespaces only under "
            "node.kubernetes.io or kubelet.kubernetes.io (e.g. not node-role.kubernetes.io/worker)"
        ),
        check=lambda labels: all(kubelet_may_set_label(key) for key in labels),
    ),
]

VmSize = Annotated[
    str, Field(pattern=r"^(Standard|Basic)_[A-Za-z0-9_-]+$", max_length=64, examples=["Standard_D4s_v5"])
]

Zone = Literal["1", "2", "3"]
Zones = Annotated[list[Zone], Field(max_length=3, json_schema_extra={"default": []}), ListType("set")]

OsDiskSizeGB = Annotated[int, Field(ge=30, le=4095)]

#: A Go-style duration made of hours, minutes and seconds, e.g. "10m" or "1h30m".
Duration = Annotated[
    str, Field(pattern=r"^([0-9]{1,4}h)?([0-9]{1,4}m)?([0-9]{1,4}s)?$", min_length=2, max_length=15)
]

_DURATION_PART = re.compile(r"([0-9]+)([hms])")
_SECONDS = {"h": 3600, "m": 60, "s": 1}


def duration_seconds(value: str) -> int:
    """Seconds in a `Duration` string ("1h30m" -> 5400)."""
    return sum(int(amount) * _SECONDS[unit] for amount, unit in _DURATION_PART.findall(value))


PERCENT_PATTERN = r"^(100|[1-9]?[0-9])%$"
_PERCENT = re.compile(PERCENT_PATTERN)
MAX_REPLICAS = 1000  # a VM scale set holds at most 1,000 VMs


def _int_or_string(value: object) -> int | str:
    """The API server's int-or-string: an integer (not a boolean) or a string, never converted."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("int_or_string", "must be an integer or a string")


def _int_or_percent_valid(value: int | str) -> bool:
    if isinstance(value, int):
        return 0 <= value <= MAX_REPLICAS
    return _PERCENT.fullmatch(value) is not None


#: A count of nodes or a percentage of the pool's replicas ("25%"), as in Deployment rollouts.
IntOrPercent = Annotated[
    int | str,
    PlainValidator(_int_or_string),
    WithJsonSchema({"x-kubernetes-int-or-string": True}),
    FieldRule(
        cel=f"type(self) == int ? self >= 0 && self <= {MAX_REPLICAS} : "
        f"string(self).size() <= 4 && string(self).matches(r'{PERCENT_PATTERN}')",
        message=f"must be an integer from 0 to {MAX_REPLICAS} or a percentage from 0% to 100%",
        check=_int_or_percent_valid,
    ),
]


def is_zero(value: int | str) -> bool:
    """0 and "0%" both mean "none" for maxSurge and maxUnavailable."""
    return value in (0, "0%")


def object_default(model: type[BaseModel]) -> dict[str, Any]:
    """`json_schema_extra` for a nested object whose fields all have defaults: the API server fills in the
    whole object, so every reader sees the defaults the Python model applies. The default is the complete
    object (not `{}`) because the API server checks a default against the CEL rules without defaulting
    inside it."""
    return {"default": model().model_dump(mode="json", by_alias=True, exclude_none=True)}
