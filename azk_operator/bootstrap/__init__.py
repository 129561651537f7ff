"""Bootstrap artifacts of an azk cluster: PKI, kubeconfigs, bootstrap tokens and cloud-init documents.

Everything here is a pure function of its inputs (plus fresh randomness for keys and tokens), with no
Azure or Kubernetes calls, so the CLI and the operator produce identical artifacts.
"""

from azk_operator.bootstrap.certs import CertificateProfile, CertKeyPair, PKIOptions
from azk_operator.bootstrap.cloudinit import BootstrapSecrets, render_node_custom_data, render_node_document
from azk_operator.bootstrap.config import ClusterBootstrapConfig, NodeBootstrapConfig, NodeRole, Taint
from azk_operator.bootstrap.customdata import CUSTOM_DATA_LIMIT, decode_custom_data, encode_custom_data
from azk_operator.bootstrap.document import NodeDocument, parse_node_document
from azk_operator.bootstrap.errors import (
    BootstrapError,
    CustomDataTooLargeError,
    DocumentParseError,
    PKIError,
)
from azk_operator.bootstrap.inspection import CertificateInfo, inspect_endpoint, inspect_pem
from azk_operator.bootstrap.keys import KeyAlgorithm
from azk_operator.bootstrap.kubeconfig import (
    client_certificate_kubeconfig,
    super_admin_kubeconfig,
    write_kubeconfig,
)
from azk_operator.bootstrap.pki import (
    ClusterPKI,
    ControlPlaneCertificates,
    ControlPlaneNode,
    generate_cluster_pki,
    issue_admin_certificate,
    issue_control_plane_certificates,
    load_cluster_pki,
    load_control_plane_certificates,
    load_or_create_cluster_pki,
    write_cluster_pki,
)
from azk_operator.bootstrap.sans import SubjectAltNames, apiserver_subject_alt_names
from azk_operator.bootstrap.tokens import BootstrapToken, bootstrap_token_secret, discovery_ca_hash

__all__ = [
    "CUSTOM_DATA_LIMIT",
    "BootstrapError",
    "BootstrapSecrets",
    "BootstrapToken",
    "CertKeyPair",
    "CertificateInfo",
    "CertificateProfile",
    "ClusterBootstrapConfig",
    "ClusterPKI",
    "ControlPlaneCertificates",
    "ControlPlaneNode",
    "CustomDataTooLargeError",
    "DocumentParseError",
    "KeyAlgorithm",
    "NodeBootstrapConfig",
    "NodeDocument",
    "NodeRole",
    "PKIError",
    "PKIOptions",
    "SubjectAltNames",
    "Taint",
    "apiserver_subject_alt_names",
    "bootstrap_token_secret",
    "client_certificate_kubeconfig",
    "decode_custom_data",
    "discovery_ca_hash",
    "encode_custom_data",
    "generate_cluster_pki",
    "inspect_endpoint",
    "inspect_pem",
    "issue_admin_certificate",
    "issue_control_plane_certificates",
    "load_cluster_pki",
    "load_control_plane_certificates",
    "load_or_create_cluster_pki",
    "parse_node_document",
    "render_node_custom_data",
    "render_node_document",
    "super_admin_kubeconfig",
    "write_cluster_pki",
    "write_kubeconfig",
]
