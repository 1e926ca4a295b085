"""The bot token goes only to Slack's file hosts: SlackFileSource against two real HTTP servers,
one standing in for Slack (SLACK_API_URL's host) and one for a host a link must not reach.

The end-to-end view (an upload with one off-Slack link among good files) is in
tests/slack/test_download_safety.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.slack_io import MAX_DOWNLOAD_REDIRECTS, SlackFileSource, is_slack_file_url, web_client
from engine.core.errors import DownloadFailed
from engine.core.models import FileRef

TOKEN = "xoxb-111-222-downloadsecret"
LOG = b"2026-11-21 14:00:00 ERROR upstream timed out\n"


class Recorder:
    """An HTTP server that records every request's path and Authorization header."""

    def __init__(self, routes: list[web.RouteDef]) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.app = web.Application(middlewares=[self._record])
        self.app.add_routes(routes)
        self.base = ""

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.seen.append((request.path, request.headers.get("Authorization")))
        return await handler(request)


async def _serve(recorder: Recorder) -> web.AppRunner:
    runner = web.AppRunner(recorder.app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    recorder.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner


@pytest.fixture
async def elsewhere() -> AsyncIterator[Recorder]:
    async def anything(request: web.Request) -> web.Response:
        return web.Response(body=LOG, content_type="text/plain")

    recorder = Recorder([web.get("/{tail:.*}", anything)])
    runner = await _serve(recorder)
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def slack(elsewhere: Recorder) -> AsyncIterator[Recorder]:
    async def file(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(text="<html>sign in</html>", content_type="text/html")
        return web.Response(body=LOG, content_type="text/plain")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/loop/{int(request.match_info['n']) + 1}")

    recorder = Recorder(
        [web.get("/files/app.log", file), web.get("/hop", redirect), web.get("/loop/{n}", loop)]
    )
    runner = await _serve(recorder)
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def source(slack: Recorder) -> AsyncIterator[SlackFileSource]:
    files = SlackFileSource(web_client(TOKEN, f"{slack.base}/api/"), TOKEN)
    yield files
    await files.close()


def ref(url: str) -> FileRef:
    return FileRef(source_id="F1", name="app.log", mimetype="text/plain", url=url)


async def test_a_slack_hosted_file_is_fetched_with_the_token(
    source: SlackFileSource, slack: Recorder
) -> None:
    assert await source.fetch(ref(f"{slack.base}/files/app.log"), 1_000_000) == LOG
    assert slack.seen == [("/files/app.log", f"Bearer {TOKEN}")]


async def test_a_link_to_another_host_is_refused_before_any_request(
    source: SlackFileSource, elsewhere: Recorder
) -> None:
    with pytest.raises(DownloadFailed) as refused:
        await source.fetch(ref(f"{elsewhere.base}/files/app.log"), 1_000_000)
    assert "app.log was skipped" in refused.value.user_message
    assert "not to Slack" in refused.value.user_message
    assert elsewhere.seen == []


async def test_a_redirect_off_slack_is_not_followed_with_the_token(
    source: SlackFileSource, slack: Recorder, elsewhere: Recorder
) -> None:
    with pytest.raises(DownloadFailed, match="not to Slack"):
        await source.fetch(ref(f"{slack.base}/hop?to={elsewhere.base}/steal"), 1_000_000)
    assert [path for path, _ in slack.seen] == ["/hop"]
    assert elsewhere.seen == []


async def test_a_redirect_within_slack_keeps_the_token(
    source: SlackFileSource, slack: Recorder
) -> None:
    assert await source.fetch(ref(f"{slack.base}/hop?to=/files/app.log"), 1_000_000) == LOG
    assert slack.seen[-1] == ("/files/app.log", f"Bearer {TOKEN}")


async def test_redirects_are_bounded(source: SlackFileSource, slack: Recorder) -> None:
    with pytest.raises(DownloadFailed, match=r"redirected the download of app\.log too many"):
        await source.fetch(ref(f"{slack.base}/loop/0"), 1_000_000)
    assert len(slack.seen) == MAX_DOWNLOAD_REDIRECTS + 1


API = "https://slack.com/api/"


@pytest.mark.parametrize(
    ("url", "api_url", "trusted"),
    [
        ("https://files.slack.com/files-pri/T1-F1/app.log", API, True),
        ("https://files-edge.slack.com/x", API, True),
        ("https://a.slack-edge.com/x", API, True),
        ("https://slack.com/x", API, True),
        ("http://files.slack.com/x", API, False),  # the token never goes in clear
        ("https://files.slack.com:8443/x", API, False),
        ("https://files.slack.com.evil.example/x", API, False),
        ("https://evilslack.com/x", API, False),
        ("https://files.slack.com@evil.example/x", API, False),
        ("https://example.com/files.slack.com/x", API, False),
        ("ftp://files.slack.com/x", API, False),
        ("not a url", API, False),
        ("https://files.slack-gov.com/x", "https://slack-gov.com/api/", True),
        ("https://files.slack-gov.com/x", API, False),
        ("http://127.0.0.1:4000/files/F1", "http://127.0.0.1:4000/api/", True),
        ("http://127.0.0.1:4001/files/F1", "http://127.0.0.1:4000/api/", False),
        ("https://127.0.0.1:4000/files/F1", "http://127.0.0.1:4000/api/", False),
    ],
)
def test_which_hosts_get_the_token(url: str, api_url: str, trusted: bool) -> None:
    assert is_slack_file_url(url, api_url) is trusted
