"""The real process's operations endpoints: a mention shows up in /metrics as an event
received and acked, with its ack time, and /readyz includes the Slack socket."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.ops import log_setup
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sample(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and labels.items() <= s.labels.items()
    )


async def test_a_mention_is_counted_received_acked_and_timed(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    port = free_port()
    bot = await start_bot(http_port=port)
    base = f"http://127.0.0.1:{port}"
    mention = {"kind": "events_api", "type": "app_mention"}
    async with aiohttp.ClientSession() as http:

        async def metrics() -> str:
            async with http.get(f"{base}/metrics") as response:
                assert response.status == 200
                return await response.text()

        async with http.get(f"{base}/readyz") as response:
            report = json.loads(await response.text())
            assert response.status == 200, report
        assert report["checks"] == {"postgres": "ok", "redis": "ok", "slack": "ok", "worker": "ok"}

        before = await metrics()
        event = slack.mention_event("checkout is throwing 502s since 14:00", channel=CHANNEL)
        envelope = await slack.send_event(event)
        await slack.wait_for_ack(envelope, timeout=10)
        await slack.wait_for_call(
            "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"], timeout=20
        )
        after = await metrics()

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("faultmaven_events_received_total", **mention) == 1
    assert moved("faultmaven_events_acked_total", **mention) == 1
    assert moved("faultmaven_ack_latency_seconds_count", kind="events_api") >= 1
    assert sample(after, "faultmaven_ack_latency_seconds_sum", kind="events_api") > 0
    assert moved("faultmaven_jobs_started_total", job="answer_mention") == 1

    await bot.stop()  # the endpoints stop with the process
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"{base}/healthz")


class DuplicateLines(logging.Handler):
    """JSON lines of a logger; `seen` is set once one tells of a duplicate delivery."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(log_setup.JsonFormatter())
        self.lines: list[dict[str, object]] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))
        if "duplicate" in record.getMessage():
            self.seen.set()


async def test_a_listeners_log_lines_carry_the_event_id(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    handler = DuplicateLines()
    queue_log = logging.getLogger("engine.worker.queue")
    level = queue_log.level
    queue_log.setLevel(logging.INFO)  # setLevel, not the attribute: it clears the level caches
    queue_log.addHandler(handler)
    try:
        await start_bot(http_port=0)
        event = slack.mention_event("checkout 502s", channel=CHANNEL)
        await slack.send_event(event, event_id="EvLOGGED1")
        await slack.wait_for_call(
            "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"], timeout=20
        )
        # Slack's retry of the same event: the listener logs that it was a duplicate.
        await slack.send_event(event, event_id="EvLOGGED1", retry_attempt=1)
        await asyncio.wait_for(handler.seen.wait(), 10)
    finally:
        queue_log.removeHandler(handler)
        queue_log.setLevel(level)
    [line] = [x for x in handler.lines if "duplicate" in str(x["message"])]
    assert line["event_id"] == "EvLOGGED1" and line["logger"] == "engine.worker.queue"
