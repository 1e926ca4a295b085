"""Which network addresses are inside the network, and connecting only to the ones vetted.

What the server fetches or probes for a person (a knowledge URL, an HTTP probe, a TCP
connect) must not become a way to read cloud metadata (169.254.169.254), an admin port on
localhost or a service on the private network. The rules live here, below every package
that reaches out, so the URL fetcher and the probes judge addresses the same way:

- `blocked_kind` says why an address is not a public one (private, loopback, link-local,
  CGNAT, multicast, reserved, unspecified, or an IPv6 form of one of those);
- `addresses_of` resolves a host once; `refusal` judges every address it gave (one inside
  address among public ones is enough to refuse);
- `PinnedResolver` makes aiohttp connect to the addresses that were judged, so a DNS answer
  that changes between the check and the connect cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

from aiohttp.abc import AbstractResolver, ResolveResult

from engine.core.errors import FaultMavenError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Awaitable[list[str]]]
Judge = Callable[[IPAddress], str | None]
# (host as asked, one of its addresses) -> True when an admin allows reaching it anyway.
Allowed = Callable[[str, IPAddress], bool]

# Not covered by `is_global` on every Python version, or global but still not a web server.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnresolvedHost(FaultMavenError):
    """A host name that gave no address."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def blocked_kind(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address ("loopback", "private", ...), or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return blocked_kind(inner)
        if ip.is_site_local:
            return "private"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared (CGNAT)"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


def parse_ip(text: str) -> IPAddress | None:
    """The address `text` spells (an IPv6 zone id dropped), or None for a host name."""
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to through the system's resolver."""
    infos = await asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def addresses_of(host: str, port: int, *, resolve: Resolve = resolve_host) -> list[str]:
    """The address a literal spells, or what `resolve` answers for a name (looked up once)."""
    literal = parse_ip(host)
    if literal is not None:
        return [str(literal)]
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnresolvedHost(f"could not resolve {host}: {exc}") from exc
    if not addresses:
        raise UnresolvedHost(f"could not resolve {host}: no addresses")
    return addresses


def _never(host: str, ip: IPAddress) -> bool:
    return False


def refusal(
    host: str, addresses: list[str], *, judge: Judge = blocked_kind, allowed: Allowed = _never
) -> str | None:
    """Why `host` may not be reached ("db.corp (10.0.0.5) points to a private address
    10.0.0.5"), or None when every one of its addresses is public or allowed."""
    for address in addresses:
        ip = parse_ip(address)
        kind = "unparsable" if ip is None else judge(ip)
        if kind is None or (ip is not None and allowed(host, ip)):
            continue
        shown = host if host == address else f"{host} ({address})"
        return f"{shown} points to a {kind} address {address}"
    return None


class PinnedResolver(AbstractResolver):
    """Answers for the one vetted host with the vetted addresses, and for nothing else."""

    def __init__(self, host: str, addresses: list[str]) -> None:
        self._host = host
        self._addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"{host} was not vetted")
        results: list[ResolveResult] = []
        for address in self._addresses:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            if family not in (socket.AF_UNSPEC, fam):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=address,
                    port=port,
                    family=fam,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise OSError(f"no vetted address of {host} in the requested family")
        return results

    async def close(self) -> None:
        return None
