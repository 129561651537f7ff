"""Reading a rendered node document back: the material a VM boot simulator needs to play the VM.

Pure parsing: it accepts exactly the shape :mod:`azk_operator.bootstrap.cloudinit` renders (raw
``#cloud-config`` text or Azure customData) and returns typed values, raising
:class:`~azk_operator.bootstrap.errors.DocumentParseError` on anything else.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import yaml

from azk_operator.bootstrap.cloudinit import CLOUD_CONFIG_HEADER
from azk_operator.bootstrap.config import NodeRole
from azk_operator.bootstrap.customdata import decode_custom_data
from azk_operator.bootstrap.errors import DocumentParseError, PKIError
from azk_operator.bootstrap.node_script import ENV_PATH, KUBEADM_CONFIG_PATH, PKI_STAGING_DIR
from azk_operator.bootstrap.pki import ClusterPKI
from azk_operator.bootstrap.sans import SubjectAltNames, apiserver_subject_alt_names
from azk_operator.bootstrap.tokens import BootstrapToken


@dataclass(frozen=True, repr=False)
class NodeDocument:
    """What a rendered document tells a node to be."""

    role: NodeRole
    cluster_name: str
    kubernetes_version: str
    control_plane_endpoint: str
    node_labels: dict[str, str]
    token: BootstrapToken
    pki: ClusterPKI | None = None
    token_ttl: timedelta | None = None
    """The token's lifetime from `kubeadm init` on (init documents only)."""
    # Only the init document carries the ClusterConfiguration; joining nodes read it from the cluster.
    cert_sans: tuple[str, ...] = ()
    service_cidr: str | None = None
    pod_cidr: str | None = None
    dns_domain: str | None = None
    kubeadm_documents: tuple[dict[str, Any], ...] = field(default=(), compare=False)

    def apiserver_sans(self) -> SubjectAltNames:
        """The SANs kubeadm puts on this node's apiserver certificate (init documents only)."""
        if self.service_cidr is None or self.dns_domain is None:
            raise DocumentParseError("only the first control-plane document carries the cluster's SANs")
        return apiserver_subject_alt_names(
            service_cidrs=[self.service_cidr], dns_domain=self.dns_domain, extra=self.cert_sans
        )

    def __repr__(self) -> str:
        return f"NodeDocument(role={self.role.value}, cluster={self.cluster_name}, {self.kubernetes_version})"


def _load_document(text_or_custom_data: str) -> dict[str, Any]:
    text = text_or_custom_data
    if not text.startswith(CLOUD_CONFIG_HEADER):
        text = decode_custom_data(text.strip())
    if not text.startswith(CLOUD_CONFIG_HEADER):
        raise DocumentParseError("not a #cloud-config document")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DocumentParseError("cloud-config is not valid YAML") from error
    if not isinstance(document, dict) or not isinstance(document.get("write_files"), list):
        raise DocumentParseError("cloud-config has no write_files list")
    return document


def _files(document: dict[str, Any]) -> dict[str, str]:
    files: dict[str, str] = {}
    for entry in document["write_files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise DocumentParseError("write_files entry without a path")
        files[entry["path"]] = str(entry.get("content", ""))
    return files


def _env(content: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in content.splitlines():
        key, separator, raw = line.partition("=")
        if separator:
            parts = shlex.split(raw)
            values[key] = parts[0] if parts else ""
    return values


def _kubelet_labels(registration: dict[str, Any]) -> dict[str, str]:
    for argument in registration.get("kubeletExtraArgs", []):
        if argument.get("name") == "node-labels":
            pairs = (item.partition("=") for item in str(argument.get("value", "")).split(",") if item)
            return {key: value for key, _, value in pairs}
    return {}


def _seconds(duration: object) -> timedelta:
    """A duration in the whole-seconds form the renderer writes (``86400s``)."""
    text = str(duration)
    if not (text.endswith("s") and text[:-1].isdigit()):
        raise DocumentParseError(f"bootstrap token ttl {text!r} is not a whole number of seconds")
    return timedelta(seconds=int(text[:-1]))


def _pki(files: dict[str, str]) -> ClusterPKI | None:
    prefix = PKI_STAGING_DIR + "/"
    staged = {
        path.removeprefix(prefix): content.encode()
        for path, content in files.items()
        if path.startswith(prefix)
    }
    if not staged:
        return None
    try:
        return ClusterPKI.from_pem_files(staged)
    except PKIError as error:
        raise DocumentParseError(f"document PKI is unusable: {error}") from error


def parse_node_document(text_or_custom_data: str) -> NodeDocument:
    """Parse what :func:`~azk_operator.bootstrap.cloudinit.render_node_document` made (or its customData)."""
    try:
        files = _files(_load_document(text_or_custom_data))
        env = _env(files[ENV_PATH])
        loaded = yaml.safe_load_all(files[KUBEADM_CONFIG_PATH])
        kubeadm = tuple(doc for doc in loaded if isinstance(doc, dict))
        by_kind = {doc.get("kind"): doc for doc in kubeadm}
        role = NodeRole(env["AZK_NODE_ROLE"])
        if role is NodeRole.FIRST_CONTROL_PLANE:
            init, cluster = by_kind["InitConfiguration"], by_kind["ClusterConfiguration"]
            networking = cluster["networking"]
            return NodeDocument(
                role=role,
                cluster_name=env["AZK_CLUSTER_NAME"],
                kubernetes_version=cluster["kubernetesVersion"],
                control_plane_endpoint=cluster["controlPlaneEndpoint"],
                node_labels=_kubelet_labels(init["nodeRegistration"]),
                token=BootstrapToken.parse(init["bootstrapTokens"][0]["token"]),
                token_ttl=_seconds(init["bootstrapTokens"][0].get("ttl")),
                pki=_pki(files),
                cert_sans=tuple(cluster["apiServer"].get("certSANs", ())),
                service_cidr=networking["serviceSubnet"],
                pod_cidr=networking["podSubnet"],
                dns_domain=networking["dnsDomain"],
                kubeadm_documents=kubeadm,
            )
        join = by_kind["JoinConfiguration"]
        discovery = join["discovery"]["bootstrapToken"]
        return NodeDocument(
            role=role,
            cluster_name=env["AZK_CLUSTER_NAME"],
            kubernetes_version=env["KUBERNETES_VERSION"],
            control_plane_endpoint=discovery["apiServerEndpoint"],
            node_labels=_kubelet_labels(join["nodeRegistration"]),
            token=BootstrapToken.parse(discovery["token"]),
            pki=_pki(files),
            kubeadm_documents=kubeadm,
        )
    except DocumentParseError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, yaml.YAMLError) as error:
        raise DocumentParseError(f"document is not an azk node document ({type(error).__name__})") from error
