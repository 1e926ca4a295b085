"""Where a probe may go: public addresses, and inside ones that an admin allows.

The rules are the URL fetcher's (engine/core/addresses.py): a host is resolved once, every
address it gave is judged, and the connection goes to those addresses only. A private,
loopback or link-local address is reached only when an `http` source allowed here says so:

    - name: lab
      kind: http
      url: https://grafana.corp.example     # its host is covered
      allow_private: true
      options:
        hosts: ["*.corp.example", "10.20.0.0/16"]   # more names (a leading *. for a domain)
                                                    # and address ranges it covers
        nameserver: "10.20.0.2:53"     # names are resolved here when the probe names the source
        ca_file: /etc/ssl/corp-ca.pem  # the CA that signs its certificates (http_probe)

A name the admin listed covers whatever its DNS answers; an address range covers the
addresses in it, whatever name led there.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from yarl import URL

from engine.core.addresses import (
    IPAddress,
    Resolve,
    UnresolvedHost,
    addresses_of,
    parse_ip,
    refusal,
    resolve_host,
)
from engine.tools.base import ToolError
from engine.tools.probes.resolvers import Nameserver, parse_nameserver, resolve_addresses
from engine.tools.sources import Source, SourcesError

DEFAULT_TIMEOUT_S = 10.0  # per step when no source says otherwise; a run has 30 s in all
MAX_TIMEOUT_S = 20.0
HOW_TO_ALLOW = (
    "probes reach private, loopback and link-local addresses only when an admin allows it: "
    "an `http` source with `allow_private: true` whose url or `options.hosts` "
    "(host names or CIDRs) covers {host}"
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$")


def _name(text: str) -> str:
    return text.strip().lower().rstrip(".")


def _name_matches(pattern: str, host: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host != pattern[2:]
    return host == pattern


@dataclass(frozen=True)
class ProbeSource:
    """An http source as the probes read it: what it covers, where it resolves, its CA."""

    source: Source
    names: tuple[str, ...]
    networks: tuple[IPNetwork, ...]
    nameserver: Nameserver | None
    ca_file: str | None

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def timeout_s(self) -> float:
        return min(self.source.timeout_s, MAX_TIMEOUT_S)

    def covers(self, host: str, ip: IPAddress | None) -> bool:
        """Whether this source's url or hosts name `host`, or a range of it holds `ip`."""
        host = _name(host)
        if any(_name_matches(pattern, host) for pattern in self.names):
            return True
        return ip is not None and any(ip in network for network in self.networks)

    @classmethod
    def read(cls, source: Source) -> ProbeSource:
        """The source's probe settings; SourcesError naming the field that is wrong."""
        names: list[str] = []
        networks: list[IPNetwork] = []
        wrong = f"source {source.name!r}"
        if source.url:
            try:
                url_host = URL(source.url).host
            except (TypeError, ValueError) as exc:
                raise SourcesError(f"{wrong}: url is not a URL: {exc}") from None
            if url_host:
                _add_host(url_host, names, networks)
        options: dict[str, Any] = source.options
        hosts = options.get("hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise SourcesError(f"{wrong}: options.hosts must be a list of host names or CIDRs")
        for entry in hosts:
            try:
                _add_host(entry, names, networks)
            except ValueError as exc:
                raise SourcesError(f"{wrong}: options.hosts: {exc}") from None
        nameserver = None
        if options.get("nameserver") is not None:
            try:
                nameserver = parse_nameserver(str(options["nameserver"]))
            except ValueError as exc:
                raise SourcesError(f"{wrong}: options.nameserver: {exc}") from None
        ca_file = options.get("ca_file")
        if ca_file is not None and not isinstance(ca_file, str):
            raise SourcesError(f"{wrong}: options.ca_file must be the path of a PEM file")
        return cls(source, tuple(names), tuple(networks), nameserver, ca_file)


def _add_host(entry: str, names: list[str], networks: list[IPNetwork]) -> None:
    text = entry.strip().strip("[]")
    if "/" in text or parse_ip(text) is not None:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an address range") from None
        return
    if not _HOST_NAME.match(text.removeprefix("*.")):
        raise ValueError(f"{entry!r} is not a host name")
    names.append(_name(text))


def host_argument(text: str) -> str:
    """A host as a person gives it ("db.corp", "10.0.0.5", "[::1]"), or ToolError."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if parse_ip(host) is not None:
        return host
    if "://" in host or "/" in host:
        raise ToolError(f"{text!r}: give a host name or address, not a URL")
    if ":" in host:
        raise ToolError(f"{text!r}: give the host without a port; the port is its own argument")
    if not _HOST_NAME.match(host):
        raise ToolError(f"{text!r} is not a host name")
    return host.rstrip(".")


class Reach:
    """The http sources allowed in this place, read once, and the vetting they imply."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = [ProbeSource.read(s) for s in sources if s.kind == "http"]

    def allows(self, host: str, ip: IPAddress) -> bool:
        return any(s.source.allow_private and s.covers(host, ip) for s in self.sources)

    def pick(self, name: str | None) -> ProbeSource | None:
        """The source a run names (None when it names none), or ToolError listing them."""
        if name is None:
            return None
        for source in self.sources:
            if source.name == name:
                return source
        here = ", ".join(s.name for s in self.sources) or "none"
        raise ToolError(f"no http source named {name!r} may be used here; http sources: {here}")

    def with_nameservers(self) -> list[ProbeSource]:
        return [s for s in self.sources if s.nameserver is not None]

    async def vetted(self, host: str, port: int, via: ProbeSource | None) -> list[str]:
        """The addresses to connect to for `host` (resolved by `via`'s nameserver when it
        has one); ToolError when it does not resolve or one address may not be reached."""
        nameserver = via.nameserver if via else None
        timeout_s = via.timeout_s if via else DEFAULT_TIMEOUT_S
        resolve: Resolve
        if nameserver is not None:
            resolve = functools.partial(_resolve_at, nameserver, timeout_s)
        else:
            resolve = resolve_host
        try:
            addresses = await addresses_of(host, port, resolve=resolve)
        except UnresolvedHost as exc:
            raise ToolError(exc.user_message + self._resolver_hint(via)) from None
        why = refusal(host, addresses, allowed=self.allows)
        if why is not None:
            raise ToolError(f"refused: {why}; " + HOW_TO_ALLOW.format(host=host))
        return addresses

    def _resolver_hint(self, via: ProbeSource | None) -> str:
        others = [s.name for s in self.with_nameservers() if via is None or s.name != via.name]
        if not others:
            return ""
        return f" (an internal name? name a source whose nameserver knows it: {', '.join(others)})"


async def _resolve_at(nameserver: Nameserver, timeout_s: float, host: str, port: int) -> list[str]:
    return await resolve_addresses(nameserver, host, timeout_s)
