"""The typed input of the cloud-init renderers: what the cluster and one node look like.

Kept independent of the CRD models on purpose: the renderers are pure and tested on their own, and the
controllers translate their spec into these small objects.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from azk_operator.bootstrap.names import is_cluster_name, label_key_problem, label_value_problem
from azk_operator.bootstrap.sans import SubjectAltNames, apiserver_subject_alt_names, is_dns_name

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
_REVISION = re.compile(r"^[0-9][0-9A-Za-z.+~]*$")


class NodeRole(StrEnum):
    """Which document a node boots from."""

    FIRST_CONTROL_PLANE = "first-control-plane"  # kubeadm init
    CONTROL_PLANE = "control-plane"  # kubeadm join --control-plane
    WORKER = "worker"  # kubeadm join

    @property
    def is_control_plane(self) -> bool:
        return self is not NodeRole.WORKER


class Taint(BaseModel):
    """A node taint registered by kubeadm."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]

    @model_validator(mode="after")
    def _valid(self) -> Taint:
        prefix, _, name = self.key.rpartition("/")
        if (prefix and not is_dns_name(prefix)) or label_value_problem(name) or not name:
            raise ValueError(f"taint key {self.key!r} is not a qualified name")
        problem = label_value_problem(self.value)
        if problem:
            raise ValueError(problem)
        return self


class ClusterBootstrapConfig(BaseModel):
    """Cluster-wide facts every node document needs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cluster_name: str = Field(description="DNS label, at most 40 characters")
    kubernetes_version: str = Field(description="pinned patch release, e.g. 1.31.4 (leading v accepted)")
    control_plane_endpoint: str = Field(description="host:port of the API load balancer frontend")
    apiserver_cert_sans: tuple[str, ...] = Field(
        default=(), description="load-balancer frontend addresses, public FQDN, other names of the API"
    )
    service_cidr: str = "10.96.0.0/12"
    pod_cidr: str = "10.244.0.0/16"
    dns_domain: str = "cluster.local"
    package_repository: str = Field(
        default="https://pkgs.k8s.io/core:/stable:",
        description="base of the per-minor Kubernetes apt repositories (<base>/v1.31/deb/)",
    )
    package_revision: str = Field(default="1.1", description="Debian revision of the pinned packages")
    kubeadm_attempts: int = Field(default=5, ge=1, le=20, description="kubeadm init/join attempts per boot")

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, value: str) -> str:
        if not is_cluster_name(value):
            raise ValueError("must be a lowercase DNS label of at most 40 characters starting with a letter")
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _version(cls, value: str) -> str:
        match = _VERSION.fullmatch(value)
        if match is None:
            raise ValueError("must be a patch release such as 1.31.4")
        return ".".join(match.groups())

    @field_validator("control_plane_endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        host, port = _split_host_port(value)
        if not (1 <= port <= 65535) or not _is_host(host):
            raise ValueError("must be host:port with a DNS name or IP address")
        return value

    @field_validator("service_cidr", "pod_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        ipaddress.ip_network(value, strict=True)
        return value

    @field_validator("package_repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not value.startswith("https://") or any(char in value for char in " \"'$`\\"):
            raise ValueError("must be an https:// URL without quotes or shell characters")
        return value.rstrip("/")

    @field_validator("package_revision")
    @classmethod
    def _revision(cls, value: str) -> str:
        if _REVISION.fullmatch(value) is None:
            raise ValueError("must be a Debian revision such as 1.1")
        return value

    @field_validator("apiserver_cert_sans")
    @classmethod
    def _sans(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        SubjectAltNames.from_strings(value)  # raises on a SAN that is neither a DNS name nor an address
        return value

    @property
    def version_tag(self) -> str:
        return f"v{self.kubernetes_version}"

    @property
    def minor_tag(self) -> str:
        major, minor, _ = self.kubernetes_version.split(".")
        return f"v{major}.{minor}"

    @property
    def package_version(self) -> str:
        return f"{self.kubernetes_version}-{self.package_revision}"

    @property
    def endpoint_host(self) -> str:
        return _split_host_port(self.control_plane_endpoint)[0]

    def apiserver_sans(self) -> SubjectAltNames:
        """The serving certificate's SANs: kubeadm's defaults, the endpoint host and the extra SANs."""
        return apiserver_subject_alt_names(
            service_cidrs=[self.service_cidr],
            dns_domain=self.dns_domain,
            extra=(self.endpoint_host, *self.apiserver_cert_sans),
        )


class NodeBootstrapConfig(BaseModel):
    """What distinguishes one node's document: its role, labels and taints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: NodeRole
    node_labels: dict[str, str] = Field(default_factory=dict)
    taints: tuple[Taint, ...] | None = Field(
        default=None, description="None keeps kubeadm's default (control-plane taint on control planes)"
    )

    @field_validator("node_labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for key, label in value.items():
            problem = label_key_problem(key) or label_value_problem(label)
            if problem:
                raise ValueError(problem)
        return dict(sorted(value.items()))


def _split_host_port(value: str) -> tuple[str, int]:
    host, separator, port = value.rpartition(":")
    if not separator or not port.isdigit():
        return value, -1
    return host.removeprefix("[").removesuffix("]"), int(port)


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return is_dns_name(host.lower()) and not host.startswith("*")
    return True
