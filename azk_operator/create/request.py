"""What `azk create` was asked for, turned into the resources it installs, validated by the API models.

The API models are the validator: a flag value is checked by the same rules the API server enforces on
`kubectl apply`, and each error is reported against the flag the value came from, in the CLI's words (the
value, what it should look like, the other flag it collides with), before anything reaches Azure. The few
values the models take as they come (the namespace, the operator image) are checked here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from azk_operator.api.cluster import Cluster, NetworkSpec
from azk_operator.api.meta import API_VERSION
from azk_operator.api.nodepool import NodePool
from azk_operator.api.types import DNS_LABEL_PATTERN

DEFAULT_NAMESPACE = "azk-system"
NAMESPACE_MAX_LENGTH = 63
DEFAULT_KUBERNETES_VERSION = "v1.37.2"
DEFAULT_LOCATION = "eastus"
DEFAULT_CONTROL_PLANE_SIZE = "Standard_D2s_v5"
DEFAULT_NODE_SIZE = "Standard_D2s_v5"
DEFAULT_OPERATOR_IMAGE = "azk-operator:0.1.0"
AZURE_CREDENTIALS_SECRET = "azure-credentials"  # noqa: S105 (a Secret's name, not a secret)
CLIENT_SECRET_KEY = "client-secret"  # noqa: S105

# Field path (as the API server spells it) -> the flag that sets it; the longest matching prefix wins.
CLUSTER_FLAGS: Mapping[str, str] = {
    "metadata.name": "NAME",
    "metadata.namespace": "--namespace",
    "spec.azure.subscriptionId": "--subscription",
    "spec.azure.resourceGroup": "--resource-group",
    "spec.azure.location": "--location",
    "spec.azure.tags": "--tag",
    "spec.azure.identity": "--identity",
    "spec.azure.identity.clientId": "--client-id",
    "spec.azure.identity.tenantId": "--tenant-id",
    "spec.kubernetesVersion": "--kubernetes-version",
    "spec.dnsPrefix": "--dns-prefix",
    "spec.network.vnetCidr": "--vnet-cidr",
    "spec.network.controlPlaneSubnetCidr": "--control-plane-subnet-cidr",
    "spec.network.nodeSubnetCidr": "--node-subnet-cidr",
    "spec.network.podCidr": "--pod-cidr",
    "spec.network.serviceCidr": "--service-cidr",
    "spec.network.apiServerAllowedCidrs": "--api-server-allowed-cidr",
    "spec.controlPlane.replicas": "--control-plane-count",
    "spec.controlPlane.vmSize": "--control-plane-size",
    "spec.controlPlane.zones": "--zone",
}
NODEPOOL_FLAGS: Mapping[str, str] = {
    "metadata.name": "NAME",
    "spec.clusterName": "NAME",
    "spec.replicas": "--node-count",
    "spec.template.vmSize": "--node-size",
    "spec.template.kubernetesVersion": "--kubernetes-version",
    "spec.template.zones": "--zone",
}


class InvalidInput(ValueError):
    """Flags that would make an invalid cluster; one line per problem, each naming its flag."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class CreateOptions:
    """Every value `azk create` takes (each one a flag)."""

    name: str
    subscription_id: str
    location: str = DEFAULT_LOCATION
    resource_group: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    dns_prefix: str | None = None
    control_plane_count: int = 1
    control_plane_size: str = DEFAULT_CONTROL_PLANE_SIZE
    node_count: int = 2
    node_size: str = DEFAULT_NODE_SIZE
    zones: tuple[str, ...] = ()
    vnet_cidr: str | None = None
    control_plane_subnet_cidr: str | None = None
    node_subnet_cidr: str | None = None
    pod_cidr: str | None = None
    service_cidr: str | None = None
    api_server_allowed_cidrs: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    identity: str = "ServicePrincipal"
    client_id: str | None = None
    tenant_id: str | None = None
    operator_image: str = DEFAULT_OPERATOR_IMAGE

    @property
    def group(self) -> str:
        return self.resource_group or f"{self.name}-rg"

    @property
    def pool_name(self) -> str:
        return f"{self.name}-workers"


def flag_for(path: str, flags: Mapping[str, str]) -> str | None:
    """The flag of the longest prefix of `path` (`spec.network.podCidr` -> `--pod-cidr`)."""
    best: str | None = None
    for prefix in flags:
        matches = path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))
        if matches and (best is None or len(prefix) > len(best)):
            best = prefix
    return flags[best] if best is not None else None


# What a flag's value must look like, for pattern and length errors (the model's regex helps nobody).
FLAG_FORMATS: Mapping[str, str] = {
    "NAME": "a cluster name: at most 40 lower-case letters, digits and '-', starting and ending with a "
    "letter or digit",
    "--namespace": "a namespace name: at most 63 lower-case letters, digits and '-'",
    "--subscription": "a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)",
    "--client-id": "a client id (a GUID such as 00000000-0000-0000-0000-000000000000)",
    "--tenant-id": "a tenant id (a GUID such as 00000000-0000-0000-0000-000000000000)",
    "--resource-group": "a resource group name: 1-90 letters, digits, '-', '_', '.', '(' or ')', "
    "not ending in '.'",
    "--location": "an Azure region name such as eastus or westeurope",
    "--kubernetes-version": "a Kubernetes version such as v1.37.2 (with the leading v)",
    "--dns-prefix": "a DNS prefix: 3-63 lower-case letters, digits and '-', starting with a letter",
    "--vnet-cidr": "an IPv4 CIDR such as 10.0.0.0/16",
    "--control-plane-subnet-cidr": "an IPv4 CIDR such as 10.0.0.0/24",
    "--node-subnet-cidr": "an IPv4 CIDR such as 10.0.16.0/20",
    "--pod-cidr": "an IPv4 CIDR such as 10.244.0.0/16",
    "--service-cidr": "an IPv4 CIDR such as 10.96.0.0/12",
    "--api-server-allowed-cidr": "an IPv4 CIDR such as 203.0.113.0/24",
    "--control-plane-size": "an Azure VM size such as Standard_D2s_v5",
    "--node-size": "an Azure VM size such as Standard_D2s_v5",
}
_FORMAT_ERRORS = frozenset({"string_pattern_mismatch", "string_too_short", "string_too_long"})
# Where a flag's value can also come from, said when it is missing.
ENV_FALLBACKS: Mapping[str, str] = {
    "--subscription": "AZURE_SUBSCRIPTION_ID",
    "--client-id": "AZURE_CLIENT_ID",
    "--tenant-id": "AZURE_TENANT_ID",
}
# Rule messages name fields (`podCidr must not overlap vnetCidr`); each becomes its flag, except words too
# common to replace blindly.
_GENERIC_WORDS = frozenset({"name", "namespace", "tags", "identity", "location", "zones", "template"})
# Range flags -> CreateOptions attribute (and NetworkSpec field), shown with their value in rule messages.
_NETWORK_FLAGS: Mapping[str, str] = {
    "--vnet-cidr": "vnet_cidr",
    "--control-plane-subnet-cidr": "control_plane_subnet_cidr",
    "--node-subnet-cidr": "node_subnet_cidr",
    "--pod-cidr": "pod_cidr",
    "--service-cidr": "service_cidr",
}


def _words(flags: Mapping[str, str], path: str) -> dict[str, str]:
    """Field names a rule message may use (`podCidr`) -> their flags; `type` only for the identity."""
    words = {
        prefix.rsplit(".", 1)[-1]: flag
        for prefix, flag in flags.items()
        if prefix.rsplit(".", 1)[-1] not in _GENERIC_WORDS
    }
    if path.startswith("spec.azure.identity"):
        words["type"] = "--identity"
    return words


def _network_value(options: CreateOptions, flag: str) -> str:
    """`--vnet-cidr 10.0.0.0/16` as given, or marked `(default)` when the flag was not given."""
    attribute = _NETWORK_FLAGS[flag]
    given = getattr(options, attribute)
    if given is not None:
        return f"{flag} {given}"
    return f"{flag} {NetworkSpec.model_fields[attribute].default} (default)"


def _shown(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return repr(value)
    return str(value) if isinstance(value, int) else None


def _rule_message(
    message: str, flag: str, value: object, path: str, flags: Mapping[str, str], options: CreateOptions
) -> str:
    """A rule's message in the CLI's terms: field names become flags (network ranges with their values)."""
    words = _words(flags, path)
    head, _, rest = message.partition(" ")
    if words.get(head) == flag:  # "podCidr must not overlap ..." on --pod-cidr: drop the repetition
        message = rest.removeprefix("is ")
    for word, word_flag in words.items():
        replacement = _network_value(options, word_flag) if word_flag in _NETWORK_FLAGS else word_flag
        message = re.sub(rf"\b{re.escape(word)}\b", replacement, message)
    if message.startswith("required"):
        env = ENV_FALLBACKS.get(flag)
        return f"{message} (or set {env})" if env else message
    if not message.startswith("must"):
        return message
    # The value the rule is about, marked `(default)` when the user did not give that flag.
    shown = (
        _network_value(options, flag).removeprefix(f"{flag} ") if flag in _NETWORK_FLAGS else _shown(value)
    )
    return f"{shown} {message}" if shown is not None else message


def _message(detail: Any, flag: str, path: str, flags: Mapping[str, str], options: CreateOptions) -> str:
    kind, message, value = detail["type"], detail["msg"], detail.get("input")
    if kind == "azk_rule":
        return _rule_message(message, flag, value, path, flags, options)
    shown = _shown(value)
    if kind in _FORMAT_ERRORS and flag in FLAG_FORMATS and shown is not None:
        described = f"{shown} is not {FLAG_FORMATS[flag]}"
        return f"{described} ({message})" if kind == "string_too_long" else described
    return f"{message}, got {shown}" if shown is not None else message


def _wire_path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _problems(
    error: ValidationError, flags: Mapping[str, str], options: CreateOptions
) -> list[tuple[str | None, str]]:
    """(flag, line) per error; the line names the flag, says what is wrong and ends with the field path."""
    problems: list[tuple[str | None, str]] = []
    for detail in error.errors():
        path = _wire_path(detail["loc"])
        flag = flag_for(path, flags) if path else None
        if flag is None:
            problems.append((None, f"{path}: {detail['msg']}" if path else detail["msg"]))
            continue
        problems.append((flag, f"{flag}: {_message(detail, flag, path, flags, options)} ({path})"))
    return problems


def _network(options: CreateOptions) -> dict[str, Any]:
    values = {
        "vnetCidr": options.vnet_cidr,
        "controlPlaneSubnetCidr": options.control_plane_subnet_cidr,
        "nodeSubnetCidr": options.node_subnet_cidr,
        "podCidr": options.pod_cidr,
        "serviceCidr": options.service_cidr,
        "apiServerAllowedCidrs": list(options.api_server_allowed_cidrs) or None,
    }
    return {key: value for key, value in values.items() if value is not None}


def _identity(options: CreateOptions) -> dict[str, Any]:
    identity: dict[str, Any] = {"type": options.identity}
    if options.client_id:
        identity["clientId"] = options.client_id
    if options.tenant_id:
        identity["tenantId"] = options.tenant_id
    if options.identity == "ServicePrincipal":
        identity["secretRef"] = {"name": AZURE_CREDENTIALS_SECRET, "key": CLIENT_SECRET_KEY}
    return identity


def cluster_manifest(options: CreateOptions) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "azure": {
            "subscriptionId": options.subscription_id,
            "resourceGroup": options.group,
            "location": options.location,
            "identity": _identity(options),
            "tags": dict(options.tags),
        },
        "kubernetesVersion": options.kubernetes_version,
        "network": _network(options),
        "controlPlane": {
            "replicas": options.control_plane_count,
            "vmSize": options.control_plane_size,
            "zones": list(options.zones),
        },
    }
    if options.dns_prefix:
        spec["dnsPrefix"] = options.dns_prefix
    return {
        "apiVersion": API_VERSION,
        "kind": "Cluster",
        "metadata": {"name": options.name, "namespace": options.namespace},
        "spec": spec,
    }


def nodepool_manifest(options: CreateOptions) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "NodePool",
        "metadata": {"name": options.pool_name, "namespace": options.namespace},
        "spec": {
            "clusterName": options.name,
            "replicas": options.node_count,
            "template": {
                "vmSize": options.node_size,
                "kubernetesVersion": options.kubernetes_version,
                "zones": list(options.zones),
            },
        },
    }


@dataclass(frozen=True)
class CreateRequest:
    """The validated resources of one create: what the operator is handed."""

    options: CreateOptions
    cluster: Cluster
    manifests: tuple[dict[str, Any], ...]
    """Cluster first, then the worker NodePool, as they are applied."""

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def namespace(self) -> str:
        return self.options.namespace


def build_request(options: CreateOptions) -> CreateRequest:
    """Validate every flag through the API models; raises InvalidInput naming each bad flag."""
    cluster_doc, pool_doc = cluster_manifest(options), nodepool_manifest(options)
    problems: list[tuple[str | None, str]] = []
    cluster: Cluster | None = None
    try:
        cluster = Cluster.model_validate(cluster_doc)
    except ValidationError as error:
        problems += _problems(error, CLUSTER_FLAGS, options)
    try:
        NodePool.model_validate(pool_doc)
    except ValidationError as error:
        # The pool repeats the cluster's name, version and zones: a flag the Cluster already reported once
        # is not reported again.
        reported = {flag for flag, _ in problems if flag is not None}
        problems += [p for p in _problems(error, NODEPOOL_FLAGS, options) if p[0] not in reported]
    problems += _unchecked_by_models(options)
    if problems or cluster is None:
        raise InvalidInput(_unique([line for _, line in problems]))
    return CreateRequest(options, cluster, (cluster_doc, pool_doc))


def _unchecked_by_models(options: CreateOptions) -> list[tuple[str | None, str]]:
    """Values the models take as they come but the API server (or the kubelet) would refuse later."""
    problems: list[tuple[str | None, str]] = []
    namespace = options.namespace
    if len(namespace) > NAMESPACE_MAX_LENGTH or not re.fullmatch(DNS_LABEL_PATTERN, namespace):
        problems.append(("--namespace", f"--namespace: {namespace!r} is not {FLAG_FORMATS['--namespace']}"))
    image = options.operator_image
    if not image or any(character.isspace() for character in image):
        problems.append(
            (
                "--operator-image",
                f"--operator-image: {image!r} is not an image reference such as {DEFAULT_OPERATOR_IMAGE}",
            )
        )
    return problems


def _unique(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))
