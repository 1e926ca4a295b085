"""DNS resolvers the probes ask: the system's, or a nameserver an admin named on an http source.

A person never points a probe at a nameserver of their choosing (that would be a way to
send packets anywhere): the only nameservers besides the system's are those written in the
sources file as `options.nameserver` of an http source.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.message
import dns.rcode
import dns.resolver

from engine.core.addresses import parse_ip

_HOST_PORT = re.compile(
    r"^\[(?P<v6>[^\]]+)\](?::(?P<v6port>\d+))?$|^(?P<host>[^:]+)(?::(?P<port>\d+))?$"
)


@dataclass(frozen=True)
class Nameserver:
    """A nameserver by address (no name: resolving it would need another nameserver)."""

    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return host if self.port == 53 else f"{host}:{self.port}"

    def dig_at(self) -> str:
        """`@127.0.0.1 -p 5353`: where `dig` asks, as a person would type it."""
        return f"@{self.address}" + ("" if self.port == 53 else f" -p {self.port}")


def parse_nameserver(text: str) -> Nameserver:
    """'10.0.0.2', '127.0.0.1:5353', '[::1]:53' → a Nameserver; ValueError in words otherwise."""
    match = _HOST_PORT.match(text.strip())
    if match is None and parse_ip(text.strip()) is not None:  # a bare IPv6 address
        return Nameserver(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an address[:port]")
    address = match["v6"] or match["host"]
    port = int(match["v6port"] or match["port"] or 53)
    if parse_ip(address) is None:
        raise ValueError(f"{text!r}: a nameserver is given by its IP address, not a name")
    if not 0 < port < 65536:
        raise ValueError(f"{text!r}: the port must be 1 to 65535")
    return Nameserver(address, port)


def make_resolver(nameserver: Nameserver | None, timeout_s: float) -> dns.asyncresolver.Resolver:
    """A resolver that asks `nameserver`, or the system's (/etc/resolv.conf) when None."""
    if nameserver is None:
        resolver = dns.asyncresolver.Resolver(configure=True)
    else:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [nameserver.address]
        resolver.port = nameserver.port
    resolver.lifetime = timeout_s
    resolver.timeout = timeout_s
    resolver.cache = None
    return resolver


def describe_failure(
    exc: dns.exception.DNSException, name: str, asked: str, timeout_s: float
) -> str:
    """A DNS failure in the words an SRE uses: NXDOMAIN, SERVFAIL, REFUSED, a timeout."""
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return f"NXDOMAIN: {name} does not exist (said by {asked})"
    if isinstance(exc, dns.resolver.NoNameservers):
        codes = []
        for error in exc.kwargs.get("errors") or []:
            response = error[4] if len(error) > 4 else None
            if isinstance(response, dns.message.Message):
                codes.append(dns.rcode.to_text(response.rcode()))
            else:
                codes.append(str(error[3]))
        said = ", ".join(dict.fromkeys(codes)) or "no usable answer"
        if "SERVFAIL" in codes:
            return (
                f"SERVFAIL: {asked} could not answer for {name} "
                "(its upstream failed, or DNSSEC validation did)"
            )
        if "REFUSED" in codes:
            return f"REFUSED: {asked} will not answer for {name}"
        return f"{asked} failed to answer for {name}: {said}"
    if isinstance(exc, dns.exception.Timeout):
        return f"timeout: {asked} did not answer within {timeout_s:g} s"
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return "this machine has no DNS resolver configured (/etc/resolv.conf)"
    return f"{asked} failed to answer for {name}: {exc}"


async def resolve_addresses(nameserver: Nameserver, host: str, timeout_s: float) -> list[str]:
    """The A and AAAA addresses `nameserver` gives for `host`; OSError in words otherwise."""
    resolver = make_resolver(nameserver, timeout_s)
    results = await asyncio.gather(
        *(resolver.resolve(host, kind, raise_on_no_answer=False) for kind in ("A", "AAAA")),
        return_exceptions=True,
    )
    addresses: list[str] = []
    failures: list[str] = []
    for result in results:
        if isinstance(result, dns.exception.DNSException):
            asked = f"the nameserver {nameserver}"
            failures.append(describe_failure(result, host, asked, timeout_s))
        elif isinstance(result, BaseException):
            raise result
        elif result.rrset is not None:
            addresses += [rdata.to_text() for rdata in result.rrset]
    if not addresses:
        raise OSError(failures[0] if failures else f"{nameserver} has no A or AAAA record")
    return list(dict.fromkeys(addresses))
