"""Cloud-init node documents: valid for cloud-init and shellcheck, small enough, tight on secrets."""

from __future__ import annotations

import base64
import gzip
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic
import pytest
import yaml

from azk_operator.bootstrap import (
    CUSTOM_DATA_LIMIT,
    BootstrapSecrets,
    BootstrapToken,
    ClusterBootstrapConfig,
    CustomDataTooLargeError,
    DocumentParseError,
    KeyAlgorithm,
    NodeBootstrapConfig,
    NodeRole,
    PKIOptions,
    Taint,
    decode_custom_data,
    discovery_ca_hash,
    encode_custom_data,
    generate_cluster_pki,
    parse_node_document,
    render_node_custom_data,
    render_node_document,
)
from azk_operator.bootstrap.keys import key_algorithm_of
from azk_operator.testenv import KubeAssetsMissing, find_kubeadm
from azk_operator.testenv.assets import ASSET_ENV_VARS

SHELLCHECK = Path(sys.executable).parent / "shellcheck"
CLUSTER = ClusterBootstrapConfig(
    cluster_name="demo",
    kubernetes_version="v1.31.4",
    control_plane_endpoint="10.0.0.4:6443",
    apiserver_cert_sans=("demo.westeurope.cloudapp.azure.com", "20.1.2.3"),
)
LABELS = {"azk.io/pool": "system", "node.kubernetes.io/exclude-from-external-load-balancers": "true"}


@pytest.fixture(scope="module", params=list(KeyAlgorithm))
def secrets(request: pytest.FixtureRequest) -> BootstrapSecrets:
    pki = generate_cluster_pki(PKIOptions(key_algorithm=request.param))
    return BootstrapSecrets(pki, BootstrapToken.generate(), datetime.now(UTC) + timedelta(hours=24))


def _render(secrets: BootstrapSecrets, role: NodeRole, **node: Any) -> str:
    return render_node_document(CLUSTER, NodeBootstrapConfig(role=role, node_labels=LABELS, **node), secrets)


def _files(document: str) -> dict[str, dict[str, str]]:
    return {entry["path"]: entry for entry in yaml.safe_load(document)["write_files"]}


@pytest.mark.parametrize("role", list(NodeRole))
def test_cloud_init_schema_accepts_every_document(
    secrets: BootstrapSecrets, role: NodeRole, tmp_path: Path
) -> None:
    path = tmp_path / "user-data"
    path.write_text(
        _render(secrets, role, taints=(Taint(key="azk.io/dedicated", value="x", effect="NoSchedule"),))
    )
    result = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(path)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        annotated = subprocess.run(
            ["cloud-init", "schema", "--config-file", str(path), "--annotate"],
            capture_output=True,
            text=True,
            check=False,
        )
        pytest.fail(f"{result.stdout}{result.stderr}\n{annotated.stdout}{annotated.stderr}")
    assert "Valid cloud-config" in result.stdout


def test_cloud_init_schema_check_is_a_real_validator(tmp_path: Path) -> None:
    path = tmp_path / "user-data"
    path.write_text("#cloud-config\nwrite_files:\n- path: 3\n  permissions: 600\n")
    result = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(path)], capture_output=True, check=False
    )
    assert result.returncode != 0


@pytest.mark.parametrize("role", list(NodeRole))
def test_shellcheck_accepts_the_embedded_script(
    secrets: BootstrapSecrets, role: NodeRole, tmp_path: Path
) -> None:
    files = _files(_render(secrets, role))
    script = files["/usr/local/sbin/azk-bootstrap"]["content"]
    env = files["/etc/azk/bootstrap.env"]["content"]
    alone = tmp_path / "azk-bootstrap"
    alone.write_text(script)
    # With the env file inlined, shellcheck also sees that every value it sets is used and none is missing.
    combined = tmp_path / "azk-bootstrap-with-env"
    combined.write_text(script.replace("set -Eeuo pipefail\n", "set -Eeuo pipefail\n" + env, 1))
    for target in (alone, combined):
        result = subprocess.run(
            [str(SHELLCHECK), "--shell", "bash", "--severity", "style", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("role", list(NodeRole))
def test_secrets_are_only_in_0600_files_and_never_on_a_command_line(
    secrets: BootstrapSecrets, role: NodeRole
) -> None:
    document = _render(secrets, role)
    token = secrets.token.value
    for path, entry in _files(document).items():
        content = entry["content"]
        if "PRIVATE KEY" in content or token in content:
            assert entry["permissions"] == "0600", path
    runcmd = yaml.safe_dump(yaml.safe_load(document)["runcmd"])
    assert token not in runcmd and "PRIVATE KEY" not in runcmd
    script = _files(document)["/usr/local/sbin/azk-bootstrap"]["content"]
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in code if re.search(r"set\s+-\w*x|xtrace|bash\s+-x", line)]
    assert token not in _files(document)["/etc/azk/bootstrap.env"]["content"]


def test_only_control_plane_documents_carry_the_ca_material(secrets: BootstrapSecrets) -> None:
    worker = _render(secrets, NodeRole.WORKER)
    assert "PRIVATE KEY" not in worker
    for role in (NodeRole.FIRST_CONTROL_PLANE, NodeRole.CONTROL_PLANE):
        staged = {path for path in _files(_render(secrets, role)) if path.startswith("/etc/azk/pki/")}
        assert {p.removeprefix("/etc/azk/pki/") for p in staged} == {
            "ca.crt",
            "ca.key",
            "sa.key",
            "sa.pub",
            "front-proxy-ca.crt",
            "front-proxy-ca.key",
            "etcd/ca.crt",
            "etcd/ca.key",
        }


def _kubeadm(document: str) -> dict[str, dict[str, Any]]:
    content = _files(document)["/etc/azk/kubeadm.yaml"]["content"]
    return {doc["kind"]: doc for doc in yaml.safe_load_all(content)}


def test_init_document_configures_kubeadm_v1beta4_for_the_cluster(secrets: BootstrapSecrets) -> None:
    kubeadm = _kubeadm(_render(secrets, NodeRole.FIRST_CONTROL_PLANE))
    init, cluster = kubeadm["InitConfiguration"], kubeadm["ClusterConfiguration"]
    assert {doc["apiVersion"] for doc in kubeadm.values()} == {"kubeadm.k8s.io/v1beta4"}
    assert cluster["kubernetesVersion"] == "v1.31.4"
    assert cluster["controlPlaneEndpoint"] == "10.0.0.4:6443"
    assert cluster["networking"] == {
        "serviceSubnet": "10.96.0.0/12",
        "podSubnet": "10.244.0.0/16",
        "dnsDomain": "cluster.local",
    }
    assert set(cluster["apiServer"]["certSANs"]) == {
        "10.0.0.4",
        "20.1.2.3",
        "demo.westeurope.cloudapp.azure.com",
    }
    assert cluster["encryptionAlgorithm"] == key_algorithm_of(secrets.pki.ca.key).value
    args = {arg["name"]: arg["value"] for arg in init["nodeRegistration"]["kubeletExtraArgs"]}
    assert args["cloud-provider"] == "external"
    assert args["node-labels"] == ",".join(f"{k}={v}" for k, v in sorted(LABELS.items()))
    assert "taints" not in init["nodeRegistration"]  # kubeadm's default control-plane taint applies
    token = init["bootstrapTokens"][0]
    assert token["token"] == secrets.token.value
    assert token["groups"] == ["system:bootstrappers:kubeadm:default-node-token"]
    # A lifetime (kubeadm refuses `expires`, see below), the same on every render.
    assert "expires" not in token
    assert token["ttl"] == "86400s"
    assert _render(secrets, NodeRole.FIRST_CONTROL_PLANE) == _render(secrets, NodeRole.FIRST_CONTROL_PLANE)


@pytest.fixture(scope="module")
def kubeadm() -> Path:
    try:
        return find_kubeadm()
    except KubeAssetsMissing as missing:
        if any(os.environ.get(var) for var in ASSET_ENV_VARS):
            pytest.skip(f"a user-supplied asset folder without kubeadm: {missing}")
        raise


@pytest.fixture(scope="module")
def kubeadm_cluster(kubeadm: Path) -> ClusterBootstrapConfig:
    """CLUSTER at kubeadm's own version: a node installs the kubeadm of its cluster's version."""
    version = subprocess.run(
        [str(kubeadm), "version", "-o", "short"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return ClusterBootstrapConfig.model_validate({**CLUSTER.model_dump(), "kubernetes_version": version})


def _kubeadm_validate(kubeadm: Path, config: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "kubeadm.yaml"
    path.write_text(config)
    path.chmod(0o600)
    command = [str(kubeadm), "config", "validate", "--config", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _kubeadm_config(
    cluster: ClusterBootstrapConfig, node: NodeBootstrapConfig, secrets: BootstrapSecrets
) -> str:
    return _files(render_node_document(cluster, node, secrets))["/etc/azk/kubeadm.yaml"]["content"]


@pytest.mark.parametrize("role", list(NodeRole))
def test_kubeadm_accepts_every_kubeadm_config(
    secrets: BootstrapSecrets,
    role: NodeRole,
    kubeadm: Path,
    kubeadm_cluster: ClusterBootstrapConfig,
    tmp_path: Path,
) -> None:
    taints = (Taint(key="azk.io/dedicated", value="x", effect="NoSchedule"),)
    node = NodeBootstrapConfig(role=role, node_labels=LABELS, taints=taints)
    result = _kubeadm_validate(kubeadm, _kubeadm_config(kubeadm_cluster, node, secrets), tmp_path)
    assert result.returncode == 0, result.stderr


def test_kubeadm_validation_is_a_real_validator(
    secrets: BootstrapSecrets, kubeadm: Path, kubeadm_cluster: ClusterBootstrapConfig, tmp_path: Path
) -> None:
    """The first form azk wrote: an absolute `expires`, which kubeadm's defaulted `ttl` conflicts with."""
    node = NodeBootstrapConfig(role=NodeRole.FIRST_CONTROL_PLANE)
    documents = list(yaml.safe_load_all(_kubeadm_config(kubeadm_cluster, node, secrets)))
    token = documents[0]["bootstrapTokens"][0]
    del token["ttl"]
    token["expires"] = "2030-01-01T00:00:00Z"
    result = _kubeadm_validate(kubeadm, yaml.safe_dump_all(documents), tmp_path)
    assert result.returncode != 0 and "mutually exclusive" in result.stderr


def test_join_documents_pin_the_ca_and_mark_control_planes(secrets: BootstrapSecrets) -> None:
    for role in (NodeRole.CONTROL_PLANE, NodeRole.WORKER):
        join = _kubeadm(_render(secrets, role, taints=()))["JoinConfiguration"]
        discovery = join["discovery"]["bootstrapToken"]
        assert discovery["apiServerEndpoint"] == "10.0.0.4:6443"
        assert discovery["caCertHashes"] == [discovery_ca_hash(secrets.pki.ca.cert)]
        assert discovery["token"] == secrets.token.value
        assert ("controlPlane" in join) is (role is NodeRole.CONTROL_PLANE)
        assert join["nodeRegistration"]["taints"] == []


def test_script_pins_packages_and_retries_with_reset(secrets: BootstrapSecrets) -> None:
    files = _files(_render(secrets, NodeRole.WORKER))
    env = files["/etc/azk/bootstrap.env"]["content"]
    assert "KUBERNETES_PACKAGE_VERSION='1.31.4-1.1'\n" in env
    assert "KUBERNETES_MINOR='v1.31'\n" in env
    assert "KUBERNETES_PACKAGE_REPOSITORY='https://pkgs.k8s.io/core:/stable:'\n" in env
    script = files["/usr/local/sbin/azk-bootstrap"]["content"]
    for needle in (
        "kubeadm reset -f",
        "KUBEADM_MAX_ATTEMPTS",
        "swapoff -a",
        "modprobe br_netfilter",
        "/var/lib/azk/bootstrap-complete",
        "redact_tokens",
        '"kubelet=$KUBERNETES_PACKAGE_VERSION"',
    ):
        assert needle in script
    assert files["/etc/modules-load.d/azk-kubernetes.conf"]["content"] == "overlay\nbr_netfilter\n"
    assert "net.ipv4.ip_forward = 1" in files["/etc/sysctl.d/90-azk-kubernetes.conf"]["content"]


@pytest.mark.parametrize("role", list(NodeRole))
def test_every_document_fits_azure_custom_data(secrets: BootstrapSecrets, role: NodeRole) -> None:
    node = NodeBootstrapConfig(role=role, node_labels=LABELS)
    custom_data = render_node_custom_data(CLUSTER, node, secrets)
    assert len(custom_data) <= CUSTOM_DATA_LIMIT
    assert decode_custom_data(custom_data) == render_node_document(CLUSTER, node, secrets)


def test_large_documents_are_gzipped_and_oversized_ones_refused() -> None:
    big = "#cloud-config\n" + "# padding line that compresses well\n" * 3000
    encoded = encode_custom_data(big)
    assert base64.b64decode(encoded)[:2] == b"\x1f\x8b"
    assert len(encoded) <= CUSTOM_DATA_LIMIT
    assert decode_custom_data(encoded) == big
    incompressible = "#cloud-config\n# " + base64.b64encode(os.urandom(70000)).decode()
    with pytest.raises(CustomDataTooLargeError):
        encode_custom_data(incompressible)
    assert gzip.decompress(base64.b64decode(encoded)).decode() == big


@pytest.mark.parametrize("as_custom_data", [False, True])
def test_parser_recovers_pki_and_kubeadm_values_from_a_control_plane_document(
    secrets: BootstrapSecrets, as_custom_data: bool
) -> None:
    node = NodeBootstrapConfig(role=NodeRole.FIRST_CONTROL_PLANE, node_labels=LABELS)
    rendered = (render_node_custom_data if as_custom_data else render_node_document)(CLUSTER, node, secrets)
    parsed = parse_node_document(rendered)
    assert parsed.pki is not None
    assert parsed.pki.ca.cert == secrets.pki.ca.cert
    assert parsed.pki.front_proxy_ca.key_pem == secrets.pki.front_proxy_ca.key_pem
    assert parsed.pki.service_account_key_pem == secrets.pki.service_account_key_pem
    assert parsed.kubernetes_version == "v1.31.4"
    assert parsed.node_labels == LABELS
    assert parsed.token == secrets.token
    assert parsed.token_ttl is not None
    assert parsed.token_ttl == timedelta(hours=24)
    assert parsed.apiserver_sans() == CLUSTER.apiserver_sans()
    assert "BEGIN" not in repr(parsed) and secrets.token.secret not in repr(parsed)

    joined = parse_node_document(
        render_node_document(CLUSTER, node.model_copy(update={"role": NodeRole.WORKER}), secrets)
    )
    assert joined.pki is None and joined.kubernetes_version == "v1.31.4"
    with pytest.raises(DocumentParseError):
        joined.apiserver_sans()


@pytest.mark.parametrize(
    "garbage", ["", "#cloud-config\nruncmd: []\n", "not base64 !", base64.b64encode(b"\xff\xfe").decode()]
)
def test_parser_rejects_foreign_documents(garbage: str) -> None:
    with pytest.raises(DocumentParseError):
        parse_node_document(garbage)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cluster_name", "Demo"),
        ("kubernetes_version", "1.31"),
        ("control_plane_endpoint", "10.0.0.4"),
        ("service_cidr", "10.96.0.1/12"),
        ("apiserver_cert_sans", ("bad name!",)),
        ("package_repository", "http://example.invalid"),
    ],
)
def test_bad_cluster_input_is_rejected_naming_the_field(field: str, value: object) -> None:
    values = CLUSTER.model_dump() | {field: value}
    with pytest.raises(pydantic.ValidationError, match=field):
        ClusterBootstrapConfig(**values)


def test_labels_a_kubelet_may_not_set_are_rejected_before_any_vm_boots() -> None:
    with pytest.raises(pydantic.ValidationError, match=r"node-role\.kubernetes\.io"):
        NodeBootstrapConfig(role=NodeRole.WORKER, node_labels={"node-role.kubernetes.io/worker": ""})
