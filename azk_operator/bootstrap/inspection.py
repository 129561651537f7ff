"""Certificate inspection: expiry and SANs of a PEM certificate or of what a TLS endpoint serves.

Used to decide when certificates need renewal and to check that a renewed apiserver serves the new one.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509

from azk_operator.bootstrap.errors import PKIError
from azk_operator.bootstrap.sans import SubjectAltNames, subject_alt_names_of


@dataclass(frozen=True)
class CertificateInfo:
    """The facts about a certificate a renewal decision needs."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    sans: SubjectAltNames
    serial_number: int

    def remaining(self, now: datetime) -> float:
        """Seconds until expiry (negative once expired)."""
        return (self.not_after - now).total_seconds()


def certificate_info(certificate: x509.Certificate) -> CertificateInfo:
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        sans=subject_alt_names_of(certificate),
        serial_number=certificate.serial_number,
    )


def inspect_pem(pem: bytes) -> CertificateInfo:
    """Inspect the first certificate of a PEM bundle."""
    try:
        return certificate_info(x509.load_pem_x509_certificate(pem))
    except ValueError as error:
        raise PKIError("not a PEM certificate") from error


def inspect_endpoint(
    host: str, port: int, *, ca_file: Path | None = None, server_name: str | None = None, timeout: float = 5.0
) -> CertificateInfo:
    """Inspect the certificate a TLS server presents.

    With ``ca_file`` the chain and host name are verified (so the answer is about a server we trust);
    without it the certificate is read unverified, which is what an expiry check of an unknown or
    already-expired endpoint needs.
    """
    if ca_file is not None:
        context = ssl.create_default_context(cafile=str(ca_file))
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=server_name or host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    if der is None:
        raise PKIError(f"{host}:{port} presented no certificate")
    return certificate_info(x509.load_der_x509_certificate(der))
