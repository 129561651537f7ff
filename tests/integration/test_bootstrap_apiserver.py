"""A real kube-apiserver started with the PKI azk generates accepts azk's credentials and no others."""

from __future__ import annotations

import json
import random
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from azk_operator.bootstrap import (
    BootstrapToken,
    CertKeyPair,
    ClusterPKI,
    ControlPlaneNode,
    SubjectAltNames,
    apiserver_subject_alt_names,
    bootstrap_token_secret,
    client_certificate_kubeconfig,
    generate_cluster_pki,
    inspect_endpoint,
    issue_admin_certificate,
    issue_control_plane_certificates,
    load_control_plane_certificates,
    write_cluster_pki,
    write_kubeconfig,
)
from azk_operator.bootstrap.files import write_secret_file
from azk_operator.testenv import ControlPlane, SuppliedPKI


def _random_loopback() -> str:
    while True:
        address = f"127.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
        if address != "127.0.0.1":
            return address


class Cluster:
    """The control plane plus the azk-generated PKI it runs with."""

    def __init__(
        self, plane: ControlPlane, pki: ClusterPKI, state: Path, serving_not_after: datetime
    ) -> None:
        self.plane, self.pki, self.state, self.serving_not_after = plane, pki, state, serving_not_after

    def kubeconfig_for(self, name: str, kubeconfig: str) -> Path:
        path = self.state / f"{name}.conf"
        write_kubeconfig(path, kubeconfig)
        return path

    def kubectl(self, kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "--request-timeout=20s", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    bind = _random_loopback()
    state = tmp_path_factory.mktemp("azk-state")
    pki = generate_cluster_pki()
    sans = apiserver_subject_alt_names(
        service_cidrs=["10.96.0.0/12"], dns_domain="cluster.local", extra=[bind]
    )
    leaves = issue_control_plane_certificates(pki, ControlPlaneNode.of("cp-0", [bind]), sans)
    write_cluster_pki(state, pki, leaves)
    supplied = SuppliedPKI.of_cluster(pki, leaves)
    plane = ControlPlane(
        work_dir=tmp_path_factory.mktemp("bootstrap-control-plane"),
        bind=bind,
        pki=supplied,
        extra_apiserver_args=["--enable-bootstrap-token-auth"],
    )
    with plane:
        yield Cluster(plane, pki, state, leaves.apiserver.cert.not_valid_after_utc)


def _admin_kubeconfig(cluster: Cluster, pki: ClusterPKI, *, super_admin: bool) -> str:
    admin = issue_admin_certificate(pki, super_admin=super_admin)
    return client_certificate_kubeconfig(
        cluster_name="demo",
        server=cluster.plane.server,
        ca_cert_pem=cluster.pki.ca.cert_pem,
        client=admin,
        user=admin.cert.subject.rfc4514_string(),
    )


def test_super_admin_kubeconfig_works_through_kubectl_on_a_bare_apiserver(cluster: Cluster) -> None:
    path = cluster.kubeconfig_for("super-admin", _admin_kubeconfig(cluster, cluster.pki, super_admin=True))
    result = cluster.kubectl(path, "get", "ns", "kube-system", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "namespace/kube-system"


def test_admin_kubeconfig_has_rights_once_kubeadms_binding_exists(cluster: Cluster) -> None:
    path = cluster.kubeconfig_for("admin", _admin_kubeconfig(cluster, cluster.pki, super_admin=False))
    before = cluster.kubectl(path, "get", "ns")
    assert before.returncode != 0 and "forbidden" in before.stderr.lower()
    # What `kubeadm init` creates for the kubeadm:cluster-admins group.
    binding = cluster.kubectl(
        cluster.plane.kubeconfig,
        "create",
        "clusterrolebinding",
        "kubeadm:cluster-admins",
        "--clusterrole=cluster-admin",
        "--group=kubeadm:cluster-admins",
    )
    assert binding.returncode == 0, binding.stderr
    after = cluster.kubectl(path, "get", "ns", "-o", "name")
    assert after.returncode == 0, after.stderr
    assert "namespace/default" in after.stdout.split()


def test_client_certificate_from_another_ca_is_rejected(cluster: Cluster) -> None:
    stranger = generate_cluster_pki()
    foreign = client_certificate_kubeconfig(
        cluster_name="demo",
        server=cluster.plane.server,
        ca_cert_pem=cluster.pki.ca.cert_pem,
        client=issue_admin_certificate(stranger, super_admin=True),
        user="stranger",
    )
    result = cluster.kubectl(cluster.kubeconfig_for("stranger", foreign), "get", "ns")
    assert result.returncode != 0
    assert "unauthorized" in result.stderr.lower() or "must be logged in" in result.stderr.lower()


def test_generated_bootstrap_token_authenticates_as_system_bootstrap(cluster: Cluster) -> None:
    token = BootstrapToken.generate()
    manifest = cluster.state / "bootstrap-token-secret.yaml"
    write_secret_file(
        manifest,
        yaml.safe_dump(bootstrap_token_secret(token, datetime.now(UTC) + timedelta(hours=1))).encode(),
    )
    applied = cluster.kubectl(cluster.plane.kubeconfig, "apply", "-f", str(manifest))
    assert applied.returncode == 0, applied.stderr

    # The token goes into a 0600 kubeconfig, never onto the kubectl command line.
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "demo",
                "cluster": {
                    "server": cluster.plane.server,
                    "certificate-authority": str(cluster.state / "pki" / "ca.crt"),
                },
            }
        ],
        "users": [{"name": "node", "user": {"token": token.value}}],
        "contexts": [{"name": "node", "context": {"cluster": "demo", "user": "node"}}],
        "current-context": "node",
    }
    path = cluster.kubeconfig_for("bootstrap-token", yaml.safe_dump(kubeconfig))
    whoami = cluster.kubectl(path, "auth", "whoami", "-o", "json")
    assert whoami.returncode == 0, whoami.stderr
    user = json.loads(whoami.stdout)["status"]["userInfo"]
    assert user["username"] == f"system:bootstrap:{token.token_id}"
    assert {"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token"} <= set(user["groups"])

    wrong = BootstrapToken(token.token_id, "0" * 16)
    kubeconfig["users"] = [{"name": "node", "user": {"token": wrong.value}}]
    rejected = cluster.kubectl(
        cluster.kubeconfig_for("wrong-token", yaml.safe_dump(kubeconfig)), "auth", "whoami"
    )
    assert rejected.returncode != 0


def test_inspector_reads_the_live_serving_certificate(cluster: Cluster) -> None:
    host, port = cluster.plane.server.removeprefix("https://").rsplit(":", 1)
    info = inspect_endpoint(host, int(port), ca_file=cluster.state / "pki" / "ca.crt")
    assert info.not_after == cluster.serving_not_after
    assert host in {str(ip) for ip in info.sans.ip_addresses}
    assert "kubernetes.default.svc.cluster.local" in info.sans.dns_names
    unverified = inspect_endpoint(host, int(port))
    assert unverified.serial_number == info.serial_number


def test_no_private_key_was_written_outside_a_0600_file(cluster: Cluster) -> None:
    for path in cluster.state.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if b"PRIVATE KEY" in content or b"client-key-data" in content or b"token:" in content:
                assert path.stat().st_mode & 0o777 == 0o600, path


def _etcd_health(cluster: Cluster, client: CertKeyPair | None, tmp_path: Path) -> str:
    """GET etcd's /health, verifying it with azk's etcd CA and presenting `client` (if any)."""
    context = ssl.create_default_context(cadata=cluster.pki.etcd_ca.cert_pem.decode())
    if client is not None:
        cert, key = tmp_path / "client.crt", tmp_path / "client.key"
        cert.write_bytes(client.cert_pem)
        write_secret_file(key, client.key_pem)
        context.load_cert_chain(cert, key)
    with urllib.request.urlopen(f"{cluster.plane.etcd_server}/health", context=context, timeout=10) as reply:  # noqa: S310
        return str(json.load(reply)["health"])


def test_etcd_serves_azks_certificate_and_admits_only_its_clients(cluster: Cluster, tmp_path: Path) -> None:
    leaves = load_control_plane_certificates(cluster.state)
    assert leaves is not None
    # The etcd server certificate azk issued verifies for the node's address; its healthcheck client gets in.
    assert _etcd_health(cluster, leaves.etcd_healthcheck_client, tmp_path) == "true"
    stranger = issue_control_plane_certificates(
        generate_cluster_pki(), ControlPlaneNode.of("cp-0", [cluster.plane.bind]), SubjectAltNames()
    )
    for client in (None, stranger.etcd_healthcheck_client, leaves.apiserver_kubelet_client):
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            _etcd_health(cluster, client, tmp_path)
