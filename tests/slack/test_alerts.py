"""Alerts open cases, end to end: Alertmanager's webhook posted over HTTP to the real process
(its operations port), and an alert another integration posts in a channel, against the fake
Slack workspace. The bot and the worker run as in production (bot/runtime.py)."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.ids import ActionId
from engine.core.alert_routes import AlertRoute
from tests.fakes.slack import FakeSlack, buttons
from tests.samples import alertmanager as am
from tests.slack.answers import shown_in_thread, wait_for_answer
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

TOKEN = "am-webhook-token-5f1c"
PAYMENTS, DEFAULT = "C0PAY", "C0ALERTS"
INVESTIGATE = ActionId.INVESTIGATE_ALERT.value
TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    """Alertmanager's side: POSTs notifications to the process's webhook URL."""

    url: str
    http: aiohttp.ClientSession

    async def post(
        self,
        payload: dict[str, Any] | bytes,
        *,
        token: str | None = TOKEN,
        basic: tuple[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST as Alertmanager does: a bearer token, or basic auth (user, password)."""
        headers = {"Content-Type": "application/json"}
        if basic is not None:
            pair = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = payload if isinstance(payload, bytes) else am.body(payload)
        async with self.http.post(self.url, data=data, headers=headers) as response:
            return response.status, json.loads(await response.text())


@pytest.fixture
async def receiver(start_bot: StartBot) -> AsyncIterator[Receiver]:
    port = free_port()
    await start_bot(
        http_port=port,
        alerts_token=SecretStr(TOKEN),
        alerts_channel=DEFAULT,
        alerts_routes=[AlertRoute(label="team", value="payments", channel=PAYMENTS)],
    )
    async with aiohttp.ClientSession() as http:
        yield Receiver(f"http://127.0.0.1:{port}/alerts/alertmanager", http)


def roots(slack: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """The messages the bot posted at the top of a channel (case root messages)."""
    return [m for m in slack.posted_messages(channel=channel) if not m.get("thread_ts")]


async def wait_for_line(slack: FakeSlack, thread_ts: str, start: str) -> str:
    call = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.params.get("thread_ts") == thread_ts
            and str(c.params.get("text", "")).startswith(start)
        ),
        timeout=TIMEOUT,
    )
    return str(call.params["text"])


async def test_an_alert_group_opens_one_case_and_its_later_notifications_are_lines(
    slack: FakeSlack, receiver: Receiver
) -> None:
    status, said = await receiver.post(am.two_firing())
    assert (status, said["status"], said["channel"]) == (200, "queued", PAYMENTS)

    root = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("channel") == PAYMENTS and not c.params.get("thread_ts"),
        timeout=TIMEOUT,
    )
    thread = str(root.response["ts"])
    answer = await wait_for_answer(slack, thread, timeout=TIMEOUT)
    # The root message names the alert; the first answer names the service and the alert.
    shown = slack.message(PAYMENTS, thread)["text"]
    assert "HighErrorRate on checkout (critical): checkout 5xx ratio above 5%" in shown
    assert shown.startswith("*Case #")
    assert "checkout" in answer.split("*Suspects*")[1]
    assert "Alertmanager: 2 alerts firing (HighErrorRate on checkout ×2)" in answer

    # Alertmanager resends the same state (repeat_interval, a lost answer): one job only.
    status, said = await receiver.post(am.two_firing())
    assert (status, said["status"]) == (200, "duplicate")

    status, _ = await receiver.post(am.three_firing())
    assert status == 200
    changed = await wait_for_line(slack, thread, "🔔 Alertmanager")
    assert changed == (
        "🔔 Alertmanager, HighErrorRate: now also firing: HighErrorRate on checkout (10.0.0.9:8080)"
    )
    status, _ = await receiver.post(am.all_resolved())
    assert status == 200
    resolved = await wait_for_line(slack, thread, "✅ Alertmanager")
    assert resolved == "✅ Alertmanager: HighErrorRate resolved at 14:52 UTC"

    assert len(roots(slack, PAYMENTS)) == 1  # one case for the group, all along
    lines = [t for t in shown_in_thread(slack, thread) if t.startswith(("🔔", "✅"))]
    assert len(lines) == 2


async def test_the_receiver_refuses_wrong_tokens_and_bad_payloads_and_says_why(
    slack: FakeSlack, receiver: Receiver
) -> None:
    status, said = await receiver.post(am.two_firing(), token="guess")
    assert status == 401 and "FAULTMAVEN_ALERTS_TOKEN" in said["error"]
    status, said = await receiver.post(am.two_firing(), token=None)
    assert status == 401
    status, _ = await receiver.post(am.two_firing(), basic=("alertmanager", "guess"))
    assert status == 401

    status, said = await receiver.post(b'{"alerts": [')
    assert status == 400
    assert said["error"].startswith("the body is not JSON (Expecting value at line 1")
    broken = am.two_firing()
    del broken["groupKey"]
    status, said = await receiver.post(broken)
    assert status == 400 and "groupKey: Field required" in said["error"]

    # Basic auth with the token as its password is how some Alertmanager set-ups send it;
    # a group no route takes opens its case in the default channel.
    other = am.notification(
        [{**am.alert("10.0.1.4:8080"), "labels": {"alertname": "DiskFull", "team": "search"}}],
        group_key='{}:{alertname="DiskFull"}',
    )
    status, said = await receiver.post(other, basic=("alertmanager", TOKEN))
    assert (status, said["channel"]) == (200, DEFAULT)
    await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("channel") == DEFAULT and not c.params.get("thread_ts"),
        timeout=TIMEOUT,
    )
    assert roots(slack, PAYMENTS) == []  # nothing refused opened a case


def alert_event(slack: FakeSlack, channel: str, **extra: Any) -> dict[str, Any]:
    """A message Alertmanager's Slack notifier posts (an incoming webhook: a bot_message
    with one attachment)."""
    ts = slack.next_ts()
    return {
        "type": "message",
        "subtype": "bot_message",
        "text": "",
        "username": "Alertmanager",
        "bot_id": "B0ALERTS",
        "attachments": [
            {
                "id": 1,
                "color": "a30200",
                "fallback": "[FIRING:1] KubePodCrashLooping payments-api",
                "title": "[FIRING:1] KubePodCrashLooping payments-api",
                "title_link": "http://alertmanager.example.com:9093/#/alerts?receiver=slack",
                "text": "*Alert:* Pod payments/payments-api-7d9c is crash looping - `critical`\n"
                "*Description:* container api restarted 5 times in 10 minutes",
                "mrkdwn_in": ["fallback", "pretext", "text"],
            }
        ],
        "ts": ts,
        "event_ts": ts,
        "channel": channel,
        "channel_type": "channel",
        **extra,
    }


async def test_an_alert_another_integration_posts_gets_an_investigate_button(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    channel = "C0OPS"
    await start_bot(allowed_channels=[channel])
    alert = alert_event(slack, channel)
    envelope = await slack.send_event(alert)
    await slack.wait_for_ack(envelope, timeout=10)
    offer = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == alert["ts"], timeout=10
    )
    offer_ts = str(offer.response["ts"])
    [button] = buttons(slack.message(channel, offer_ts))
    assert (button.action_id, button.text) == (INVESTIGATE, "🔎 Investigate")

    # Slack delivers the event again, and a person repeats the alert's words: no more offers
    # (a listener has run by the time its event is acked).
    await slack.wait_for_ack(await slack.redeliver(envelope), timeout=10)
    person = slack.message_event("[FIRING:1] KubePodCrashLooping payments-api", channel=channel)
    await slack.wait_for_ack(await slack.send_event(person), timeout=10)
    # A channel FaultMaven is not enabled in gets nothing either.
    elsewhere = await slack.send_event(alert_event(slack, "C0ELSEWHERE"))
    await slack.wait_for_ack(elsewhere, timeout=10)
    assert len(slack.posted_messages(channel=channel)) == 1
    assert slack.posted_messages(channel="C0ELSEWHERE") == []

    click = await slack.click(channel, offer_ts, INVESTIGATE, user_id="U0ALICE")
    await slack.wait_for_ack(click, timeout=10)
    answer = await wait_for_answer(slack, alert["ts"], timeout=TIMEOUT)
    assert "alert-message.txt" in answer  # the alert's text is the case's evidence
    said = await slack.wait_for_message(
        channel, offer_ts, lambda m: "asked me to investigate" in m.get("text", "")
    )
    assert "<@U0ALICE>" in said["text"] and buttons(said) == []
