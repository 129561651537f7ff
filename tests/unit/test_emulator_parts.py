"""The emulator's building blocks on their own: TLS material, merge patch, buckets, address pools,
latency profiles, operations, faults, tokens and the state file."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store

from azk_operator.emulator.engine import merge_patch
from azk_operator.emulator.faults import FaultRule, OperationFault
from azk_operator.emulator.identity import TokenIssuer
from azk_operator.emulator.ipam import AddressPools
from azk_operator.emulator.operations import OperationBook
from azk_operator.emulator.persistence import load_state, save_state
from azk_operator.emulator.profiles import Latency, LatencyProfile
from azk_operator.emulator.throttle import BucketSpec, ThrottleSpec, TokenBucket
from azk_operator.emulator.tls import ensure_tls


def test_tls_chain_passes_strict_verification(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path / "tls", ["127.0.0.1"])
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    leaf = x509.load_pem_x509_certificates(files.server_cert.read_bytes())[0]
    for name in (x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")):
        verifier = (
            PolicyBuilder()
            .store(Store([ca]))
            .time(datetime.datetime.now(datetime.UTC))
            .build_server_verifier(name)
        )
        chain = verifier.verify(leaf, [])
        assert chain[-1] == ca
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    ca.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert files.ca_key.stat().st_mode & 0o777 == 0o600
    assert files.server_key.stat().st_mode & 0o777 == 0o600


def test_tls_reuses_its_ca(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path, ["127.0.0.1"]).ca_cert.read_bytes()
    assert ensure_tls(tmp_path, ["127.0.0.2"]).ca_cert.read_bytes() == first


def test_merge_patch_follows_rfc_7386() -> None:
    target = {"tags": {"a": "1", "b": "2"}, "properties": {"x": [1, 2], "y": 1}}
    patch = {"tags": {"a": None, "c": "3"}, "properties": {"x": [3]}}
    assert merge_patch(target, patch) == {"tags": {"b": "2", "c": "3"}, "properties": {"x": [3], "y": 1}}
    assert target["tags"] == {"a": "1", "b": "2"}  # the original is untouched


def test_token_bucket_empties_and_names_whole_seconds() -> None:
    bucket = TokenBucket(BucketSpec(capacity=2, refill_per_second=0.5))
    assert bucket.take() is None and bucket.take() is None
    assert bucket.take() == 2


def test_address_pools_skip_reserved_reuse_released_and_exhaust() -> None:
    pools = AddressPools()
    assert [pools.allocate("s", "10.0.0.0/29") for _ in range(3)] == ["10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(LookupError):
        pools.allocate("s", "10.0.0.0/29")
    pools.release("s", "10.0.0.5")
    assert pools.allocate("s", "10.0.0.0/29") == "10.0.0.5"
    assert pools.allocate("public", "127.10.0.0/16") == "127.10.0.1"
    assert pools.claim("s", "10.0.0.4") is False


def test_latency_profiles() -> None:
    realistic = LatencyProfile.realistic(scale=0.5)
    assert realistic.latency("Microsoft.Compute/virtualMachineScaleSets").seconds == 45.0
    assert realistic.latency("microsoft.network/loadbalancers").seconds == 5.0
    assert LatencyProfile.fast().latency("anything") == Latency(polls=1, seconds=0.0)
    with pytest.raises(ValueError):
        LatencyProfile.by_name("glacial")


def test_operation_needs_polls_and_time() -> None:
    book = OperationBook()
    op = book.start(
        subscription="s",
        namespace="Microsoft.Network",
        location="eastus",
        method="PUT",
        target="/x",
        latency=Latency(polls=2, seconds=10.0),
        effects=[],
    )
    op.polls = 2
    assert not op.ready(op.started + 5)
    assert op.ready(op.started + 10)
    assert book.pending_for("/X") is op
    book.finish(op, {"code": "Boom", "message": "m"})
    assert book.pending_for("/x") is None and op.status_body()["error"]["code"] == "Boom"


def test_fault_rules_match_method_path_and_count() -> None:
    rule = FaultRule(path="virtualnetworks/v1$", method="PUT", status=500, count=1)
    assert not rule.matches("GET", "/x/virtualNetworks/v1")
    assert rule.matches("PUT", "/x/virtualNetworks/V1")
    rule.consume()
    assert not rule.matches("PUT", "/x/virtualNetworks/v1")
    fault = OperationFault(code="Quota", path="scalesets")
    assert fault.take("/a/virtualMachines/x") is None
    assert fault.take("/a/virtualMachineScaleSets/x") == {
        "code": "Quota",
        "message": "Injected operation failure",
    }
    assert fault.take("/a/virtualMachineScaleSets/x") is None


def test_tokens_verify_only_with_their_key() -> None:
    issuer = TokenIssuer(b"k" * 32, "tenant")
    token, lifetime = issuer.issue("app", "https://management.azure.com/", "https://issuer")
    assert lifetime > 0 and issuer.verify(token) is not None
    assert TokenIssuer(b"x" * 32, "tenant").verify(token) is None
    head, payload, signature = token.split(".")
    assert issuer.verify(f"{head}.{payload}x.{signature}") is None


def test_state_file_is_private_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_state(path, {"engine": {"resources": []}})
    save_state(path, {"engine": {"resources": [1]}})
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_state(path) == {"version": 1, "engine": {"resources": [1]}}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    assert load_state(tmp_path / "missing.json") is None


def test_the_throttling_model_defaults_to_arms_documented_limits() -> None:
    spec = ThrottleSpec()
    assert (spec.reads.capacity, spec.reads.refill_per_second) == (250, 25)
    assert (spec.writes.capacity, spec.writes.refill_per_second) == (200, 10)
    assert (spec.scale_set_updates.capacity, spec.scale_set_updates.refill_per_second * 60) == (12, 4)
