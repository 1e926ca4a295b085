"""Network probes: http_probe (status, latency, redirects, TLS certificate), dns_lookup and
tcp_connect, under the URL fetcher's address rules (engine/core/addresses.py).

They need no source: with none configured they reach public targets only. An `http` source
with `allow_private: true` opens the private, loopback and link-local targets its url and
`options.hosts` cover; its `options.nameserver` resolves internal names, its
`options.ca_file` verifies internal certificates and its token goes to the hosts it covers
(see reach.py).
"""

from __future__ import annotations

from engine.tools.base import Tool
from engine.tools.probes.dns_lookup import DnsLookup
from engine.tools.probes.http_probe import HttpProbe
from engine.tools.probes.reach import Reach
from engine.tools.probes.tcp_connect import TcpConnect
from engine.tools.sources import Source

__all__ = ["probe_tools"]


def probe_tools(http_sources: list[Source]) -> list[Tool]:
    """The probes, for the http sources allowed in this place (none is fine).

    Raises SourcesError when a source's probe options are wrong (a bad CIDR in hosts, a
    nameserver given by name)."""
    reach = Reach(http_sources)
    return [HttpProbe(reach), DnsLookup(reach), TcpConnect(reach)]
