"""Self-tests of the fake Slack workspace, driven by the REAL Bolt app and slack_sdk.

If these pass, the fake speaks the same wire protocol as Slack as far as
slack_bolt 1.x / slack_sdk 3.x are concerned: Socket Mode envelopes and acks,
Web API encodings, files_upload_v2, private file downloads, rate limits and
reconnects. Every wait has a deadline; nothing sleeps and hopes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"
USER = "U0ALICE"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk reads HTTP(S)_PROXY but ignores NO_PROXY, so loopback would be proxied."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as workspace:
        yield workspace


@dataclass
class Bolt:
    """The real Bolt app wired to the fake through the real Socket Mode handler."""

    app: AsyncApp
    handler: AsyncSocketModeHandler
    client: AsyncWebClient


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[Bolt]:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    # Passing token= as well would only log "client prioritized and token skipped".
    app = AsyncApp(client=client)

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.chat_postMessage(
            channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text="pong"
        )

    @app.event({"type": "message", "subtype": "file_share"})
    async def on_file_share(event: dict[str, Any], client: AsyncWebClient) -> None:
        names = ", ".join(f["name"] for f in event["files"])
        thread_ts = event.get("thread_ts") or event["ts"]
        await client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts, text=names)

    @app.command("/faultmaven")
    async def on_command(command: dict[str, Any], ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack(response_type="ephemeral", text=f"investigating: {command['text']}")
        await respond(text="still on it", response_type="ephemeral")

    @app.action("fm_confirm")
    async def on_confirm(body: dict[str, Any], ack: AsyncAck, client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["container"]["message_ts"],
            text=f"confirmed {body['actions'][0]['value']} by <@{body['user']['id']}>",
        )

    # ping_interval=1: an abruptly dropped socket is only noticed by the SDK's
    # monitor task, which wakes every ping_interval seconds (Bolt default 10).
    handler = AsyncSocketModeHandler(
        app, fake.app_token, web_client=AsyncWebClient(base_url=fake.api_url), ping_interval=1
    )
    # connect() retries forever when the fake misbehaves: bound it.
    async with asyncio.timeout(10):
        await handler.connect_async()
    await fake.wait_for_connections(1, timeout=5)
    try:
        yield Bolt(app, handler, client)
    finally:
        await handler.close_async()


async def test_mention_is_acked_and_answered_in_thread(fake: FakeSlack, bolt: Bolt) -> None:
    event = fake.mention_event("ping", channel=CHANNEL, user=USER)
    envelope_id = await fake.send_event(event)

    ack = await fake.wait_for_ack(envelope_id, timeout=5)
    call = await fake.wait_for_call("chat.postMessage", timeout=5)

    assert ack.payload is None and ack.latency is not None and ack.latency < 3
    assert call.ok and call.token == fake.bot_token and call.http_verb == "POST"
    assert call.params["channel"] == CHANNEL
    assert call.params["thread_ts"] == event["ts"]
    assert call.params["text"] == "pong"
    # Bolt's authorization middleware resolved the bot identity through auth.test.
    assert fake.calls_to("auth.test")
    replies = await bolt.client.conversations_replies(channel=CHANNEL, ts=event["ts"])
    assert [m["text"] for m in replies["messages"]] == [event["text"], "pong"]
    assert fake.posted_messages(CHANNEL, event["ts"])[0]["ts"] == call.response["ts"]


async def test_file_share_event_reaches_a_message_listener(fake: FakeSlack, bolt: Bolt) -> None:
    root = fake.add_message(CHANNEL, "logs attached below", user=USER)
    shared = fake.add_file("app.log", b"boom", channel=CHANNEL, thread_ts=root["ts"])

    event = fake.file_share_event([shared], channel=CHANNEL, user=USER, thread_ts=root["ts"])
    envelope_id = await fake.send_event(event, retry_attempt=1, retry_reason="timeout")

    await fake.wait_for_ack(envelope_id, timeout=5)
    call = await fake.wait_for_call("chat.postMessage", lambda c: c.params["text"] == "app.log")
    assert call.params["thread_ts"] == root["ts"]
    assert fake.envelopes[-1]["retry_attempt"] == 1


async def test_unhandled_event_is_never_acked(fake: FakeSlack, bolt: Bolt) -> None:
    """Bolt answers 404 internally and sends no ack: real Slack would redeliver."""
    event = {"type": "reaction_added", "user": USER, "reaction": "eyes", "event_ts": "1.0"}
    envelope_id = await fake.send_event(event)

    with pytest.raises(AssertionError, match="ack of envelope"):
        await fake.wait_for_ack(envelope_id, timeout=0.5)


async def test_slash_command_ack_carries_response_payload(fake: FakeSlack, bolt: Bolt) -> None:
    envelope_id = await fake.send_slash_command(
        "/faultmaven", "db is slow", user_id=USER, channel_id=CHANNEL
    )

    ack = await fake.wait_for_ack(envelope_id, timeout=5)
    posted = await fake.wait_for_response(timeout=5)

    assert ack.payload == {"response_type": "ephemeral", "text": "investigating: db is slow"}
    assert posted.body == {"text": "still on it", "response_type": "ephemeral"}


async def test_block_action_updates_the_clicked_message(fake: FakeSlack, bolt: Bolt) -> None:
    root = fake.add_message(CHANNEL, "checkout is down", user=USER)
    card = await bolt.client.chat_postMessage(channel=CHANNEL, thread_ts=root["ts"], text="Fix?")

    envelope_id = await fake.send_block_action(
        "fm_confirm", "restart", user_id=USER, channel_id=CHANNEL, message_ts=card["ts"]
    )

    await fake.wait_for_ack(envelope_id, timeout=5)
    update = await fake.wait_for_call("chat.update", timeout=5)
    assert update.ok and update.params["ts"] == card["ts"]
    assert fake.thread(CHANNEL, root["ts"])[1]["text"] == f"confirmed restart by <@{USER}>"
    payload = fake.envelopes[-1]["payload"]
    assert payload["container"]["thread_ts"] == root["ts"]


async def test_private_file_needs_the_bot_token(fake: FakeSlack) -> None:
    content = b"ERROR db timeout\n" * 5000  # > one 16 KiB chunk
    shared = fake.add_file("app.log", content, channel=CHANNEL, thread_ts="1.0")
    broken = fake.add_file("gone.log", b"x", channel=CHANNEL, status=404)
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)

    info = (await client.files_info(file=shared["id"]))["file"]
    assert info["size"] == len(content) and info["mimetype"] == "text/plain"

    auth = {"Authorization": f"Bearer {fake.bot_token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(info["url_private"], headers=auth) as resp:
            assert resp.status == 200 and resp.content_type == "text/plain"
            assert await resp.read() == content
        async with http.get(info["url_private_download"]) as resp:
            # No token: Slack still says 200 but serves its sign-in page.
            assert resp.status == 200 and resp.content_type == "text/html"
            assert "<html" in await resp.text()
        async with http.get(broken["url_private"], headers=auth) as resp:
            assert resp.status == 404
    assert [(d.authorized, d.served) for d in fake.downloads] == [
        (True, "bytes"),
        (False, "html"),
        (True, "error"),
    ]


async def test_files_upload_v2_lands_in_the_thread(fake: FakeSlack) -> None:
    root = fake.add_message(CHANNEL, "incident thread", user=USER)
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)

    result = await client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=root["ts"],
        content=b"# Report\nroot cause: pool exhaustion\n",
        filename="report.md",
        title="Incident report",
        initial_comment="Here is the report",
    )

    upload = await fake.wait_for_upload(timeout=5)
    assert upload.content == b"# Report\nroot cause: pool exhaustion\n"
    assert (upload.channel_id, upload.thread_ts) == (CHANNEL, root["ts"])
    assert (upload.title, upload.initial_comment) == ("Incident report", "Here is the report")
    assert result["file"]["id"] == upload.file_id
    # getUploadURLExternal / completeUploadExternal send their args in the query string.
    assert fake.calls_to("files.getUploadURLExternal")[0].params["length"] == str(
        len(upload.content)
    )
    share = fake.thread(CHANNEL, root["ts"])[-1]
    assert share["subtype"] == "file_share" and share["files"][0]["id"] == upload.file_id


@pytest.mark.parametrize("graceful", [False, True], ids=["abrupt", "close-frame"])
async def test_reconnects_after_drop(fake: FakeSlack, bolt: Bolt, graceful: bool) -> None:
    assert await fake.drop_connections(graceful=graceful) == 1

    await fake.wait_for_connections(1, timeout=8)
    assert fake.connections_opened == 2
    assert len(fake.calls_to("apps.connections.open")) == 2

    envelope_id = await fake.send_event(fake.mention_event("still there?", channel=CHANNEL))
    await fake.wait_for_ack(envelope_id, timeout=5)
    await fake.wait_for_call("chat.postMessage", timeout=5)


async def test_disconnect_message_makes_the_client_reconnect(fake: FakeSlack, bolt: Bolt) -> None:
    started = time.monotonic()
    assert await fake.send_disconnect("refresh_requested") == 1

    await fake.wait_for_call("apps.connections.open", since=started, timeout=5)
    await fake.wait_for_connections(1, timeout=5)
    assert fake.connections_opened == 2

    envelope_id = await fake.send_event(fake.mention_event("after refresh", channel=CHANNEL))
    await fake.wait_for_ack(envelope_id, timeout=5)


async def test_rate_limit_is_only_retried_with_the_retry_handler(fake: FakeSlack) -> None:
    plain = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    with pytest.raises(SlackApiError) as raised:
        await plain.chat_postMessage(channel=CHANNEL, text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "0"
    assert fake.posted_messages() == []

    retrying = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    retrying.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    response = await retrying.chat_postMessage(channel=CHANNEL, text="y")

    assert response["ok"]
    statuses = [c.status for c in fake.calls_to("chat.postMessage")]
    assert statuses == [429, 429, 200]
    assert [m["text"] for m in fake.posted_messages()] == ["y"]


async def test_web_api_auth_errors_and_metadata(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    stranger = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)

    with pytest.raises(SlackApiError) as raised:
        await stranger.auth_test()
    assert raised.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("admin.nonsense")
    assert raised.value.response["error"] == "unknown_method"
    fake.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL, text="x")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "channel_not_found"

    root = await client.chat_postMessage(channel=CHANNEL, text="root")
    metadata = {"event_type": "fm_case", "event_payload": {"case_id": "c1"}}
    reply = await client.chat_postMessage(
        channel=CHANNEL, thread_ts=root["ts"], text="reply", metadata=metadata
    )
    assert float(reply["ts"]) > float(root["ts"])

    plain = await client.conversations_replies(channel=CHANNEL, ts=root["ts"])
    assert "metadata" not in plain["messages"][1]
    rich = await client.conversations_replies(
        channel=CHANNEL, ts=root["ts"], include_all_metadata=True
    )
    assert rich["messages"][1]["metadata"] == metadata
    assert rich["messages"][0]["reply_count"] == 1

    await client.reactions_add(channel=CHANNEL, timestamp=root["ts"], name="eyes")
    assert fake.thread(CHANNEL, root["ts"])[0]["reactions"][0]["name"] == "eyes"
    assert (await client.users_info(user=USER))["user"]["id"] == USER
    assert (await client.conversations_info(channel=CHANNEL))["channel"]["id"] == CHANNEL


async def test_wait_for_call_times_out_with_a_useful_message(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
    await client.auth_test()

    with pytest.raises(AssertionError, match=r"(?s)chat.postMessage.*auth.test"):
        await fake.wait_for_call("chat.postMessage", timeout=0.2)
