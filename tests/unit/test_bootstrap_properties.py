"""Property tests: names, label keys and SAN lists behave for every input, not just the examples."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from azk_operator.bootstrap import PKIError, SubjectAltNames, apiserver_subject_alt_names, inspect_pem
from azk_operator.bootstrap.names import is_cluster_name, label_key_problem
from azk_operator.bootstrap.sans import is_dns_name

labels = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
dns_names = st.lists(labels, min_size=1, max_size=4).map(".".join)
ips = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6))
sans = st.lists(st.one_of(dns_names, ips.map(str)), max_size=12)


@given(st.text(max_size=50))
def test_cluster_names_are_short_dns_labels(value: str) -> None:
    if is_cluster_name(value):
        assert value[0].isalpha() and len(value) <= 40 and is_dns_name(value) and "." not in value


@given(dns_names)
def test_generated_dns_names_are_accepted(name: str) -> None:
    assert is_dns_name(name) == (len(name) <= 253)


@given(sans)
def test_san_lists_are_classified_and_deduplicated_in_order(values: list[str]) -> None:
    result = SubjectAltNames.from_strings(values + values)
    assert len(set(result.dns_names)) == len(result.dns_names)
    assert len(set(result.ip_addresses)) == len(result.ip_addresses)
    expected_ips = list(dict.fromkeys(ipaddress.ip_address(v) for v in values if _is_ip(v)))
    assert list(result.ip_addresses) == expected_ips
    assert list(result.dns_names) == list(dict.fromkeys(v for v in values if not _is_ip(v)))


@given(sans, st.sampled_from(["10.96.0.0/12", "172.16.0.0/16", "fd00:10:96::/108"]))
def test_apiserver_sans_always_hold_the_in_cluster_names_and_every_extra(extra: list[str], cidr: str) -> None:
    result = apiserver_subject_alt_names(service_cidrs=[cidr], dns_domain="cluster.local", extra=extra)
    assert result.dns_names[:4] == (
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    )
    assert result.ip_addresses[0] == ipaddress.ip_network(cidr).network_address + 1
    assert set(SubjectAltNames.from_strings(extra).as_strings()) <= set(result.as_strings())
    # The SAN list survives a trip through a real certificate extension.
    assert result.to_extension().get_values_for_type(x509.IPAddress) == list(result.ip_addresses)


@given(st.text(min_size=1, max_size=30).filter(lambda s: not _is_ip(s.strip())))
def test_strings_that_are_not_names_are_refused(value: str) -> None:
    if not is_dns_name(value.strip().lower().rstrip(".")):
        with pytest.raises(PKIError):
            SubjectAltNames.from_strings([value])


@given(st.sampled_from(["kubernetes.io", "k8s.io", "node-role.kubernetes.io", "x.k8s.io"]), labels)
def test_kubelet_restricted_label_namespaces_are_refused(prefix: str, name: str) -> None:
    assert label_key_problem(f"{prefix}/{name}") is not None
    assert label_key_problem(f"node.kubernetes.io/{name}") is None
    assert label_key_problem(f"azk.io/{name}") is None


def test_inspecting_a_pem_certificate_reports_expiry_and_sans() -> None:
    from azk_operator.bootstrap import (
        ControlPlaneNode,
        generate_cluster_pki,
        issue_control_plane_certificates,
    )

    pki = generate_cluster_pki()
    api_sans = apiserver_subject_alt_names(
        service_cidrs=["10.96.0.0/12"], dns_domain="c.local", extra=["a.b"]
    )
    leaf = issue_control_plane_certificates(pki, ControlPlaneNode.of("cp-0"), api_sans).apiserver
    info = inspect_pem(leaf.cert_pem)
    assert info.not_after == leaf.cert.not_valid_after_utc
    assert "a.b" in info.sans.dns_names and "cp-0" in info.sans.dns_names
    assert info.issuer == "CN=kubernetes"
    with pytest.raises(PKIError):
        inspect_pem(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
