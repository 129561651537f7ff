"""Subject alternative names: classification, validation and the apiserver's kubeadm-style SAN list."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509

from azk_operator.bootstrap.errors import PKIError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 1123 subdomain (what Kubernetes and x509 hostname matching accept), optionally with a leading
# wildcard label, which kubeadm allows in certSANs.
_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_MAX_DNS_NAME_LENGTH = 253

# The names every in-cluster client uses for the API, before the cluster DNS domain is appended.
KUBERNETES_SERVICE_NAMES = ("kubernetes", "kubernetes.default", "kubernetes.default.svc")


def is_dns_name(value: str) -> bool:
    """Whether ``value`` is a lowercase RFC 1123 DNS name (optionally ``*.``-prefixed)."""
    return len(value) <= _MAX_DNS_NAME_LENGTH and _DNS_NAME.fullmatch(value) is not None


@dataclass(frozen=True)
class SubjectAltNames:
    """An ordered, duplicate-free set of DNS names and IP addresses for a certificate."""

    dns_names: tuple[str, ...] = ()
    ip_addresses: tuple[IPAddress, ...] = ()

    @classmethod
    def from_strings(cls, values: Iterable[str]) -> SubjectAltNames:
        """Classify each value as an IP address or a DNS name (lowercased); reject anything else."""
        dns_names: list[str] = []
        ip_addresses: list[IPAddress] = []
        for raw in values:
            value = raw.strip()
            try:
                ip_addresses.append(ipaddress.ip_address(value))
                continue
            except ValueError:
                pass
            name = value.lower().rstrip(".")
            if not is_dns_name(name):
                raise PKIError(f"subject alternative name {raw!r} is neither an IP address nor a DNS name")
            dns_names.append(name)
        return cls(tuple(dict.fromkeys(dns_names)), tuple(dict.fromkeys(ip_addresses)))

    def merged(self, other: SubjectAltNames) -> SubjectAltNames:
        """This set followed by the entries of ``other`` it does not already hold."""
        return SubjectAltNames(
            tuple(dict.fromkeys((*self.dns_names, *other.dns_names))),
            tuple(dict.fromkeys((*self.ip_addresses, *other.ip_addresses))),
        )

    def as_strings(self) -> tuple[str, ...]:
        """DNS names then IP addresses, as strings (the form kubeadm's certSANs takes)."""
        return (*self.dns_names, *(str(ip) for ip in self.ip_addresses))

    def to_extension(self) -> x509.SubjectAlternativeName:
        """The x509 extension value."""
        general_names: list[x509.GeneralName] = [x509.DNSName(name) for name in self.dns_names]
        general_names += [x509.IPAddress(ip) for ip in self.ip_addresses]
        return x509.SubjectAlternativeName(general_names)

    def __bool__(self) -> bool:
        return bool(self.dns_names or self.ip_addresses)


def first_service_address(service_cidr: str) -> IPAddress:
    """The address the ``kubernetes`` Service gets: the first host address of the service range."""
    try:
        network = ipaddress.ip_network(service_cidr.strip(), strict=True)
    except ValueError as error:
        raise PKIError(f"service range {service_cidr!r} is not a CIDR network address") from error
    if network.num_addresses < 4:
        raise PKIError(f"service range {service_cidr!r} is too small")
    return network.network_address + 1


def apiserver_subject_alt_names(
    *,
    service_cidrs: Iterable[str],
    dns_domain: str,
    extra: Iterable[str] = (),
) -> SubjectAltNames:
    """The apiserver serving certificate's SANs, as kubeadm builds them.

    ``kubernetes``, ``kubernetes.default``, ``kubernetes.default.svc``, ``kubernetes.default.svc.<domain>``,
    the first address of each service range, then ``extra`` in order: load-balancer frontend addresses,
    the public FQDN, node names and addresses.
    """
    domain = dns_domain.strip().lower().rstrip(".")
    if not is_dns_name(domain):
        raise PKIError(f"cluster DNS domain {dns_domain!r} is not a DNS name")
    names = (*KUBERNETES_SERVICE_NAMES, f"kubernetes.default.svc.{domain}")
    service_ips = tuple(first_service_address(cidr) for cidr in service_cidrs)
    if not service_ips:
        raise PKIError("at least one service range is needed for the apiserver certificate")
    return SubjectAltNames(names, service_ips).merged(SubjectAltNames.from_strings(extra))


def subject_alt_names_of(certificate: x509.Certificate) -> SubjectAltNames:
    """The DNS and IP SANs a certificate carries (empty when it has no SAN extension)."""
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return SubjectAltNames()
    return SubjectAltNames(
        tuple(extension.get_values_for_type(x509.DNSName)),
        tuple(
            value
            for value in extension.get_values_for_type(x509.IPAddress)
            if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address)
        ),
    )
