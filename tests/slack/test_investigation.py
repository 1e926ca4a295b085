"""The case summary in Slack: one pinned message per case, updated in place, with Confirm /
Rule out buttons that steer the investigation. The real Bolt app and worker run against the
fake workspace; evidence is the payments-pool-exhausted scenario (tests/scenarios/cases).
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from arq.connections import ArqRedis
from psycopg_pool import AsyncConnectionPool
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ids import ActionId
from engine.cases.summary import STATUS_MARKS
from engine.store import investigation
from tests.fakes.recording import Signal
from tests.fakes.slack import FakeSlack, buttons
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"
ALICE, BOB = "U0ALICE", "U0BOB"
EVIDENCE = Path(__file__).parents[1] / "scenarios" / "cases" / "payments-pool-exhausted"
QUESTION = "Checkout is failing for a lot of customers since about 14:07 UTC, what is going on?"
POOL_IN_PAYMENTS = (
    "connection pool is exhausted (too many concurrent or leaked connections) in payments"
)
CONFIRM, RULE_OUT = ActionId.CONFIRM_HYPOTHESIS.value, ActionId.RULE_OUT_HYPOTHESIS.value
MANIFEST = Path(__file__).parents[2] / "manifest.yml"
#: The bot scope each Web API method the bot calls needs (api.slack.com/methods), public channels.
SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "pins.add": "pins:write",
    "files.info": "files:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "conversations.replies": "channels:history",
}
Message = dict[str, Any]


@dataclass(frozen=True)
class OpenCase:
    thread: str
    summary: str  # ts of the case summary message
    case_id: int


def settled(message: Message) -> bool:
    """No run going on: the summary shows a turn's result, not a progress status."""
    return "⏳" not in message["text"]


FILES = sum(1 for path in EVIDENCE.iterdir() if path.suffix != ".yaml")
# How far the evidence alone takes the case depends on how strong its lead is (diagnosing, or
# analyzing past 60%): the tests below hold either way.
EVIDENCE_PHASES = ("🔍 diagnosing", "🧪 analyzing")


def evidence_read(message: Message) -> bool:
    """The summary of a turn that read every file of the scenario (its footer counts them)."""
    return settled(message) and f"· {FILES} files" in str(message.get("blocks"))


def header(message: Message) -> str:
    return str(message["blocks"][0]["text"]["text"])


def hypotheses(message: Message) -> list[str]:
    """The hypothesis lines of a summary, in its order ('*1.* ...', '*2.* ...')."""
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    return [t for t in texts if t.startswith("*") and t.split(".", 1)[0][1:].isdigit()]


def statement(line: str) -> str:
    """A hypothesis line without its number and status mark: '*2.* 🧪 Pool…' -> 'Pool…'."""
    text = line.split(" ", 1)[1]
    return next((text[len(m) :] for m in STATUS_MARKS.values() if m and text.startswith(m)), text)


def summaries_posted(slack: FakeSlack, thread: str) -> list[dict[str, Any]]:
    return [m for m in slack.posted_messages(CHANNEL, thread) if m["text"].startswith("*Case #")]


async def ask_and_share_evidence(slack: FakeSlack) -> tuple[str, str]:
    """Ask in a thread, wait for that turn, then share the scenario's files: the thread and the
    ts of its summary message."""
    event = slack.mention_event(QUESTION, channel=CHANNEL, user=ALICE)
    await slack.send_event(event)
    thread = str(event["ts"])
    pin = await slack.wait_for_call("pins.add", lambda c: c.ok, timeout=20)
    summary = str(pin.params["timestamp"])
    # The question's own turn ends with a summary that has read the (empty) evidence: only then
    # share files, so exactly one more turn (the evidence's) follows.
    await slack.wait_for_message(
        CHANNEL,
        summary,
        lambda m: settled(m) and "consulting" in m["text"] and "Not investigated" not in m["text"],
        timeout=20,
    )
    files = [
        slack.add_file(path.name, path.read_bytes(), channel=CHANNEL, thread_ts=thread, user=ALICE)
        for path in sorted(EVIDENCE.iterdir())
        if path.suffix != ".yaml"
    ]
    await slack.send_event(
        slack.file_share_event(files, channel=CHANNEL, user=ALICE, thread_ts=thread)
    )
    return thread, summary


async def open_investigation(slack: FakeSlack, pool: AsyncConnectionPool) -> OpenCase:
    """A case whose summary shows the hypotheses drawn from the scenario's evidence, ready for
    clicks."""
    thread, summary = await ask_and_share_evidence(slack)
    shown = await slack.wait_for_message(CHANNEL, summary, evidence_read, timeout=30)
    case_id = int(buttons(shown)[0].value.split("|")[0])
    offered = {b.value.split("|", 1)[1] for b in buttons(shown)}

    # A turn saves its hypotheses before it shows their buttons: a click now is taken.
    assert offered <= {h.id for h in await investigation.hypotheses(pool, case_id)}
    return OpenCase(thread, summary, case_id)


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float) -> None:
    """Poll `check` until it holds; fail at the deadline (for state only a database shows)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


async def settled_with(slack: FakeSlack, case: OpenCase, text: str) -> Message:
    """The summary once a turn's result shows `text`."""
    return await slack.wait_for_message(
        CHANNEL, case.summary, lambda m: settled(m) and text in m["text"], timeout=30
    )


class LogWatch(logging.Handler):
    """Log lines of one logger, with a deadline-bounded wait for a line (records are emitted
    on the event loop's thread: the bot runs in this process)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.signal = Signal()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.signal.pulse()

    async def wait_for(self, text: str, timeout: float = 10.0) -> str:
        return await self.signal.wait_until(
            lambda: next((line for line in self.lines if text in line), None),
            timeout=timeout,
            describe=lambda: f"never logged {text!r}; logged {self.lines}",
        )


@pytest.fixture
def queue_log() -> Iterator[LogWatch]:
    logger = logging.getLogger("engine.worker.queue")
    watch, level = LogWatch(), logger.level
    logger.addHandler(watch)
    logger.setLevel(logging.INFO)
    yield watch
    logger.removeHandler(watch)
    logger.setLevel(level)


# ---------------------------------------------------------------- the fake's pins and clicks


async def test_the_fake_pins_like_slack(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    posted = await client.chat_postMessage(channel=CHANNEL, text="summary")

    await client.pins_add(channel=CHANNEL, timestamp=posted["ts"])

    with pytest.raises(SlackApiError) as again:
        await client.pins_add(channel=CHANNEL, timestamp=posted["ts"])
    assert again.value.response["error"] == "already_pinned"
    with pytest.raises(SlackApiError) as missing:
        await client.pins_add(channel=CHANNEL, timestamp="1.000001")
    assert missing.value.response["error"] == "message_not_found"
    listed = await client.pins_list(channel=CHANNEL)
    assert [item["message"]["ts"] for item in listed["items"]] == [posted["ts"]]
    assert slack.pinned(CHANNEL) == [posted["ts"]]
    assert slack.message(CHANNEL, posted["ts"])["pinned_to"] == [CHANNEL]


async def test_a_click_carries_the_button_and_the_message_as_shown(slack: FakeSlack) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    root = slack.add_message(CHANNEL, "checkout is down", user=ALICE)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*1.* pool exhausted"}},
        {
            "type": "actions",
            "block_id": "hypothesis-1",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Confirm"},
                    "action_id": CONFIRM,
                    "value": "7|pool",
                    "style": "primary",
                }
            ],
        },
    ]
    posted = await client.chat_postMessage(
        channel=CHANNEL, thread_ts=root["ts"], text="v1", blocks=blocks
    )
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="v2", blocks=blocks)
    opened = await client.apps_connections_open(app_token=slack.app_token)

    async with aiohttp.ClientSession() as http, http.ws_connect(opened["url"]) as socket:
        assert json.loads((await socket.receive(timeout=5)).data)["type"] == "hello"
        envelope_id = await slack.click(CHANNEL, posted["ts"], CONFIRM, block_id="hypothesis-1")
        envelope = json.loads((await socket.receive(timeout=5)).data)

    assert envelope["envelope_id"] == envelope_id and envelope["type"] == "interactive"
    payload = envelope["payload"]
    [action] = payload["actions"]
    assert action["action_id"] == CONFIRM and action["value"] == "7|pool"
    assert action["block_id"] == "hypothesis-1" and action["style"] == "primary"
    assert action["text"]["text"] == "Confirm" and action["type"] == "button"
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U0USER"
    assert payload["container"]["message_ts"] == posted["ts"]
    assert payload["container"]["thread_ts"] == root["ts"]
    assert payload["message"]["text"] == "v2"  # the latest version, as the client shows it
    assert slack.response_urls[envelope_id] == payload["response_url"]
    assert [v["text"] for v in slack.versions(CHANNEL, posted["ts"])] == ["v1", "v2"]
    with pytest.raises(AssertionError, match="no button #1 'nope'"):
        slack.find_button(CHANNEL, posted["ts"], "nope")


# ---------------------------------------------------------------- the bot


async def test_evidence_gives_one_pinned_summary_updated_in_place(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot()

    case = await open_investigation(slack, pool)

    assert [m["ts"] for m in summaries_posted(slack, case.thread)] == [case.summary]
    assert slack.pinned(CHANNEL) == [case.summary]
    assert len(slack.calls_to("pins.add")) == 1  # pinned once, not at every turn
    versions = slack.versions(CHANNEL, case.summary)
    assert any("⏳" in v["text"] for v in versions)  # progress shown while the turns ran
    assert sum("consulting" in header(v) for v in versions) >= 2  # the question's turn...
    shown = slack.message(CHANNEL, case.summary)
    assert shown["thread_ts"] == case.thread
    assert any(phase in header(shown) for phase in EVIDENCE_PHASES)
    lines = hypotheses(shown)
    assert len(lines) >= 2 and POOL_IN_PAYMENTS in lines[0]
    clickable = buttons(shown)
    assert [b.text for b in clickable[:2]] == ["Confirm", "Rule out"]
    assert {b.action_id for b in clickable} == {CONFIRM, RULE_OUT}
    assert len(clickable) == 2 * len(lines)  # every open hypothesis can be decided
    assert all(b.value.startswith(f"{case.case_id}|") for b in clickable)
    # The app as installed from manifest.yml may do all of that, and gets the button clicks.
    manifest = yaml.safe_load(MANIFEST.read_text())
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    used = {c.method for c in slack.calls if c.ok}
    assert {SCOPES[m] for m in used if m in SCOPES} <= granted, used
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True


async def test_confirm_marks_the_hypothesis_in_the_same_summary(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot()
    case = await open_investigation(slack, pool)
    # The runner-up: a person's word puts it ahead of the evidence's own first pick.
    runner_up = hypotheses(slack.message(CHANNEL, case.summary))[1].split(" ", 1)[1]
    second = slack.find_button(CHANNEL, case.summary, CONFIRM, block_id="hypothesis-2")

    envelope = await slack.click(
        CHANNEL, case.summary, CONFIRM, user_id=BOB, block_id=second.block_id
    )

    await slack.wait_for_ack(envelope, timeout=5)
    shown = await settled_with(slack, case, f"(confirmed by <@{BOB}>)")
    lines = hypotheses(shown)
    statement = runner_up.split(" — ")[0]
    assert lines[0].startswith("*1.* ✅ ") and statement in lines[0]
    assert f"(confirmed by <@{BOB}>)" in lines[0]
    assert second.value not in {b.value for b in buttons(shown)}  # decided: no buttons
    assert len(buttons(shown)) == 2 * (len(lines) - 1)  # the others can still be decided
    assert "🧪 analyzing" in header(shown)
    assert f"(confirmed by <@{BOB}>)" in shown["blocks"][1]["text"]["text"]  # the conclusion
    assert [m["ts"] for m in summaries_posted(slack, case.thread)] == [case.summary]
    # A short reply says what changed: the phase, or at least the lead.
    news = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.ok and ("Now analyzing" in c.params["text"] or "New leading" in c.params["text"])
        ),
        timeout=5,
    )
    assert news.params["thread_ts"] == case.thread
    [verdict] = await investigation.feedback(pool, case.case_id)
    assert (verdict.kind, verdict.author) == ("confirm", f"<@{BOB}>")
    assert slack.responses_to(envelope) == []  # nothing to tell the clicker privately


async def test_rule_out_takes_the_hypothesis_out_of_the_lead(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot()
    case = await open_investigation(slack, pool)
    before = hypotheses(slack.message(CHANNEL, case.summary))

    await slack.click(CHANNEL, case.summary, RULE_OUT, user_id=ALICE, block_id="hypothesis-1")

    shown = await settled_with(slack, case, f"(ruled out by <@{ALICE}>)")
    lines = hypotheses(shown)
    assert POOL_IN_PAYMENTS not in lines[0]
    # The runner-up leads now (marked 🧪 when the case is in analysis: it is being tested).
    assert statement(before[1]) == statement(lines[0])
    ruled_out = [line for line in lines if POOL_IN_PAYMENTS in line]
    assert len(ruled_out) == 1 and "🚫" in ruled_out[0] and "— 0%" in ruled_out[0]
    assert POOL_IN_PAYMENTS not in shown["blocks"][1]["text"]["text"]  # the working conclusion
    assert len(buttons(shown)) == 2 * (len(lines) - 1)
    assert [m["ts"] for m in summaries_posted(slack, case.thread)] == [case.summary]


async def test_a_thread_message_ruling_out_a_component_changes_the_summary(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot()
    case = await open_investigation(slack, pool)
    assert "in payments" in hypotheses(slack.message(CHANNEL, case.summary))[0]

    await slack.send_event(
        slack.message_event(
            "payments looks healthy", channel=CHANNEL, user=BOB, thread_ts=case.thread
        )
    )

    shown = await settled_with(slack, case, f"(ruled out by <@{BOB}>)")
    lines = hypotheses(shown)
    assert "in payments" not in lines[0]
    for line in lines:  # every idea about payments is out, and none about anything else
        assert ("in payments —" in line) == (f"ruled out by <@{BOB}>" in line), line
    [note] = await investigation.feedback(pool, case.case_id)
    assert (note.kind, note.text) == ("note", "payments looks healthy")
    assert [m["ts"] for m in summaries_posted(slack, case.thread)] == [case.summary]


async def test_a_button_of_a_closed_case_is_answered_privately(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot()
    case = await open_investigation(slack, pool)
    # What a client that has not refreshed still shows: the summary with its buttons.
    stale = slack.message(CHANNEL, case.summary)
    closing = await slack.send_slash_command(
        text=f"close #{case.case_id} raised the payments pool", channel_id=CHANNEL, user_id=ALICE
    )
    await slack.wait_for_ack(closing, timeout=10)
    closed = await settled_with(slack, case, "✅ resolved")
    versions = len(slack.versions(CHANNEL, case.summary))

    envelope = await slack.click(
        CHANNEL, case.summary, CONFIRM, user_id=ALICE, block_id="hypothesis-1", message=stale
    )

    await slack.wait_for_ack(envelope, timeout=5)
    answer = await slack.wait_for_response_to(envelope, timeout=10)
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body.get("replace_original") is False
    assert f"Case #{case.case_id} is resolved" in answer.body["text"]
    assert slack.message(CHANNEL, case.summary) == closed
    assert len(slack.versions(CHANNEL, case.summary)) == versions
    assert await investigation.feedback(pool, case.case_id) == []


async def test_a_button_for_a_hypothesis_that_is_gone_is_answered_privately(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot()
    case = await open_investigation(slack, pool)
    shown = copy.deepcopy(slack.message(CHANNEL, case.summary))
    shown["blocks"][3]["elements"][0]["value"] = f"{case.case_id}|no-such-hypothesis"

    envelope = await slack.click(
        CHANNEL, case.summary, CONFIRM, user_id=ALICE, block_id="hypothesis-1", message=shown
    )

    answer = await slack.wait_for_response_to(envelope, timeout=10)
    assert "no longer part of case" in answer.body["text"]
    assert answer.body["response_type"] == "ephemeral"


async def test_a_click_delivered_twice_is_recorded_once(
    slack: FakeSlack,
    start_bot: StartBot,
    pool: AsyncConnectionPool,
    queue_log: LogWatch,
) -> None:
    # Two bot processes: the copy may reach either.
    await start_bot()
    await start_bot()
    case = await open_investigation(slack, pool)

    envelope = await slack.click(CHANNEL, case.summary, CONFIRM, user_id=BOB, nth=1)
    copy_of_it = await slack.redeliver(envelope)

    action = slack.envelopes[-1]["payload"]["actions"][0]
    assert action == slack.envelopes[-2]["payload"]["actions"][0]  # same click, same action_ts
    await slack.wait_for_ack(envelope, timeout=5)
    await slack.wait_for_ack(copy_of_it, timeout=5)
    await queue_log.wait_for(f"duplicate delivery of action:{BOB}:{action['action_ts']} ignored")
    shown = await settled_with(slack, case, f"(confirmed by <@{BOB}>)")
    assert sum("confirmed by" in line for line in hypotheses(shown)) == 1
    assert len(await investigation.feedback(pool, case.case_id)) == 1
    assert slack.responses == []


async def test_a_click_as_soon_as_the_buttons_show_is_taken(
    slack: FakeSlack, start_bot: StartBot, redis: ArqRedis
) -> None:
    await start_bot()
    # Keep the worker waiting for Slack's answer to the update that shows the new buttons.
    shown_now = slack.hold_next(
        "chat.update",
        lambda p: str(p.get("text", "")).startswith("*Case #") and evidence_read(p),
    )
    _, summary = await ask_and_share_evidence(slack)
    await shown_now.reached(timeout=30)

    envelope = await slack.click(CHANNEL, summary, CONFIRM, user_id=BOB, block_id="hypothesis-1")

    await slack.wait_for_ack(envelope, timeout=5)
    action_ts = slack.envelopes[-1]["payload"]["actions"][0]["action_ts"]

    async def decided() -> bool:  # refused (an ephemeral answer) or taken (queued)
        queued = await redis.exists(f"faultmaven:claim:action:{BOB}:{action_ts}")
        return bool(slack.responses_to(envelope)) or bool(queued)

    await eventually(decided, timeout=10)
    shown_now.release()
    refused = slack.responses_to(envelope)
    assert not refused, f"the click was refused: {refused[0].body.get('text')}"
    await slack.wait_for_message(
        CHANNEL,
        summary,
        lambda m: settled(m) and f"(confirmed by <@{BOB}>)" in m["text"],
        timeout=30,
    )
