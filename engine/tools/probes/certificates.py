"""A server's TLS certificate in the words an SRE checks: names, issuer, expiry, trust.

The certificate is read from its DER bytes with `cryptography`, so one that does not verify
(self-signed, expired, another name, an unknown CA) is still shown: that is when it matters.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from engine.core.addresses import IPAddress, parse_ip
from engine.core.wording import plural

EXPIRY_WARNING_DAYS = 14


@dataclass(frozen=True)
class Certificate:
    subject: str  # its common name, or the whole subject when it has none
    issuer: str
    dns_names: tuple[str, ...]
    ip_names: tuple[IPAddress, ...]
    not_before: datetime
    not_after: datetime
    self_signed: bool

    @property
    def names(self) -> list[str]:
        return [*self.dns_names, *(str(ip) for ip in self.ip_names)]


def _common_name(name: x509.Name) -> str:
    found = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if found:
        return str(found[0].value)
    return name.rfc4514_string() or "(empty)"


def read_certificate(der: bytes) -> Certificate:
    cert = x509.load_der_x509_certificate(der)
    dns_names: list[str] = []
    ip_names: list[IPAddress] = []
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = [str(n) for n in alt.get_values_for_type(x509.DNSName)]
        ip_names = [
            ip
            for ip in alt.get_values_for_type(x509.IPAddress)
            if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)
        ]
    except x509.ExtensionNotFound:
        pass
    issuer = _common_name(cert.issuer)
    organisation = cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    if organisation:
        issuer += f" ({organisation[0].value!s})"
    return Certificate(
        subject=_common_name(cert.subject),
        issuer=issuer,
        dns_names=tuple(dns_names),
        ip_names=tuple(ip_names),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        self_signed=cert.issuer == cert.subject,
    )


def _dns_match(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # A wildcard stands for exactly one leftmost label.
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def name_matches(cert: Certificate, host: str) -> bool:
    """Whether the certificate is for `host` (its alternative names; the common name only
    when it has none, as browsers once did)."""
    ip = parse_ip(host)
    if ip is not None:
        return ip in cert.ip_names
    names = cert.dns_names or (cert.subject,)
    return any(_dns_match(pattern, host) for pattern in names)


def _days(seconds: float) -> int:
    return math.floor(seconds / 86_400)


def describe(
    cert: Certificate, host: str, *, verify_error: str | None, now: datetime | None = None
) -> list[str]:
    """Lines about the certificate: what it says, then a ⚠ line for each problem."""
    now = now or datetime.now(UTC)
    left = (cert.not_after - now).total_seconds()
    valid = f"{cert.not_before:%Y-%m-%d %H:%M} → {cert.not_after:%Y-%m-%d %H:%M} UTC"
    lines = [
        f"  subject: {cert.subject} · names: {', '.join(cert.names) or 'none'}",
        f"  issuer: {cert.issuer}" + (" (self-signed)" if cert.self_signed else ""),
        f"  valid: {valid} ({plural(_days(left), 'day')} left)"
        if left >= 0
        else f"  valid: {valid}",
    ]
    warnings: list[str] = []
    if left < 0:
        warnings.append(
            f"EXPIRED {plural(_days(-left), 'day')} ago, on {cert.not_after:%Y-%m-%d %H:%M} UTC"
        )
    elif left < EXPIRY_WARNING_DAYS * 86_400:
        warnings.append(
            f"expires in {plural(_days(left), 'day')}, on {cert.not_after:%Y-%m-%d %H:%M} UTC"
        )
    if cert.not_before > now:
        warnings.append(f"not valid yet: it starts on {cert.not_before:%Y-%m-%d %H:%M} UTC")
    if not name_matches(cert, host):
        warnings.append(
            f"name mismatch: {host} is not among the certificate's names "
            f"({', '.join(cert.names) or cert.subject})"
        )
    if cert.self_signed:
        warnings.append("self-signed: no client trusts it unless told to")
    if verify_error is not None:
        warnings.append(f"does not verify: {verify_error}")
    lines += [f"  ⚠ {w}" for w in warnings]
    if not warnings:
        lines.append("  ✓ verifies, and is valid for " + host)
    return lines
