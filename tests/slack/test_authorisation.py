"""Who may do what, as Slack users see it: the channel allowlist and closing a case (the real
Bolt app and worker against the fake workspace)."""

from __future__ import annotations

import json

import pytest
from psycopg_pool import AsyncConnectionPool

from bot.slack_io import SlackDirectory, web_client
from engine.store import audit, cases
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

ALLOWED, ELSEWHERE = "C0INCIDENT", "C0RANDOM"
OPENER, STRANGER, ADMIN = "U0USER", "U0BOB", "U0ADMIN"


async def open_case_by_mention(slack: FakeSlack, channel: str = ALLOWED) -> str:
    event = slack.mention_event("checkout 502s since 14:00", channel=channel, user=OPENER)
    await slack.send_event(event)
    await slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and c.params.get("thread_ts") == event["ts"], timeout=20
    )
    return str(event["ts"])


async def the_case(pool: AsyncConnectionPool, thread: str) -> int:
    case = await cases.find_by_thread(pool, ALLOWED, thread)
    assert case is not None
    return case.id


async def test_a_mention_in_a_channel_not_enabled_is_explained_and_nothing_is_kept(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot(allowed_channels=[ALLOWED], admins=[ADMIN])
    mention = slack.mention_event("checkout is down", channel=ELSEWHERE, user=OPENER)

    envelope = await slack.send_event(mention, event_id="Ev0DENIED")
    await slack.wait_for_ack(envelope, timeout=10)
    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params["channel"] == ELSEWHERE and c.params.get("thread_ts") == mention["ts"],
        timeout=20,
    )
    assert "not enabled in this channel" in reply.params["text"]
    assert "FAULTMAVEN_ALLOWED_CHANNELS" in reply.params["text"]
    assert f"<@{ADMIN}>" in reply.params["text"]  # who can enable it
    # Slack redelivers it, and people talk in the thread: no second reply, nothing stored.
    again = await slack.send_event(mention, event_id="Ev0DENIED", retry_attempt=1)
    await slack.wait_for_ack(again, timeout=10)
    await slack.send_event(
        slack.message_event("anyone?", channel=ELSEWHERE, user=STRANGER, thread_ts=mention["ts"])
    )
    # An allowed channel still works, and everything sent before it has been handled.
    await open_case_by_mention(slack)

    assert len(slack.posted_messages(channel=ELSEWHERE)) == 1
    assert [c.channel_id for c in await cases.list_open(pool)] == [ALLOWED]
    [denied] = [e for e in await audit.recent(pool) if e.action == "denied"]
    assert (denied.actor, denied.target) == (OPENER, ELSEWHERE)


async def test_commands_and_clicks_in_a_channel_not_enabled_are_answered_privately(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot(allowed_channels=[ALLOWED])

    command = await slack.send_slash_command(
        text="open dns flaky", channel_id=ELSEWHERE, user_id=OPENER
    )
    help_ = await slack.send_slash_command(text="help", channel_id=ELSEWHERE, user_id=OPENER)
    click = await slack.send_block_action(
        "hypothesis_confirm", "1|h1", channel_id=ELSEWHERE, user_id=OPENER, message_ts="1.0"
    )

    refused = (await slack.wait_for_ack(command, timeout=10)).payload
    assert refused["response_type"] == "ephemeral"
    assert "not enabled in this channel" in refused["text"]
    assert "/faultmaven open" in json.dumps((await slack.wait_for_ack(help_, timeout=10)).payload)
    answer = await slack.wait_for_response_to(click, timeout=10)
    assert answer.body["response_type"] == "ephemeral"
    assert "not enabled in this channel" in answer.body["text"]
    assert slack.posted_messages(channel=ELSEWHERE) == []
    assert await cases.list_open(pool) == []


async def test_a_stranger_may_not_close_a_case_and_it_stays_open(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool
) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack)
    case_id = await the_case(pool, thread)

    envelope = await slack.send_slash_command(
        text="close it was DNS", channel_id=ALLOWED, user_id=STRANGER
    )

    shown = json.dumps((await slack.wait_for_ack(envelope, timeout=10)).payload)
    assert f"may not close case #{case_id}" in shown
    assert f"<@{OPENER}>" in shown  # who may
    assert "Closing" not in shown
    case = await cases.get(pool, case_id)
    assert case is not None and case.status == "open"
    assert [e.actor for e in await audit.recent(pool, case_id=case_id) if e.action == "denied"] == [
        STRANGER
    ]


@pytest.mark.parametrize("closer", [OPENER, ADMIN])
async def test_the_opener_or_a_workspace_admin_closes_a_case(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool, closer: str
) -> None:
    slack.users[ADMIN] = {**slack.user_info(ADMIN), "is_admin": True}
    await start_bot()
    thread = await open_case_by_mention(slack)
    case_id = await the_case(pool, thread)

    envelope = await slack.send_slash_command(
        text="close raised the pool", channel_id=ALLOWED, user_id=closer
    )

    assert "Closing case #" in json.dumps((await slack.wait_for_ack(envelope, timeout=10)).payload)
    summary = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == thread and "resolved" in c.params.get("text", ""),
        timeout=20,
    )
    assert "raised the pool" in summary.params["text"]
    [closed] = [e for e in await audit.recent(pool, case_id=case_id) if e.action == "case.close"]
    assert closed.actor == closer


async def test_the_directory_asks_slack_once_per_user_until_the_answer_is_old(
    slack: FakeSlack,
) -> None:
    slack.users["U0OWNER"] = {**slack.user_info("U0OWNER"), "is_owner": True}
    now = [1000.0]
    directory = SlackDirectory(
        web_client(slack.bot_token, slack.api_url), ttl_s=300, clock=lambda: now[0]
    )

    answers = [await directory.is_admin(u) for u in ("U0OWNER", "U0OWNER", STRANGER, STRANGER)]
    assert answers == [True, True, False, False]
    assert len(slack.calls_to("users.info")) == 2

    slack.users["U0OWNER"]["is_owner"] = False  # demoted; seen once the answer is old
    now[0] += 299
    assert await directory.is_admin("U0OWNER")
    now[0] += 2
    assert not await directory.is_admin("U0OWNER")
    assert len(slack.calls_to("users.info")) == 3
