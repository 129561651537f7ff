"""The cluster PKI: kubeadm's subjects and extensions, chains openssl accepts, and its on-disk form."""

from __future__ import annotations

import ipaddress
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from azk_operator.bootstrap import (
    ClusterPKI,
    ControlPlaneNode,
    KeyAlgorithm,
    PKIError,
    PKIOptions,
    apiserver_subject_alt_names,
    generate_cluster_pki,
    issue_admin_certificate,
    issue_control_plane_certificates,
    load_cluster_pki,
    load_control_plane_certificates,
    load_or_create_cluster_pki,
    write_cluster_pki,
)
from azk_operator.bootstrap.certs import CertKeyPair

NOW = datetime(2026, 1, 1, tzinfo=UTC)
NODE = ControlPlaneNode.of("cp-0", ["10.0.0.10"])
API_SANS = apiserver_subject_alt_names(
    service_cidrs=["10.96.0.0/12"],
    dns_domain="cluster.local",
    extra=["10.0.0.4", "20.1.2.3", "demo.westeurope.cloudapp.azure.com"],
)


@pytest.fixture(scope="module", params=list(KeyAlgorithm))
def bundle(request: pytest.FixtureRequest) -> tuple[ClusterPKI, dict[str, CertKeyPair], PKIOptions]:
    options = PKIOptions(key_algorithm=request.param)
    pki = generate_cluster_pki(options, now=NOW)
    leaves = issue_control_plane_certificates(pki, NODE, API_SANS, options, now=NOW).items()
    leaves["admin"] = issue_admin_certificate(pki, options=options, now=NOW)
    leaves["super_admin"] = issue_admin_certificate(pki, super_admin=True, options=options, now=NOW)
    return pki, leaves, options


ISSUER = {
    "apiserver": "ca",
    "apiserver_kubelet_client": "ca",
    "admin": "ca",
    "super_admin": "ca",
    "front_proxy_client": "front_proxy_ca",
    "apiserver_etcd_client": "etcd_ca",
    "etcd_server": "etcd_ca",
    "etcd_peer": "etcd_ca",
    "etcd_healthcheck_client": "etcd_ca",
}


def _subject(cert: x509.Certificate) -> tuple[str, list[str]]:
    common_name = str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    orgs = [str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return common_name, orgs


def test_cas_are_ten_year_cas_with_kubeadm_names(
    bundle: tuple[ClusterPKI, dict[str, CertKeyPair], PKIOptions],
) -> None:
    pki, _, options = bundle
    for pair, name in (
        (pki.ca, "kubernetes"),
        (pki.front_proxy_ca, "front-proxy-ca"),
        (pki.etcd_ca, "etcd-ca"),
    ):
        cert = pair.cert
        assert _subject(cert) == (name, [])
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.key_cert_sign and usage.digital_signature
        assert cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        assert cert.not_valid_after_utc - NOW == timedelta(days=3650)
        expected_type = (
            rsa.RSAPrivateKey
            if options.key_algorithm is KeyAlgorithm.RSA_2048
            else ec.EllipticCurvePrivateKey
        )
        assert isinstance(pair.key, expected_type)


def test_leaves_carry_kubeadm_subjects_usages_and_key_identifiers(
    bundle: tuple[ClusterPKI, dict[str, CertKeyPair], PKIOptions],
) -> None:
    pki, leaves, _ = bundle
    expected = {
        "apiserver": (("kube-apiserver", []), {ExtendedKeyUsageOID.SERVER_AUTH}),
        "apiserver_kubelet_client": (
            ("kube-apiserver-kubelet-client", ["kubeadm:cluster-admins"]),
            {ExtendedKeyUsageOID.CLIENT_AUTH},
        ),
        "front_proxy_client": (("front-proxy-client", []), {ExtendedKeyUsageOID.CLIENT_AUTH}),
        "apiserver_etcd_client": (("kube-apiserver-etcd-client", []), {ExtendedKeyUsageOID.CLIENT_AUTH}),
        "etcd_server": (("cp-0", []), {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}),
        "etcd_peer": (("cp-0", []), {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}),
        "etcd_healthcheck_client": (("kube-etcd-healthcheck-client", []), {ExtendedKeyUsageOID.CLIENT_AUTH}),
        "admin": (("kubernetes-admin", ["kubeadm:cluster-admins"]), {ExtendedKeyUsageOID.CLIENT_AUTH}),
        "super_admin": (("kubernetes-super-admin", ["system:masters"]), {ExtendedKeyUsageOID.CLIENT_AUTH}),
    }
    assert set(leaves) == set(expected)
    for name, pair in leaves.items():
        cert = pair.cert
        subject, usages = expected[name]
        assert _subject(cert) == subject, name
        assert set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == usages, name
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert not cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
        ca: CertKeyPair = getattr(pki, ISSUER[name])
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        assert aki == ski, name
        assert cert.issuer == ca.cert.subject
        assert cert.not_valid_after_utc - NOW == timedelta(days=365)


def test_apiserver_certificate_names_every_way_to_reach_the_api(
    bundle: tuple[ClusterPKI, dict[str, CertKeyPair], PKIOptions],
) -> None:
    _, leaves, _ = bundle
    sans = leaves["apiserver"].cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "demo.westeurope.cloudapp.azure.com",
        "cp-0",
    }
    assert set(sans.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address(ip) for ip in ("10.96.0.1", "10.0.0.4", "20.1.2.3", "10.0.0.10")
    }
    etcd = leaves["etcd_server"].cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(etcd.get_values_for_type(x509.DNSName)) == {"localhost", "cp-0"}
    assert {str(ip) for ip in etcd.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1", "10.0.0.10"}


def _openssl_verify(tmp_path: Path, ca: bytes, leaf: bytes) -> subprocess.CompletedProcess[str]:
    (tmp_path / "ca.pem").write_bytes(ca)
    (tmp_path / "leaf.pem").write_bytes(leaf)
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_openssl_accepts_every_leaf_against_its_ca_only(
    bundle: tuple[ClusterPKI, dict[str, CertKeyPair], PKIOptions], tmp_path: Path
) -> None:
    pki, leaves, _ = bundle
    for name, pair in leaves.items():
        own_ca: CertKeyPair = getattr(pki, ISSUER[name])
        accepted = _openssl_verify(tmp_path, own_ca.cert_pem, pair.cert_pem)
        assert accepted.returncode == 0, (name, accepted.stdout, accepted.stderr)
        other_ca = pki.front_proxy_ca if ISSUER[name] == "ca" else pki.ca
        rejected = _openssl_verify(tmp_path, other_ca.cert_pem, pair.cert_pem)
        assert rejected.returncode != 0, name


def test_short_validity_for_renewal_tests_and_leaves_never_outlive_their_ca() -> None:
    options = PKIOptions(ca_validity=timedelta(hours=2), cert_validity=timedelta(hours=5))
    pki = generate_cluster_pki(options, now=NOW)
    admin = issue_admin_certificate(pki, options=options, now=NOW + timedelta(hours=1))
    assert pki.ca.cert.not_valid_after_utc == NOW + timedelta(hours=2)
    assert admin.cert.not_valid_after_utc == pki.ca.cert.not_valid_after_utc
    with pytest.raises(PKIError):
        PKIOptions(cert_validity=timedelta(0))


def test_written_pki_has_kubeadm_layout_and_private_key_modes(tmp_path: Path) -> None:
    pki = generate_cluster_pki(PKIOptions(key_algorithm=KeyAlgorithm.ECDSA_P256))
    leaves = issue_control_plane_certificates(pki, NODE, API_SANS, PKIOptions(KeyAlgorithm.ECDSA_P256))
    old_umask = os.umask(0)  # the modes must come from the writer, not from a strict umask
    try:
        cert_dir = write_cluster_pki(tmp_path, pki, leaves)
    finally:
        os.umask(old_umask)
    assert cert_dir == tmp_path / "pki"
    for name in (
        "ca.crt",
        "ca.key",
        "sa.key",
        "sa.pub",
        "front-proxy-ca.crt",
        "front-proxy-ca.key",
        "etcd/ca.crt",
        "etcd/ca.key",
        "apiserver.crt",
        "apiserver.key",
        "etcd/server.key",
        "etcd/peer.crt",
        "etcd/healthcheck-client.key",
        "apiserver-etcd-client.crt",
        "apiserver-kubelet-client.key",
        "front-proxy-client.crt",
    ):
        assert (cert_dir / name).is_file(), name
    assert_no_private_key_outside_0600(tmp_path)
    assert stat.S_IMODE((cert_dir / "ca.crt").stat().st_mode) == 0o644
    assert load_control_plane_certificates(tmp_path) == leaves


def assert_no_private_key_outside_0600(root: Path) -> None:
    """Every file under ``root`` holding a private key is readable by its owner only."""
    for path in root.rglob("*"):
        if path.is_file() and b"PRIVATE KEY" in path.read_bytes():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_resume_loads_the_same_pki_and_never_makes_a_second_ca(tmp_path: Path) -> None:
    first = load_or_create_cluster_pki(tmp_path)
    again = load_or_create_cluster_pki(tmp_path)
    assert again.ca.cert == first.ca.cert
    assert again.service_account_public_pem == first.service_account_public_pem
    assert load_cluster_pki(tmp_path / "elsewhere") is None

    (tmp_path / "pki" / "etcd" / "ca.key").unlink()
    with pytest.raises(PKIError, match=r"etcd/ca\.key"):
        load_or_create_cluster_pki(tmp_path)


def test_loading_refuses_a_world_readable_key_and_a_mismatched_pair(tmp_path: Path) -> None:
    pki = generate_cluster_pki()
    write_cluster_pki(tmp_path, pki)
    key = tmp_path / "pki" / "sa.key"
    key.chmod(0o644)
    with pytest.raises(PKIError, match="mode 0600"):
        load_cluster_pki(tmp_path)
    key.chmod(0o600)

    files = pki.to_pem_files()
    files["ca.key"] = files["front-proxy-ca.key"]
    with pytest.raises(PKIError, match="does not match") as raised:
        ClusterPKI.from_pem_files(files)
    assert "PRIVATE KEY" not in str(raised.value)


def test_reprs_never_show_key_material() -> None:
    pki = generate_cluster_pki()
    text = repr(pki) + repr(pki.ca) + repr(issue_control_plane_certificates(pki, NODE, API_SANS))
    assert "PRIVATE" not in text and "BEGIN" not in text
