"""GET JSON from a configured source's HTTP API (Prometheus, Alertmanager): read-only.

One request per call: the source's bearer token when it has one, its time limit, a cap on
the size of the answer, and every failure said in words a person can act on (the server
refused the connection, answered an HTTP error with its own message, answered something
that is not JSON). Redirects are not followed: the token must not travel to another host,
and a source URL that redirects is a configuration to fix, said as such.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from engine.tools.base import ToolError
from engine.tools.sources import Source

MAX_BYTES = 16 * 1024 * 1024  # a query_range of a few hundred series fits easily
_CHUNK = 64 * 1024
_SHOWN_ERROR_CHARS = 300
_USER_AGENT = "FaultMaven/0.1 (live tools)"

Params = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass(frozen=True)
class JsonReply:
    data: Any  # the parsed JSON
    body: bytes  # exactly as the server sent it (a query_range result becomes evidence)
    url: str  # what was asked, without credentials: to cite or open by hand


def base_url(source: Source) -> URL:
    """The source's URL without user and password (safe to show), or a clear error."""
    if not source.url:
        raise ToolError(f"source {source.name!r} has no url configured")
    try:
        url = URL(source.url)
    except (TypeError, ValueError) as exc:
        raise ToolError(f"source {source.name!r} has a bad url: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ToolError(f"source {source.name!r}: url must be http(s)://host[:port][/path]")
    return url.with_user(None)


def endpoint(source: Source, path: str, params: Params | None = None) -> URL:
    """`path` under the source's base URL (a prefix such as /prometheus is kept); without
    credentials, so it may be shown."""
    return _join(base_url(source), path, params)


def _join(base: URL, path: str, params: Params | None) -> URL:
    url = base.with_path(base.path.rstrip("/") + "/" + path.lstrip("/"))
    return url.with_query(params) if params else url


def _unreachable(exc: aiohttp.ClientConnectorError) -> str:
    """'connection refused', 'cannot resolve the host name': the socket's reason in words."""
    error = exc.os_error
    if isinstance(error, socket.gaierror):
        return "cannot resolve the host name"
    if error is not None and error.errno and error.errno > 0:
        return os.strerror(error.errno).lower()
    return str(exc)


def _server_error(body: bytes) -> str | None:
    """The server's own words in an error body: Prometheus' `error`, Alertmanager's
    `message` or its bare JSON string, else the text itself."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return text[:_SHOWN_ERROR_CHARS] or None
    if isinstance(doc, str):
        return doc[:_SHOWN_ERROR_CHARS]
    if isinstance(doc, dict):
        message = doc.get("error") or doc.get("message")
        if message:
            kind = doc.get("errorType")
            return (f"{kind}: {message}" if kind else str(message))[:_SHOWN_ERROR_CHARS]
    return text[:_SHOWN_ERROR_CHARS] or None


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


async def _read_capped(response: aiohttp.ClientResponse, name: str, max_bytes: int) -> bytes:
    body = bytearray()
    async for chunk in response.content.iter_chunked(_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise ToolError(
                f"{name} answered with more than {_size(max_bytes)}; "
                "narrow the query (fewer series, a shorter range or a larger step)"
            )
    return bytes(body)


async def get_json(
    source: Source, path: str, params: Params | None = None, *, max_bytes: int = MAX_BYTES
) -> JsonReply:
    """GET `path` of `source` and parse its JSON; ToolError in words on any failure."""
    url = endpoint(source, path, params)
    token = source.secret()
    headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    name = f"{source.name} ({base_url(source)})"
    # Asked at the configured URL, which keeps its user:password (basic auth) if it has
    # one; a bearer token, when set, replaces them (a request carries one Authorization).
    request_url = url if token else _join(URL(str(source.url)), path, params)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=source.timeout_s)) as http,
            http.get(request_url, headers=headers, allow_redirects=False) as response,
        ):
            body = await _read_capped(response, source.name, max_bytes)
            status, reason = response.status, response.reason or ""
            content_type = response.content_type
            location = response.headers.get("Location", "")
    except aiohttp.ClientConnectorError as exc:
        raise ToolError(f"cannot reach {name}: {_unreachable(exc)}") from exc
    except TimeoutError as exc:
        raise ToolError(f"{name} did not answer within {source.timeout_s:g} s") from exc
    except aiohttp.ClientError as exc:
        raise ToolError(f"{name} failed to answer: {exc or type(exc).__name__}") from exc
    if 300 <= status < 400:
        raise ToolError(
            f"{name} redirects {url.path} to {location or 'elsewhere'}; "
            "set the source's url to where its API answers"
        )
    if status >= 400:
        said = _server_error(body)
        hint = ""
        if status in (401, 403):
            hint = (
                f" (check the token in {source.credentials_env})"
                if source.credentials_env
                else " (the source needs credentials_env with a token)"
            )
        raise ToolError(
            f"{name} answered HTTP {status} {reason}{hint}" + (f": {said}" if said else "")
        )
    try:
        data = json.loads(body)
    except ValueError:
        start = body[:120].decode("utf-8", errors="replace").strip()
        raise ToolError(
            f"{name} answered {content_type or 'something'} that is not JSON "
            f"({start!r}); is {base_url(source)} the base URL of its API?"
        ) from None
    return JsonReply(data=data, body=body, url=str(url))
