"""http_probe: what a URL answers, how fast, through which redirects, with which certificate.

Every hop is vetted like the first (engine/tools/probes/reach.py) and connects to the
addresses vetted for it. For https the certificate is checked first, the way a client would
(the system's CAs, or the source's `options.ca_file`; tls_check.py); when it does not verify
it is still shown, with the reason, and the request is made without verification and
without the source's token.
"""

from __future__ import annotations

import asyncio
import math
import os
import shlex
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Literal

import aiohttp
from pydantic import BaseModel, Field
from yarl import URL

from engine.core.addresses import PinnedResolver, parse_ip
from engine.core.wording import plural
from engine.tools.base import ToolAnswer, ToolError
from engine.tools.probes.certificates import describe, name_matches, read_certificate
from engine.tools.probes.reach import DEFAULT_TIMEOUT_S, ProbeSource, Reach
from engine.tools.probes.tls_check import TlsSeen, check_tls

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SHOWN_HEADERS = ("location", "retry-after", "server", "content-type")
_BODY_CHARS = 300
_READ_BYTES = 64 * 1024
_USER_AGENT = "FaultMaven/0.1 (http probe)"


class HttpProbeParameters(BaseModel):
    url: str = Field(min_length=1, max_length=2000, description="an http:// or https:// URL")
    method: Literal["GET", "HEAD"] = "GET"
    follow_redirects: bool = True
    source: str | None = Field(
        default=None,
        description=(
            "an http source to probe through: its bearer token (sent only to hosts it "
            "covers), its CA file and its nameserver"
        ),
    )


def _target(url: str) -> tuple[URL, str, int]:
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        raise ToolError(f"{url!r} is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ToolError(f"{url!r} is not an http:// or https:// URL with a host")
    return parsed, parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:,.0f} ms"


@dataclass
class _Clock:
    """Moments of one request, from aiohttp's tracing (monotonic seconds)."""

    start: float = field(default_factory=time.monotonic)
    connect_start: float | None = None
    connect_end: float | None = None
    first_byte: float | None = None
    done: float | None = None

    def trace(self) -> aiohttp.TraceConfig:
        config = aiohttp.TraceConfig()

        async def connect_start(*_: object) -> None:
            self.connect_start = time.monotonic()

        async def connect_end(*_: object) -> None:
            self.connect_end = time.monotonic()

        async def headers_in(*_: object) -> None:  # sent once the status line and headers arrive
            self.first_byte = time.monotonic()

        config.on_connection_create_start.append(connect_start)
        config.on_connection_create_end.append(connect_end)
        config.on_request_end.append(headers_in)
        return config

    def text(self, tls: bool) -> str:
        parts = []
        if self.connect_start is not None and self.connect_end is not None:
            label = "connect+TLS" if tls else "connect"
            parts.append(f"{label} {_ms(self.connect_end - self.connect_start)}")
        if self.first_byte is not None:
            parts.append(f"first byte {_ms(self.first_byte - self.start)}")
        if self.done is not None:
            parts.append(f"total {_ms(self.done - self.start)}")
        return " · ".join(parts)


@dataclass
class _Hop:
    method: str
    url: str
    host: str
    port: int
    tls: bool
    clock: _Clock = field(default_factory=_Clock)
    peer: str | None = None
    status: int | None = None
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    next_url: str | None = None
    tls_seen: TlsSeen | None = None
    token_withheld: bool = False
    error: str | None = None

    def lines(self, *, last: bool) -> list[str]:
        if self.error is not None:
            return [f"✗ {self.method} {self.url}: {self.error}"]
        where = f" · {self.peer}" if self.peer else ""
        timing = self.clock.text(self.tls)
        lines = [
            f"{self.method} {self.url} → {self.status} {self.reason}{where}"
            + (f" · {timing}" if timing else "")
        ]
        shown = [f"{name}: {self.headers[name]}" for name in _SHOWN_HEADERS if name in self.headers]
        if shown:
            lines.append("  " + " · ".join(shown))
        if self.tls_seen is not None and self.tls_seen.verify_error is not None:
            withheld = ", and without the source's token" if self.token_withheld else ""
            lines.append(f"  (requested without verifying the certificate{withheld})")
        if last and self.body:
            lines.append(f"  body: {self.body}")
        return lines


def _context(via: ProbeSource | None) -> ssl.SSLContext:
    """A verifying context: the system's CAs, or only the source's CA file (as curl --cacert)."""
    ca_file = via.ca_file if via else None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        assert via is not None
        raise ToolError(
            f"source {via.name!r}: options.ca_file {ca_file} cannot be used: {exc}"
        ) from None


def _token_for(via: ProbeSource | None, host: str, addresses: list[str]) -> str | None:
    """The source's token, only for a host the source covers (never to a redirect elsewhere)."""
    if via is None:
        return None
    covered = via.covers(host, None) or all(via.covers(host, parse_ip(a)) for a in addresses)
    return via.source.secret() if covered else None


def _facts(hops: list[_Hop]) -> dict[str, object]:
    """The numbers a hypothesis's check judges by: the last hop's status and the first TLS
    hop's certificate (days left, whether it verifies and for that host)."""
    facts: dict[str, object] = {}
    answered = [hop for hop in hops if hop.status is not None]
    if answered:
        facts["status"] = answered[-1].status
    for hop in hops:
        seen = hop.tls_seen
        if seen is None or not seen.certificate:
            continue
        cert = read_certificate(seen.certificate)
        left = (cert.not_after - datetime.now(UTC)).total_seconds()
        facts["days_left"] = math.floor(left / 86_400)
        matches = name_matches(cert, hop.host)
        facts["verified"] = seen.verify_error is None and matches
        if seen.verify_error is not None or not matches:
            facts["problem"] = seen.verify_error or f"not valid for {hop.host}"
        break
    return facts


class HttpProbe:
    name: ClassVar[str] = "http_probe"
    description: ClassVar[str] = (
        "Request a URL (GET or HEAD) and report its status, latency, redirect chain, the "
        "headers that matter and, for https, the TLS certificate: names, issuer, expiry and "
        "whether it verifies. Private and loopback targets only where an admin allows them."
    )
    parameters: ClassVar[type[BaseModel]] = HttpProbeParameters

    def __init__(self, reach: Reach) -> None:
        self.reach = reach

    async def answer(self, arguments: HttpProbeParameters) -> ToolAnswer:
        via = self.reach.pick(arguments.source)
        timeout_s = via.timeout_s if via else DEFAULT_TIMEOUT_S
        current = arguments.url.strip()
        first_host, first_addresses = "", [""]
        hops: list[_Hop] = []
        stopped: str | None = None
        for _ in range(MAX_REDIRECTS + 1):
            try:
                parsed, host, port = _target(current)
                addresses = await self.reach.vetted(host, port, via)
            except ToolError as exc:
                if not hops:
                    raise
                stopped = f"✗ redirect to {current} not followed: {exc}"
                break
            if not hops:
                first_host, first_addresses = host, addresses
            hop = _Hop(arguments.method, current, host, port, parsed.scheme == "https")
            hops.append(hop)
            await self._request(hop, parsed, addresses, via, timeout_s)
            if hop.next_url is None or not arguments.follow_redirects:
                break
            current = hop.next_url
        else:
            stopped = f"✗ stopped: more than {MAX_REDIRECTS} redirects"
        return ToolAnswer(
            text=self._text(hops, stopped),
            query=self._curl(arguments, via, first_host, first_addresses),
            facts=_facts(hops),
        )

    async def _request(
        self,
        hop: _Hop,
        parsed: URL,
        addresses: list[str],
        via: ProbeSource | None,
        timeout_s: float,
    ) -> None:
        token = _token_for(via, hop.host, addresses)
        verify: ssl.SSLContext | bool = True
        if hop.tls:
            context = _context(via)
            hop.tls_seen = seen = await check_tls(hop.host, addresses, hop.port, context, timeout_s)
            if seen.error is not None:
                hop.error = seen.error
                return
            hop.peer = seen.peer
            # A server that is not trusted gets neither verification nor the token.
            if seen.verify_error is not None:
                verify, hop.token_withheld, token = False, token is not None, None
            else:
                verify = context
        elif len(addresses) == 1:
            hop.peer = addresses[0]
        try:
            await self._send(hop, parsed, addresses, verify, token, timeout_s)
        except (aiohttp.ClientError, TimeoutError) as exc:
            hop.error = _failure(exc, hop, addresses, timeout_s)

    async def _send(
        self,
        hop: _Hop,
        parsed: URL,
        addresses: list[str],
        verify: ssl.SSLContext | bool,
        token: str | None,
        timeout_s: float,
    ) -> None:
        hop.clock = _Clock()  # the TLS check before is timed on its own
        headers = {"User-Agent": _USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connector = aiohttp.TCPConnector(
            resolver=PinnedResolver(hop.host, addresses), use_dns_cache=False, force_close=True
        )
        async with (
            aiohttp.ClientSession(
                connector=connector,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
                trace_configs=[hop.clock.trace()],
                auto_decompress=False,
            ) as session,
            session.request(
                hop.method, parsed, allow_redirects=False, headers=headers, ssl=verify
            ) as response,
        ):
            hop.status, hop.reason = response.status, response.reason or ""
            hop.headers = {
                name: response.headers[name] for name in _SHOWN_HEADERS if name in response.headers
            }
            body = bytearray()
            if hop.method != "HEAD":
                async for chunk in response.content.iter_chunked(16 * 1024):
                    body += chunk
                    if len(body) >= _READ_BYTES:
                        break
            hop.clock.done = time.monotonic()
            if not 200 <= response.status < 300 and body:
                text = body.decode(response.charset or "utf-8", errors="replace")
                hop.body = " ".join(text.split())[:_BODY_CHARS]
            location = response.headers.get("Location")
            if response.status in _REDIRECTS and location:
                hop.next_url = str(response.url.join(URL(location)))

    def _text(self, hops: list[_Hop], stopped: str | None) -> str:
        last = hops[-1]
        lines: list[str] = []
        if last.error is None:
            redirects = len(hops) - 1
            after = f" after {plural(redirects, 'redirect')}" if redirects else ""
            lines.append(f"{last.status} {last.reason} from {last.url}{after}")
        for i, hop in enumerate(hops):
            lines += hop.lines(last=i == len(hops) - 1 and stopped is None)
        if stopped:
            lines.append(stopped)
        shown: set[tuple[str, int]] = set()
        for hop in hops:
            seen = hop.tls_seen
            if seen is None or not seen.certificate or (hop.host, hop.port) in shown:
                continue
            shown.add((hop.host, hop.port))
            timing = f"TCP {_ms(seen.tcp_s or 0)}, handshake {_ms(seen.handshake_s or 0)}"
            lines.append(f"TLS certificate of {hop.host}:{hop.port} ({timing}):")
            try:
                cert = read_certificate(seen.certificate)
            except ValueError as exc:
                lines.append(f"  ⚠ unreadable certificate: {exc}")
                continue
            lines += describe(cert, hop.host, verify_error=seen.verify_error)
        return "\n".join(lines)

    def _curl(
        self,
        arguments: HttpProbeParameters,
        via: ProbeSource | None,
        host: str,
        addresses: list[str],
    ) -> str:
        argv = ["curl", "-sv"]
        if arguments.method == "HEAD":
            argv.append("-I")
        if arguments.follow_redirects:
            argv.append("-L")
        if via is not None:
            if via.ca_file:
                argv += ["--cacert", via.ca_file]
            if via.source.credentials_env:
                argv += ["--oauth2-bearer", f"${via.source.credentials_env}"]
            if via.nameserver is not None and parse_ip(host) is None:
                _, _, port = _target(arguments.url.strip())
                pinned = f"[{addresses[0]}]" if ":" in addresses[0] else addresses[0]
                argv += ["--resolve", f"{host}:{port}:{pinned}"]
        argv.append(arguments.url.strip())
        # The token stays an environment variable a person expands, never its value.
        return " ".join(f'"{a}"' if a.startswith("$") else shlex.quote(a) for a in argv)


def _failure(exc: BaseException, hop: _Hop, addresses: list[str], timeout_s: float) -> str:
    at = f"{hop.host}:{hop.port}" + (
        "" if addresses == [hop.host] else f" ({', '.join(addresses)})"
    )
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return f"no answer from {at} within {timeout_s:g} s"
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return f"TLS handshake with {at} failed: {exc.os_error or exc}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        # asyncio words a refusal "Connect call failed (...)"; the errno says what it was.
        code = exc.os_error.errno if exc.os_error else None
        why = os.strerror(code) if code else str(exc.os_error or exc)
        return f"cannot connect to {at}: {why.lower()}"
    return f"{at} failed to answer: {exc or type(exc).__name__}"
