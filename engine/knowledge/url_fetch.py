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

The address rules themselves (what counts as inside, resolving once, pinning) are in
engine/core/addresses.py, shared with the network probes of engine/tools.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import aiohttp
from yarl import URL

from engine.core.addresses import IPAddress as IPAddress  # the type of what blocked_kind judges
from engine.core.addresses import (
    PinnedResolver,
    UnresolvedHost,
    addresses_of,
    blocked_kind,
    refusal,
    resolve_host,
)
from engine.core.errors import FaultMavenError

MAX_REDIRECTS = 5
ALLOW_SETTING = "FAULTMAVEN_URL_ALLOW_PRIVATE"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_USER_AGENT = "FaultMaven/0.1 (knowledge fetch)"


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
    try:
        # `resolve_host` and `blocked_kind` are looked up here at each call: tests fake them.
        addresses = await addresses_of(host, port, resolve=resolve_host)
    except UnresolvedHost as exc:
        raise UrlFetchFailed(exc.user_message) from exc
    if allow_private:
        return addresses
    why = refusal(host, addresses, judge=blocked_kind)
    if why is not None:
        raise UnsafeUrl(f"{why}; set {ALLOW_SETTING}=true to allow")
    return addresses


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
    connector = aiohttp.TCPConnector(resolver=PinnedResolver(host, addresses), use_dns_cache=False)
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
