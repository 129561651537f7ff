"""Certificate authorities and leaf certificates with the extensions kubeadm gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from azk_operator.bootstrap.errors import PKIError
from azk_operator.bootstrap.keys import (
    KeyAlgorithm,
    PrivateKey,
    generate_private_key,
    load_private_key_pem,
    private_key_to_pem,
    public_keys_equal,
)
from azk_operator.bootstrap.sans import SubjectAltNames

CA_VALIDITY = timedelta(days=3650)
CERT_VALIDITY = timedelta(days=365)
# Backdating NotBefore lets a node whose clock runs a little behind accept a certificate issued seconds ago.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)
# Every signature uses SHA-256, for both key types: what kubeadm uses and every TLS stack accepts.


@dataclass(frozen=True)
class PKIOptions:
    """How certificates are issued: key type and lifetimes (renewal tests use short ones)."""

    key_algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048
    ca_validity: timedelta = CA_VALIDITY
    cert_validity: timedelta = CERT_VALIDITY

    def __post_init__(self) -> None:
        if self.ca_validity <= timedelta(0) or self.cert_validity <= timedelta(0):
            raise PKIError("certificate validity must be positive")


@dataclass(frozen=True, repr=False)
class CertKeyPair:
    """A certificate and its private key. ``repr`` shows the subject, never the key."""

    cert: x509.Certificate
    key: PrivateKey = field(compare=False)

    def __post_init__(self) -> None:
        if not public_keys_equal(self.cert.public_key(), self.key.public_key()):  # type: ignore[arg-type]
            raise PKIError(f"private key does not match certificate {self.subject}")

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return private_key_to_pem(self.key)

    @classmethod
    def from_pem(cls, cert_pem: bytes, key_pem: bytes, what: str) -> CertKeyPair:
        """Load a pair; ``what`` names it in errors. Fails when the key does not belong to the certificate."""
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
        except ValueError as error:
            raise PKIError(f"{what}: not a PEM certificate") from error
        return cls(cert, load_private_key_pem(key_pem, what))

    def __repr__(self) -> str:
        return f"CertKeyPair(subject={self.subject!r}, not_after={self.cert.not_valid_after_utc.isoformat()})"


@dataclass(frozen=True)
class CertificateProfile:
    """What a leaf certificate is for: its subject, SANs and extended key usages."""

    common_name: str
    organizations: tuple[str, ...] = ()
    server_auth: bool = False
    client_auth: bool = False
    sans: SubjectAltNames = field(default_factory=SubjectAltNames)

    def __post_init__(self) -> None:
        if not (self.server_auth or self.client_auth):
            raise PKIError(f"certificate {self.common_name!r} needs server or client usage")


def _name(common_name: str, organizations: tuple[str, ...] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).replace(microsecond=0)


def _key_usage(*, ca: bool, rsa_key: bool) -> x509.KeyUsage:
    # keyEncipherment only means something for RSA key transport; ECDSA keys never encipher.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=rsa_key and not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def create_ca(common_name: str, options: PKIOptions, now: datetime | None = None) -> CertKeyPair:
    """A self-signed CA valid for ``options.ca_validity``."""
    issued = _now(now)
    key = generate_private_key(options.key_algorithm)
    public_key = key.public_key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued - CLOCK_SKEW_ALLOWANCE)
        .not_valid_after(issued + options.ca_validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(ca=True, rsa_key=isinstance(key, rsa.RSAPrivateKey)), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertKeyPair(cert, key)


def issue_certificate(
    ca: CertKeyPair, profile: CertificateProfile, options: PKIOptions, now: datetime | None = None
) -> CertKeyPair:
    """A leaf signed by ``ca``; its lifetime is ``options.cert_validity``, cut at the CA's own expiry."""
    issued = _now(now)
    not_after = min(issued + options.cert_validity, ca.cert.not_valid_after_utc)
    key = generate_private_key(options.key_algorithm)
    public_key = key.public_key()
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] if profile.server_auth else []
    usages += [ExtendedKeyUsageOID.CLIENT_AUTH] if profile.client_auth else []
    ca_public_key = ca.cert.public_key()
    if not isinstance(ca_public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise PKIError(f"CA {ca.subject} has an unsupported key type")
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(profile.common_name, profile.organizations))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued - CLOCK_SKEW_ALLOWANCE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False, rsa_key=isinstance(key, rsa.RSAPrivateKey)), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public_key), critical=False)
    )
    if profile.sans:
        builder = builder.add_extension(profile.sans.to_extension(), critical=False)
    return CertKeyPair(builder.sign(ca.key, hashes.SHA256()), key)
