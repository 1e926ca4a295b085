"""Fetch a web page for the knowledge base without letting a URL reach inside the network.

A URL given by a user (`/faultmaven kb add <url>`) is fetched by the server, so without care
it could read cloud metadata (169.254.169.254), an admin port on localhost or a service on the
private network (server-side request forgery). Every hop of the fetch is therefore vetted:

- http and https only;
- the host is resolved once (`resolve_host`) and refused when ANY of its addresses is not a
  public one (private, loopback, link-local, CGNAT, multicast, reserved, unspecified, or an
  IPv6 form of one of those), unless the operator allows private targets;
- the connection goes to the addresses that were vetted (a resolver pinned to them), so a
  DNS answer that changes between the check and the connect cannot slip through;
- redirects are followed by hand, at most `MAX_REDIRECTS`, each target vetted the same way;
- the body is read in chunks and refused past `max_bytes`; only text is accepted, and HTML
  is reduced to its readable text.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from engine.core.errors import FaultMavenError

MAX_REDIRECTS = 5
ALLOW_SETTING = "FAULTMAVEN_URL_ALLOW_PRIVATE"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_USER_AGENT = "FaultMaven/0.1 (knowledge fetch)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not covered by `is_global` on every Python version, or global but still not a web server.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(FaultMavenError):
    """A URL FaultMaven will not fetch: wrong scheme, or it points inside the network."""


class UrlFetchFailed(FaultMavenError):
    """A URL that could not be read: HTTP error, too big, not text, timeout."""


@dataclass(frozen=True)
class FetchedUrl:
    url: str  # final URL, after redirects
    content_type: str
    text: str  # readable text (HTML reduced to its text)
    title: str | None  # the HTML <title>, when there is one


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the seam tests replace to fake DNS answers)."""
    infos = await asyncio.to_thread(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


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


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None


def _target(url: str) -> tuple[URL, str, int]:
    """The parsed URL, its host and port; refuses anything but http(s) with a host."""
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise UnsafeUrl(f"{url} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https"):
        shown = f"{parsed.scheme}://" if parsed.scheme else "no scheme"
        raise UnsafeUrl(f"{url} uses {shown}; only http:// and https:// URLs can be added")
    if not parsed.host:
        raise UnsafeUrl(f"{url} has no host name")
    return parsed, parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)


async def vetted_addresses(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for `host`; UnsafeUrl when any of them is not public."""
    literal = _parse_ip(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolve_host(host, port)
        except (OSError, UnicodeError) as exc:
            raise UrlFetchFailed(f"could not resolve {host}: {exc}") from exc
        if not addresses:
            raise UrlFetchFailed(f"could not resolve {host}: no addresses")
    if allow_private:
        return addresses
    for address in addresses:
        ip = _parse_ip(address)
        kind = "unparsable" if ip is None else blocked_kind(ip)
        if kind is not None:
            shown = host if host == address else f"{host} ({address})"
            raise UnsafeUrl(
                f"{shown} points to a {kind} address {address}; set {ALLOW_SETTING}=true to allow"
            )
    return addresses


class _PinnedResolver(AbstractResolver):
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


# --- content --------------------------------------------------------------------------------

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/x-yaml",
        "application/yaml",
        "application/x-ndjson",
        "application/javascript",
        "application/xhtml+xml",
    }
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def _is_text(content_type: str) -> bool:
    return (
        content_type.startswith("text/")
        or content_type in _TEXT_TYPES
        or content_type.endswith(("+json", "+xml", "+yaml"))
    )


class _HtmlText(HTMLParser):
    """Readable text of an HTML page: no scripts, styles or tags, one line per block."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    _BLOCK = frozenset(
        {
            "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "pre",
            "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "blockquote", "dt", "dd",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skipping = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str | None]:
    """(readable text, title) of an HTML page."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    text = "\n".join(line for line in lines if line)
    title = re.sub(r"\s+", " ", "".join(parser.title_parts)).strip() or None
    return text, title


def _decode(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return body.decode("utf-8", errors="replace")


# --- fetch ----------------------------------------------------------------------------------


async def _read_capped(response: aiohttp.ClientResponse, url: str, max_bytes: int) -> bytes:
    too_big = UrlFetchFailed(
        f"{url} is larger than {max_bytes / 1_000_000:g} MB, the most FaultMaven reads from a URL"
    )
    if response.content_length is not None and response.content_length > max_bytes:
        raise too_big
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise too_big
    return bytes(body)


async def _hop(
    url: str, *, allow_private: bool, max_bytes: int
) -> tuple[str | None, FetchedUrl | None]:
    """One request: (next URL, None) for a redirect, or (None, the page)."""
    parsed, host, port = _target(url)
    addresses = await vetted_addresses(host, port, allow_private=allow_private)
    connector = aiohttp.TCPConnector(resolver=_PinnedResolver(host, addresses), use_dns_cache=False)
    headers = {"User-Agent": _USER_AGENT, "Accept": "text/html, text/*;q=0.9, */*;q=0.1"}
    async with (
        aiohttp.ClientSession(connector=connector, trust_env=False) as session,
        session.get(parsed, allow_redirects=False, headers=headers) as response,
    ):
        if response.status in _REDIRECTS:
            location = response.headers.get("Location")
            if not location:
                raise UrlFetchFailed(f"{url} redirects without saying where to")
            return str(response.url.join(URL(location))), None
        if response.status >= 400:
            raise UrlFetchFailed(
                f"{url} answered HTTP {response.status} {response.reason or ''}".strip()
            )
        content_type = (response.content_type or "").lower()
        if not _is_text(content_type):
            raise UrlFetchFailed(
                f"{url} is {content_type or 'of no stated type'}, not text or HTML; "
                "download it and upload the file to the case instead"
            )
        body = await _read_capped(response, url, max_bytes)
        text = _decode(body, response.charset)
        title = None
        if content_type in _HTML_TYPES:
            text, title = html_to_text(text)
        return None, FetchedUrl(url=url, content_type=content_type, text=text, title=title)


async def fetch_public_url(
    url: str, *, allow_private: bool = False, max_bytes: int = 5_000_000, timeout_s: float = 15.0
) -> FetchedUrl:
    """The text of `url`, refusing targets inside the network (see the module docstring).

    Raises UnsafeUrl for a refused target (at any redirect hop) and UrlFetchFailed when the
    page cannot be read; both carry a message fit to show the user.
    """
    current = url.strip()
    try:
        async with asyncio.timeout(timeout_s):
            for _ in range(MAX_REDIRECTS + 1):
                following, page = await _hop(
                    current, allow_private=allow_private, max_bytes=max_bytes
                )
                if page is not None:
                    return page
                assert following is not None
                current = following
    except TimeoutError as exc:
        raise UrlFetchFailed(f"{current} did not answer within {timeout_s:g} s") from exc
    except aiohttp.ClientError as exc:
        raise UrlFetchFailed(f"could not fetch {current}: {_describe(exc)}") from exc
    raise UrlFetchFailed(f"{url} redirects more than {MAX_REDIRECTS} times")


def _describe(exc: Any) -> str:
    return str(exc) or type(exc).__name__
