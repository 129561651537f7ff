"""Bootstrap tokens, their Secret manifest, the discovery CA hash and the admin kubeconfig."""

from __future__ import annotations

import base64
import re
import stat
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from azk_operator.bootstrap import (
    BootstrapError,
    BootstrapToken,
    bootstrap_token_secret,
    client_certificate_kubeconfig,
    discovery_ca_hash,
    generate_cluster_pki,
    issue_admin_certificate,
    write_kubeconfig,
)

TOKEN_RE = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")


def test_generated_tokens_match_the_format_and_differ() -> None:
    tokens = {BootstrapToken.generate().value for _ in range(200)}
    assert len(tokens) == 200
    assert all(TOKEN_RE.match(token) for token in tokens)


@given(st.text(max_size=30))
def test_parse_accepts_exactly_the_token_format(value: str) -> None:
    if TOKEN_RE.fullmatch(value.strip()):
        assert BootstrapToken.parse(value).value == value.strip()
    else:
        with pytest.raises(BootstrapError) as raised:
            BootstrapToken.parse(value)
        assert str(raised.value) == "a bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16}"


@given(st.from_regex(TOKEN_RE, fullmatch=True))
def test_token_text_forms_hide_the_secret(value: str) -> None:
    token = BootstrapToken.parse(value)
    assert token.secret not in repr(token)
    assert token.secret not in str(token)
    assert token.username == f"system:bootstrap:{value[:6]}"
    assert token.secret_name == f"bootstrap-token-{value[:6]}"


def test_secret_manifest_is_what_the_bootstrap_authenticator_reads() -> None:
    token = BootstrapToken.parse("abcdef.0123456789abcdef")
    expires = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    manifest = bootstrap_token_secret(token, expires)
    assert manifest["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    assert manifest["type"] == "bootstrap.kubernetes.io/token"
    assert manifest["stringData"] == {
        "token-id": "abcdef",
        "token-secret": "0123456789abcdef",
        "expiration": "2026-03-01T10:30:00Z",
        "description": "azk node bootstrap token",
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
    }
    with pytest.raises(BootstrapError):
        bootstrap_token_secret(token, expires, extra_groups=["system:masters"])
    with pytest.raises(BootstrapError):
        bootstrap_token_secret(token, expires.replace(tzinfo=None))


def test_discovery_hash_matches_the_openssl_recipe_from_the_kubeadm_docs(tmp_path: Path) -> None:
    pki = generate_cluster_pki()
    (tmp_path / "ca.crt").write_bytes(pki.ca.cert_pem)
    # openssl x509 -pubkey -in ca.crt | openssl rsa/pkey -pubin -outform der | openssl dgst -sha256 -hex
    pubkey = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout", "-in", str(tmp_path / "ca.crt")],
        capture_output=True,
        check=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=pubkey, capture_output=True, check=True
    ).stdout
    digest = subprocess.run(
        ["openssl", "dgst", "-sha256", "-r"], input=der, capture_output=True, check=True
    ).stdout.split()[0]
    assert discovery_ca_hash(pki.ca.cert) == "sha256:" + digest.decode()


def test_admin_kubeconfig_embeds_ca_and_client_credentials_and_is_written_0600(tmp_path: Path) -> None:
    pki = generate_cluster_pki()
    admin = issue_admin_certificate(pki)
    text = client_certificate_kubeconfig(
        cluster_name="demo",
        server="https://127.0.0.5:6443",
        ca_cert_pem=pki.ca.cert_pem,
        client=admin,
        user="kubernetes-admin",
    )
    config = yaml.safe_load(text)
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    assert cluster["server"] == "https://127.0.0.5:6443"
    assert base64.b64decode(cluster["certificate-authority-data"]) == pki.ca.cert_pem
    assert base64.b64decode(user["client-certificate-data"]) == admin.cert_pem
    assert base64.b64decode(user["client-key-data"]) == admin.key_pem
    assert config["current-context"] == "kubernetes-admin@demo"
    path = tmp_path / "state" / "admin.conf"
    path.parent.mkdir()
    path.write_text("old, world readable")
    path.chmod(0o644)
    write_kubeconfig(path, text)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == text
    with pytest.raises(BootstrapError):
        client_certificate_kubeconfig(
            cluster_name="demo", server="http://127.0.0.5", ca_cert_pem=b"", client=admin, user="x"
        )


def test_token_expiry_is_rendered_in_utc() -> None:
    token = BootstrapToken.generate()
    manifest = bootstrap_token_secret(token, datetime(2026, 1, 1, 0, 0, 0, 999, tzinfo=UTC))
    assert manifest["stringData"]["expiration"] == "2026-01-01T00:00:00Z"
