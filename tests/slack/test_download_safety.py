"""An upload whose file link points off Slack: that file is skipped with a clear line, the bot
token never reaches the other host, and the other files of the same upload are still read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.fakes.slack import FakeSlack
from tests.samples import checkout_log
from tests.slack.conftest import StartBot
from tests.slack.test_bot import CHANNEL, open_case_by_mention, text_of

pytestmark = pytest.mark.slack


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A server that is not Slack; records the headers of every request it gets."""
    seen: list[dict[str, str]] = []

    async def anything(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(text="2026-11-21 14:00:00 ERROR planted\n", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/{tail:.*}", anything)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    await runner.cleanup()


async def test_a_file_linked_off_slack_is_skipped_and_the_rest_are_read(
    slack: FakeSlack,
    start_bot: StartBot,
    elsewhere: tuple[str, list[dict[str, str]]],
) -> None:
    other_host, seen = elsewhere
    await start_bot()
    thread = await open_case_by_mention(slack)
    good = slack.add_file("checkout.log", checkout_log(), channel=CHANNEL, thread_ts=thread)
    planted = slack.make_file(
        "planted.log",
        b"2026-11-21 14:00:00 ERROR planted\n",
        channel=CHANNEL,
        thread_ts=thread,
        mimetype="text/plain",
        url_private=f"{other_host}/collect/planted.log",
    )

    await slack.send_event(
        slack.file_share_event([planted, good], channel=CHANNEL, thread_ts=thread)
    )

    # Two files get a "Reading 2 files" note first, which the summary then replaces.
    reply = await slack.wait_for_call(
        "chat.update",
        lambda c: c.params.get("channel") == CHANNEL and "40 ERROR" in c.params.get("text", ""),
        timeout=20,
    )
    shown = text_of(reply.params)
    assert "40 ERROR" in shown  # the good file was read
    assert "⚠️ planted.log was skipped" in shown
    assert "127.0.0.1" in shown and "not to Slack" in shown
    assert seen == []  # the other host was never asked, so it never saw the token
    downloads = [d for d in slack.downloads if d.authorized]
    assert len(downloads) == 1 and downloads[0].file_id == good["id"]
