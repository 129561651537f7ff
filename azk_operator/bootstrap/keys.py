"""Private keys of the cluster PKI: generation and PEM encoding.

PEM encodings follow kubeadm (``RSA PRIVATE KEY`` / ``EC PRIVATE KEY`` for private keys, ``PUBLIC KEY`` for
``sa.pub``) so files written by azk and by kubeadm are interchangeable on a node.
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from azk_operator.bootstrap.errors import PKIError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class KeyAlgorithm(StrEnum):
    """Key types azk generates; the values are kubeadm's ``ClusterConfiguration.encryptionAlgorithm``."""

    RSA_2048 = "RSA-2048"
    ECDSA_P256 = "ECDSA-P256"


def generate_private_key(algorithm: KeyAlgorithm) -> PrivateKey:
    """A fresh private key of the given type."""
    if algorithm is KeyAlgorithm.ECDSA_P256:
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_algorithm_of(key: PrivateKey | PublicKey) -> KeyAlgorithm:
    """The :class:`KeyAlgorithm` a loaded key belongs to (so a resumed PKI keeps issuing the same type)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return KeyAlgorithm.RSA_2048
    return KeyAlgorithm.ECDSA_P256


def private_key_to_pem(key: PrivateKey) -> bytes:
    """Unencrypted PEM in the traditional OpenSSL format, as kubeadm writes it."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.TraditionalOpenSSL,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_key_to_pem(key: PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM (``PUBLIC KEY``), the format of kubeadm's ``sa.pub``."""
    return key.public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key_pem(data: bytes, what: str) -> PrivateKey:
    """Parse an unencrypted RSA or EC private key; ``what`` names it in errors (the key itself never is)."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise PKIError(f"{what}: not an unencrypted PEM private key") from error
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key
    raise PKIError(f"{what}: unsupported key type {type(key).__name__}")


def public_keys_equal(first: PublicKey, second: PublicKey) -> bool:
    """Whether two public keys are the same key (used to check a certificate matches its private key)."""
    return public_key_to_pem(first) == public_key_to_pem(second)
