"""fetch_public_url against a real HTTP server on this machine.

The server listens on 127.0.0.1, which the fetcher rightly refuses; tests that need it to
count as "public" say so by name (`treat_as_public`), which exempts that one address from
the classifier and nothing else, so a redirect to any other inside address is still judged
for real.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from engine.knowledge import url_fetch
from engine.knowledge.url_fetch import MAX_REDIRECTS, UnsafeUrl, UrlFetchFailed, fetch_public_url

PAGE = """<!doctype html><html><head><title>Postgres failover</title>
<script>steal()</script></head><body><h1>Failover</h1><p>Promote the replica.</p></body></html>"""


class Site:
    """A small web server; `base` is its root URL on 127.0.0.1."""

    def __init__(self) -> None:
        self.base = ""
        self.hits: list[str] = []
        self.release = asyncio.Event()  # the slow page answers once this is set
        self.app = web.Application(middlewares=[self._count])
        self.app.router.add_get("/runbook", self._runbook)
        self.app.router.add_get("/plain", self._plain)
        self.app.router.add_get("/big", self._big)
        self.app.router.add_get("/image", self._image)
        self.app.router.add_get("/missing", self._missing)
        self.app.router.add_get("/slow", self._slow)
        self.app.router.add_get("/to", self._to)
        self.app.router.add_get("/loop/{n}", self._loop)

    @web.middleware
    async def _count(
        self, request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.hits.append(request.path)
        return await handler(request)

    async def _runbook(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def _plain(self, request: web.Request) -> web.Response:
        return web.Response(
            body="niveau: élevé\n".encode("latin-1"), content_type="text/plain", charset="latin-1"
        )

    async def _big(self, request: web.Request) -> web.StreamResponse:
        # Streamed without a Content-Length, so only the running count can stop it.
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"x" * 16_384)
        await response.write_eof()
        return response

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")

    async def _missing(self, request: web.Request) -> web.Response:
        return web.Response(status=404, text="no such page")

    async def _slow(self, request: web.Request) -> web.Response:
        await self.release.wait()
        return web.Response(text="late")

    async def _to(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["target"])

    async def _loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/loop/{int(request.match_info['n']) + 1}")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    served = Site()
    runner = web.AppRunner(served.app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = runner.addresses[0][1]
    served.base = f"http://127.0.0.1:{port}"
    try:
        yield served
    finally:
        served.release.set()
        await runner.cleanup()


@pytest.fixture
def treat_as_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 (the test server) counts as public; every other address is judged as usual."""
    judge = url_fetch.blocked_kind

    def blocked_kind(ip: url_fetch.IPAddress) -> str | None:
        return None if ip == ipaddress.ip_address("127.0.0.1") else judge(ip)

    monkeypatch.setattr(url_fetch, "blocked_kind", blocked_kind)


def fake_dns(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]
) -> list[tuple[str, int]]:
    """Serve `answers` from `url_fetch.resolve_host`; returns the log of lookups."""
    lookups: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> list[str]:
        lookups.append((host, port))
        return answers[host]

    monkeypatch.setattr(url_fetch, "resolve_host", resolve)
    return lookups


async def test_loopback_is_refused_by_default_and_nothing_is_requested(site: Site) -> None:
    with pytest.raises(UnsafeUrl, match="loopback"):
        await fetch_public_url(f"{site.base}/runbook")
    assert site.hits == []


async def test_loopback_is_fetched_when_allowed(site: Site) -> None:
    page = await fetch_public_url(f"{site.base}/runbook", allow_private=True)
    assert page.url == f"{site.base}/runbook"
    assert page.content_type == "text/html"
    assert page.title == "Postgres failover"
    assert page.text == "Failover\nPromote the replica."


async def test_text_is_decoded_with_its_charset(site: Site) -> None:
    page = await fetch_public_url(f"{site.base}/plain", allow_private=True)
    assert page.text == "niveau: élevé\n"
    assert page.title is None


async def test_the_connection_goes_to_the_vetted_address(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name no real DNS knows: the page can only be reached through the answer that was
    # vetted, looked up once; the connection never asks DNS again (no rebinding window).
    lookups = fake_dns(monkeypatch, {"wiki.corp.test": ["127.0.0.1"]})
    port = int(site.base.rsplit(":", 1)[1])
    page = await fetch_public_url(f"http://wiki.corp.test:{port}/runbook", allow_private=True)
    assert page.title == "Postgres failover"
    assert lookups == [("wiki.corp.test", port)]


async def test_a_redirect_to_a_private_address_is_refused(
    site: Site, treat_as_public: None
) -> None:
    target = "http://10.0.0.5/admin"
    with pytest.raises(UnsafeUrl) as refused:
        await fetch_public_url(f"{site.base}/to?target={target}")
    assert "10.0.0.5" in refused.value.user_message
    assert site.hits == ["/to"]


async def test_a_redirect_to_a_name_for_metadata_is_refused(
    site: Site, treat_as_public: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"cdn.example.com": ["169.254.169.254"]})
    with pytest.raises(UnsafeUrl, match=re.escape("link-local address 169.254.169.254")):
        await fetch_public_url(f"{site.base}/to?target=http://cdn.example.com/latest/meta-data/")


async def test_a_redirect_to_another_loopback_address_is_refused(
    site: Site, treat_as_public: None
) -> None:
    port = int(site.base.rsplit(":", 1)[1])
    with pytest.raises(UnsafeUrl, match="loopback"):
        await fetch_public_url(f"{site.base}/to?target=http://127.0.0.2:{port}/runbook")


async def test_a_redirect_to_another_scheme_is_refused(site: Site, treat_as_public: None) -> None:
    with pytest.raises(UnsafeUrl, match="only http:// and https://"):
        await fetch_public_url(f"{site.base}/to?target=file:///etc/passwd")


async def test_a_redirect_between_allowed_pages_is_followed(
    site: Site, treat_as_public: None
) -> None:
    page = await fetch_public_url(f"{site.base}/to?target=/runbook")
    assert page.url == f"{site.base}/runbook"
    assert page.title == "Postgres failover"


async def test_redirects_stop_after_the_limit(site: Site) -> None:
    with pytest.raises(UrlFetchFailed, match=f"redirects more than {MAX_REDIRECTS} times"):
        await fetch_public_url(f"{site.base}/loop/0", allow_private=True)
    assert len(site.hits) == MAX_REDIRECTS + 1


async def test_a_page_too_big_is_refused_while_streaming(site: Site) -> None:
    with pytest.raises(UrlFetchFailed) as failed:
        await fetch_public_url(f"{site.base}/big", allow_private=True, max_bytes=100_000)
    assert "larger than 0.1 MB" in failed.value.user_message
    page = await fetch_public_url(f"{site.base}/big", allow_private=True, max_bytes=2_000_000)
    assert len(page.text) == 64 * 16_384


async def test_a_binary_file_is_refused_with_its_type(site: Site) -> None:
    with pytest.raises(UrlFetchFailed) as failed:
        await fetch_public_url(f"{site.base}/image", allow_private=True)
    assert "image/png, not text or HTML" in failed.value.user_message
    assert "upload the file" in failed.value.user_message


async def test_an_http_error_is_reported(site: Site) -> None:
    with pytest.raises(UrlFetchFailed, match="answered HTTP 404 Not Found"):
        await fetch_public_url(f"{site.base}/missing", allow_private=True)


async def test_a_server_that_does_not_answer_times_out(site: Site) -> None:
    with pytest.raises(UrlFetchFailed, match=re.escape("did not answer within 0.3 s")):
        await fetch_public_url(f"{site.base}/slow", allow_private=True, timeout_s=0.3)
