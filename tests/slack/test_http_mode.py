"""HTTP mode (SLACK_MODE=http): the real process takes Slack's events, slash commands and
button clicks as signed POSTs to /slack/events, from the fake workspace acting as Slack does
for an app with a Request URL (tests/fakes/slack_http.py). Forged and replayed requests are
refused before anything runs; retries of an event give one answer, whichever process takes
them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.cli.main import app as cli
from bot.runtime import Role, SlackProcess
from engine.core.config import Settings
from engine.ops import prometheus
from engine.store import investigation
from tests.fakes.slack_http import JSON, FakeSlackHttp, sign
from tests.slack.answers import only_one_reply_after_a_follow_up
from tests.slack.conftest import RunningBot, stop_all
from tests.slack.test_investigation import (
    BOB,
    CHANNEL,
    CONFIRM,
    LogWatch,
    open_investigation,
    queue_log,
    settled_with,
)
from tests.slack.test_ops_metrics import free_port

pytestmark = pytest.mark.slack
__all__ = ["queue_log"]  # a fixture, used by name

REPLAY_WINDOW_S = 5 * 60  # Slack's, enforced by Bolt


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackHttp]:
    async with FakeSlackHttp() as fake:
        yield fake


@dataclass
class HttpBot(RunningBot):
    url: str = ""  # its /slack/events


StartHttpBot = Callable[..., Awaitable[HttpBot]]


@pytest.fixture
async def start_http_bot(
    bot_settings: Settings, slack: FakeSlackHttp
) -> AsyncIterator[StartHttpBot]:
    """Start a FaultMaven process in HTTP mode (no app token, no socket); Slack's requests go
    to the last one started (set `slack.request_url` to choose)."""
    running: list[HttpBot] = []

    async def start(role: Role = "all", **overrides: Any) -> HttpBot:
        port = free_port()
        settings = bot_settings.model_copy(
            update={
                "slack_mode": "http",
                "slack_app_token": None,
                "slack_signing_secret": SecretStr(slack.signing_secret),
                "slack_http_port": port,
                **overrides,
            }
        )
        process = SlackProcess(settings, role)
        bot = HttpBot(process, asyncio.create_task(process.run()), "")
        running.append(bot)
        bot.url = slack.request_url = f"http://127.0.0.1:{port}/slack/events"
        listening = asyncio.create_task(slack.wait_until_listening(timeout=30))
        await asyncio.wait({bot.task, listening}, return_when=asyncio.FIRST_COMPLETED)
        if bot.task.done():  # it failed to start: say why rather than time out
            listening.cancel()
            bot.task.result()
            raise AssertionError("the process stopped before it listened")
        listening.result()
        return bot

    yield start
    await stop_all(running)


def counted(name: str, **labels: str) -> float:
    return prometheus.REGISTRY.get_sample_value(name, labels) or 0.0


async def answer_in(slack: FakeSlackHttp, event: dict[str, Any]) -> dict[str, Any]:
    call = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"], timeout=20
    )
    return call.params


async def test_a_signed_mention_is_answered_in_its_thread_and_metered(
    slack: FakeSlackHttp, start_http_bot: StartHttpBot
) -> None:
    ops_port = free_port()
    await start_http_bot(http_port=ops_port)
    mention = {"kind": "events_api", "type": "app_mention"}
    received = counted("faultmaven_events_received_total", **mention)
    acked = counted("faultmaven_events_acked_total", **mention)
    timed = counted("faultmaven_ack_latency_seconds_count", kind="events_api")

    event = slack.mention_event("checkout is throwing 502s since 14:00", channel=CHANNEL)
    envelope = await slack.send_event(event)

    assert slack.delivery_of(envelope).status == 200
    await slack.wait_for_ack(envelope)
    answer = await answer_in(slack, event)
    assert answer["channel"] == CHANNEL and answer["text"]
    assert counted("faultmaven_events_received_total", **mention) == received + 1
    assert counted("faultmaven_events_acked_total", **mention) == acked + 1
    assert counted("faultmaven_ack_latency_seconds_count", kind="events_api") == timed + 1
    # /readyz: the endpoint listens and the bot token works; no socket is involved.
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{ops_port}/readyz") as response,
    ):
        report = await response.json()
    assert response.status == 200, report
    assert report["checks"]["slack"] == "ok"
    assert slack.connections == [] and not slack.calls_to("apps.connections.open")
    assert slack.calls_to("auth.test")


async def test_saving_the_request_url_passes_slacks_challenge(
    slack: FakeSlackHttp, start_http_bot: StartHttpBot
) -> None:
    bot = await start_http_bot()
    sent = await slack.verify_url()
    assert sent.status == 200
    challenge = json.loads(slack.deliveries[-1].text)
    assert challenge["challenge"] and challenge == {"challenge": challenge["challenge"]}

    await bot.stop()  # the endpoint closes with the process: the balancer tries another
    with pytest.raises(aiohttp.ClientConnectionError):
        await slack.verify_url()


def run_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: dict[str, str], *args: str
) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for var in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_MODE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    result = CliRunner().invoke(cli, ["run", *args])
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


def test_http_mode_asks_for_the_signing_secret_not_the_app_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    nothing = run_cli(monkeypatch, tmp_path, {"SLACK_MODE": "http"})
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set" in nothing
    assert "SLACK_APP_TOKEN" not in nothing and "faultmaven manifest --http" in nothing
    no_secret = run_cli(monkeypatch, tmp_path, {"SLACK_MODE": "http", "SLACK_BOT_TOKEN": "xoxb-1"})
    assert "SLACK_SIGNING_SECRET is not set" in no_secret
    assert "Signing Secret under Basic Information" in no_secret
    # A worker takes no requests: it needs the bot token only.
    worker = run_cli(monkeypatch, tmp_path, {"SLACK_MODE": "http"}, "--role", "worker")
    first_sentence = worker.split(".")[0]
    assert "SLACK_BOT_TOKEN is not set" in first_sentence
    assert "SLACK_SIGNING_SECRET" not in first_sentence


def test_http_mode_wants_a_port_apart_from_the_operations_endpoints(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {
        "SLACK_MODE": "http",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_HTTP_PORT": "8080",
        "FAULTMAVEN_HTTP_PORT": "8080",
    }
    clash = run_cli(monkeypatch, tmp_path, env)
    assert "SLACK_HTTP_PORT and FAULTMAVEN_HTTP_PORT are both 8080" in clash


async def test_a_bad_signature_is_refused_and_nothing_is_done(
    slack: FakeSlackHttp, start_http_bot: StartHttpBot
) -> None:
    await start_http_bot()
    event = slack.mention_event("delete everything", channel=CHANNEL)
    body = slack.event_callback(event, "Ev0FORGED")
    received = counted("faultmaven_events_received_total", kind="events_api", type="app_mention")

    forged = await slack.post(body, JSON, signature="v0=" + "0" * 64)
    other_key = await slack.post(
        body, JSON, signature=sign("not-the-secret", int(time.time()), body)
    )
    unsigned = await slack.post(body, JSON, signature="")

    assert [forged.status, other_key.status, unsigned.status] == [401, 401, 401]
    assert (
        counted("faultmaven_events_received_total", kind="events_api", type="app_mention")
        == received
    )
    # Nothing was claimed or queued: the same event, signed, is answered once, now.
    envelope = await slack.send_event(event, event_id="Ev0FORGED")
    assert slack.delivery_of(envelope).status == 200
    await answer_in(slack, event)
    assert len(slack.posted_messages(CHANNEL, event["ts"])) == 1


async def test_a_request_older_than_the_replay_window_is_refused(
    slack: FakeSlackHttp, start_http_bot: StartHttpBot
) -> None:
    await start_http_bot()
    event = slack.mention_event("is payments down?", channel=CHANNEL)
    body = slack.event_callback(event, "Ev0REPLAY")
    now = int(time.time())

    replayed = await slack.post(body, JSON, timestamp=now - REPLAY_WINDOW_S - 60)
    from_the_future = await slack.post(body, JSON, timestamp=now + REPLAY_WINDOW_S + 60)

    assert (replayed.status, from_the_future.status) == (401, 401)
    assert not slack.posted_messages(CHANNEL, event["ts"])
    # Within the window (a slow network, a skewed clock) the same request is taken.
    late = await slack.post(body, JSON, timestamp=now - REPLAY_WINDOW_S + 60)
    assert late.status == 200
    await answer_in(slack, event)


async def test_a_signed_slash_command_is_answered(
    slack: FakeSlackHttp, start_http_bot: StartHttpBot
) -> None:
    await start_http_bot()

    helped = await slack.send_slash_command(text="help", channel_id=CHANNEL)
    opened = await slack.send_slash_command(
        text="open search latency p99 doubled", channel_id=CHANNEL, user_id="U0ALICE"
    )

    help_ack = await slack.wait_for_ack(helped)
    assert "/faultmaven open" in json.dumps(help_ack.payload)  # the answer is the response
    assert slack.delivery_of(opened).status == 200
    root = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.params.get("channel") == CHANNEL, timeout=20
    )
    assert "search latency p99 doubled" in root.params["text"]


async def test_a_signed_confirm_click_is_taken(
    slack: FakeSlackHttp, start_http_bot: StartHttpBot, pool: AsyncConnectionPool
) -> None:
    await start_http_bot()
    case = await open_investigation(slack, pool)

    envelope = await slack.click(CHANNEL, case.summary, CONFIRM, user_id=BOB)

    assert slack.delivery_of(envelope).status == 200
    sent = slack.envelopes[-1]
    assert sent["type"] == "interactive" and sent["payload"]["type"] == "block_actions"
    await settled_with(slack, case, f"(confirmed by <@{BOB}>)")
    [verdict] = await investigation.feedback(pool, case.case_id)
    assert (verdict.kind, verdict.author) == ("confirm", f"<@{BOB}>")


async def test_a_retried_delivery_to_another_process_gives_one_reply(
    slack: FakeSlackHttp, start_http_bot: StartHttpBot, queue_log: LogWatch
) -> None:
    # Two bot processes behind one load balancer: Slack's retry may reach either.
    first_bot = await start_http_bot()
    second_bot = await start_http_bot(role="bot")
    event = slack.mention_event("orders API timing out", channel=CHANNEL)

    slack.request_url = first_bot.url
    envelope = await slack.send_event(event, event_id="Ev0RETRIED")
    first = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"], timeout=20
    )
    slack.request_url = second_bot.url
    retry = await slack.redeliver(envelope)

    assert slack.delivery_of(retry).status == 200  # acked: Slack stops retrying
    assert slack.envelopes[-1]["retry_attempt"] == 1
    await queue_log.wait_for("duplicate delivery of Ev0RETRIED")
    await only_one_reply_after_a_follow_up(slack, CHANNEL, event["ts"], first)
