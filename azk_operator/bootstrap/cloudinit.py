"""Cloud-init documents (``#cloud-config``) that turn an Azure VM into a node of an azk cluster.

Secrets (CA keys, the service-account key, the bootstrap token inside the kubeadm config) only appear as
``write_files`` entries with permissions 0600; the boot script reads them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from azk_operator.bootstrap.config import ClusterBootstrapConfig, NodeBootstrapConfig, NodeRole
from azk_operator.bootstrap.customdata import encode_custom_data
from azk_operator.bootstrap.keys import key_algorithm_of
from azk_operator.bootstrap.kubeadm_config import INIT_TOKEN_TTL, init_configuration, join_configuration
from azk_operator.bootstrap.node_script import (
    ENV_PATH,
    KUBEADM_CONFIG_PATH,
    NODE_BOOTSTRAP_SCRIPT,
    PKI_STAGING_DIR,
    SCRIPT_PATH,
)
from azk_operator.bootstrap.pki import ClusterPKI
from azk_operator.bootstrap.tokens import BootstrapToken, discovery_ca_hash

CLOUD_CONFIG_HEADER = "#cloud-config\n"
KERNEL_MODULES_PATH = "/etc/modules-load.d/azk-kubernetes.conf"
SYSCTL_PATH = "/etc/sysctl.d/90-azk-kubernetes.conf"
KERNEL_MODULES = ("overlay", "br_netfilter")
SYSCTLS = {
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "net.ipv4.ip_forward": "1",
}


@dataclass(frozen=True, repr=False)
class BootstrapSecrets:
    """The secret inputs of a node document: the cluster PKI and the token nodes join with."""

    pki: ClusterPKI
    token: BootstrapToken
    token_expires: datetime

    def __repr__(self) -> str:
        return f"BootstrapSecrets({self.token})"


class _Dumper(yaml.SafeDumper):
    """Literal blocks for multi-line strings, so PEM files and the script stay readable in the document."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _file(path: str, content: str, permissions: str) -> dict[str, str]:
    return {"path": path, "owner": "root:root", "permissions": permissions, "content": content}


def _env_file(cluster: ClusterBootstrapConfig, node: NodeBootstrapConfig) -> str:
    values = {
        "AZK_CLUSTER_NAME": cluster.cluster_name,
        "AZK_NODE_ROLE": node.role.value,
        "KUBERNETES_VERSION": cluster.version_tag,
        "KUBERNETES_MINOR": cluster.minor_tag,
        "KUBERNETES_PACKAGE_VERSION": cluster.package_version,
        "KUBERNETES_PACKAGE_REPOSITORY": cluster.package_repository,
        "KUBEADM_ACTION": "init" if node.role is NodeRole.FIRST_CONTROL_PLANE else "join",
        "KUBEADM_MAX_ATTEMPTS": str(cluster.kubeadm_attempts),
    }
    # Always single-quoted: a bare value such as `join` reads like a command to shell linters and humans.
    return "".join(f"{key}='{_single_quoted(value)}'\n" for key, value in values.items())


def _single_quoted(value: str) -> str:
    return value.replace("'", "'\\''")


def _pki_files(pki: ClusterPKI) -> list[dict[str, str]]:
    # Staged outside /etc/kubernetes/pki because `kubeadm reset` empties that folder between attempts.
    return [
        _file(f"{PKI_STAGING_DIR}/{name}", data.decode(), "0600" if name.endswith(".key") else "0644")
        for name, data in pki.to_pem_files().items()
    ]


def _kubeadm_documents(
    cluster: ClusterBootstrapConfig, node: NodeBootstrapConfig, secrets: BootstrapSecrets
) -> list[dict[str, Any]]:
    if node.role is NodeRole.FIRST_CONTROL_PLANE:
        return init_configuration(
            cluster, node, secrets.token, INIT_TOKEN_TTL, key_algorithm_of(secrets.pki.ca.key)
        )
    return [join_configuration(cluster, node, secrets.token, discovery_ca_hash(secrets.pki.ca.cert))]


def render_node_document(
    cluster: ClusterBootstrapConfig, node: NodeBootstrapConfig, secrets: BootstrapSecrets
) -> str:
    """The ``#cloud-config`` document for one node of ``cluster``.

    The first control-plane node runs ``kubeadm init`` with the pre-generated CAs and service-account
    keys; further control-plane nodes join with the same CA material (kubeadm issues their leaf
    certificates locally); workers only get the token and the CA hash that pins discovery.
    """
    write_files = [
        _file(KERNEL_MODULES_PATH, "".join(f"{module}\n" for module in KERNEL_MODULES), "0644"),
        _file(SYSCTL_PATH, "".join(f"{key} = {value}\n" for key, value in SYSCTLS.items()), "0644"),
        _file(ENV_PATH, _env_file(cluster, node), "0644"),
        _file(
            KUBEADM_CONFIG_PATH,
            yaml.safe_dump_all(_kubeadm_documents(cluster, node, secrets), sort_keys=False),
            "0600",
        ),
        _file(SCRIPT_PATH, NODE_BOOTSTRAP_SCRIPT, "0700"),
    ]
    if node.role.is_control_plane:
        write_files[2:2] = _pki_files(secrets.pki)
    document = {"write_files": write_files, "runcmd": [[SCRIPT_PATH]]}
    return CLOUD_CONFIG_HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000)


def render_node_custom_data(
    cluster: ClusterBootstrapConfig, node: NodeBootstrapConfig, secrets: BootstrapSecrets
) -> str:
    """:func:`render_node_document`, encoded as Azure customData (within its size limit)."""
    return encode_custom_data(render_node_document(cluster, node, secrets))
