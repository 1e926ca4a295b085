"""dns_lookup: what a name resolves to, with TTLs and its CNAME chain, or why it does not.

Asks the system's resolver, or the nameserver of an http source an admin configured
(`options.nameserver`); never a nameserver a person or a model types in.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import dns.exception
import dns.name
import dns.rdatatype
import dns.rrset
from pydantic import BaseModel, Field

from engine.tools.base import ToolAnswer, ToolError
from engine.tools.probes.reach import DEFAULT_TIMEOUT_S, ProbeSource, Reach
from engine.tools.probes.resolvers import describe_failure, make_resolver

RecordType = Literal["A", "AAAA", "CNAME", "SRV", "TXT", "MX"]
_MAX_RECORDS = 30


class DnsLookupParameters(BaseModel):
    name: str = Field(min_length=1, max_length=253, description="the DNS name to look up")
    type: RecordType = "A"
    resolver: str | None = Field(
        default=None,
        description="an http source whose nameserver to ask; the system's resolver when left out",
    )


def _record(rdtype: int, text: str) -> str:
    """One record's data, with its fields named where bare numbers would puzzle."""
    if rdtype == dns.rdatatype.SRV:
        priority, weight, port, target = text.split()
        return f"priority {priority} weight {weight} port {port} → {target}"
    if rdtype == dns.rdatatype.MX:
        preference, exchange = text.split()
        return f"preference {preference} → {exchange}"
    return text


def _rows(rrset: dns.rrset.RRset) -> list[str]:
    kind = dns.rdatatype.to_text(rrset.rdtype)
    return [
        f"  {rrset.name} {rrset.ttl} {kind} {_record(rrset.rdtype, rdata.to_text())}"
        for rdata in rrset
    ]


class DnsLookup:
    name: ClassVar[str] = "dns_lookup"
    description: ClassVar[str] = (
        "Resolve a DNS name (A, AAAA, CNAME, SRV, TXT or MX): the answers with their TTLs and "
        "the CNAME chain, or NXDOMAIN, SERVFAIL or a timeout said plainly."
    )
    parameters: ClassVar[type[BaseModel]] = DnsLookupParameters

    def __init__(self, reach: Reach) -> None:
        self.reach = reach

    def _resolver(self, wanted: str | None) -> ProbeSource | None:
        if wanted is None:
            return None
        configured = self.reach.with_nameservers()
        for source in configured:
            if wanted in (source.name, str(source.nameserver)):
                return source
        here = ", ".join(f"{s.name} ({s.nameserver})" for s in configured) or "none configured"
        raise ToolError(
            f"{wanted!r} is not a resolver this tool may ask: it asks the system's resolver, "
            f"or the nameserver of an http source an admin configured: {here}"
        )

    async def answer(self, arguments: DnsLookupParameters) -> ToolAnswer:
        try:
            qname = dns.name.from_text(arguments.name.strip())
        except dns.exception.DNSException as exc:
            raise ToolError(f"{arguments.name!r} is not a DNS name: {exc}") from None
        via = self._resolver(arguments.resolver)
        nameserver = via.nameserver if via else None
        name = qname.to_text(omit_final_dot=True)
        asked = f"the nameserver {nameserver}" if nameserver else "the system's resolver"
        at = f"{nameserver.dig_at()} " if nameserver else ""
        query = f"dig {at}{name} {arguments.type}"
        timeout_s = via.timeout_s if via else DEFAULT_TIMEOUT_S
        resolver = make_resolver(nameserver, timeout_s)
        head = f"{name} {arguments.type} — {asked}"
        try:
            answer = await resolver.resolve(qname, arguments.type, raise_on_no_answer=False)
        except dns.exception.DNSException as exc:
            said = describe_failure(exc, name, asked, timeout_s)
            # The failure's code (NXDOMAIN, SERVFAIL, REFUSED, timeout) leads what it says.
            code = (
                said.split(":", 1)[0]
                if said[:1].isupper() or said.startswith("timeout")
                else "FAILED"
            )
            return ToolAnswer(
                text=f"{head}\n{said}", query=query, facts={"rcode": code.upper(), "answers": 0}
            )
        lines = [head]
        cnames = answer.chaining_result.cnames
        if cnames:
            chain = [name, *(str(rdata.target).rstrip(".") for c in cnames for rdata in c)]
            lines.append("  CNAME chain: " + " → ".join(chain))
            for cname in cnames:
                lines += _rows(cname)
        if answer.rrset is None:
            lines.append(f"  {answer.canonical_name} exists but has no {arguments.type} records")
        else:
            rows = _rows(answer.rrset)
            lines += rows[:_MAX_RECORDS]
            if len(rows) > _MAX_RECORDS:
                lines.append(f"  … {len(rows) - _MAX_RECORDS} more")
        found = 0 if answer.rrset is None else len(answer.rrset)
        return ToolAnswer(
            text="\n".join(lines), query=query, facts={"rcode": "NOERROR", "answers": found}
        )
