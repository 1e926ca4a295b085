"""The scheduler in real processes against the fake Slack: `/faultmaven digest`, the digest
reaching an opted-in channel, and a stale reminder reaching the thread once per quiet spell
however many worker processes tick. Quiet time and tick are shortened by settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.slack import FakeSlack
from tests.slack.answers import command_answer
from tests.slack.conftest import StartBot
from tests.slack.test_bot import open_case_by_mention

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"
FAST = {"scheduler_tick_s": 0.3}


def is_reminder(params: dict[str, Any], thread: str) -> bool:
    return params.get("thread_ts") == thread and "No activity on case #" in params.get("text", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest", "The daily digest is off here"),
        ("digest off", "is not on in this channel"),
        ("digest weekly", "Say `/faultmaven digest on` or `/faultmaven digest off`"),
        ("help", "/faultmaven digest on|off"),
    ],
)
async def test_digest_command_answers_clearly(
    slack: FakeSlack, start_bot: StartBot, text: str, expected: str
) -> None:
    await start_bot()
    assert expected in await command_answer(slack, text, CHANNEL)


async def test_digest_on_brings_the_daily_list_of_open_cases(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    # Hour 0: today's digest is due at once, as it is after the hour on any day.
    await start_bot(digest_hour_utc=0, **FAST)
    await open_case_by_mention(slack, "checkout 502s since 14:00")
    assert not [m for m in slack.posted_messages(channel=CHANNEL) if "Daily digest" in m["text"]]

    envelope = await slack.send_slash_command(
        text="digest on", channel_id=CHANNEL, user_id="U0ALICE"
    )

    ack = await slack.wait_for_ack(envelope, timeout=10)
    assert "Daily digest on: every day at 00:00 UTC" in json.dumps(ack.payload)
    posted = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("channel") == CHANNEL and "Daily digest" in c.params["text"],
        timeout=20,
    )
    assert not posted.params.get("thread_ts"), "the digest goes to the channel"
    assert "1 open case" in posted.params["text"]
    assert "checkout 502s since 14:00 — open " in posted.params["text"]
    status = await slack.send_slash_command(text="digest", channel_id=CHANNEL, user_id="U0BOB")
    assert "is on here" in json.dumps((await slack.wait_for_ack(status, timeout=10)).payload)


async def test_a_quiet_case_is_reminded_once_per_quiet_spell_by_many_workers(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    quiet = {"stale_after_h": 3 / 3600, **FAST}  # three seconds of quiet
    await start_bot("all", **quiet)
    await start_bot("worker", **quiet)
    await start_bot("worker", **quiet)
    thread = await open_case_by_mention(slack, "orders API timing out")

    first = await slack.wait_for_call(
        "chat.postMessage", lambda c: is_reminder(c.params, thread), timeout=30
    )
    assert "Still investigating? `/faultmaven close #" in first.params["text"]

    # A message in the thread starts a new quiet spell, reminded in turn no sooner than its
    # three seconds later; by then every process has ticked through the first spell about ten
    # times, so a second reminder of it would have been posted before.
    message = slack.message_event("rolled back, watching", channel=CHANNEL, thread_ts=thread)
    sent = slack.now()
    await slack.send_event(message)
    second = await slack.wait_for_call(
        "chat.postMessage", lambda c: is_reminder(c.params, thread) and c.at > first.at, timeout=30
    )
    assert second.at >= sent + 2.5, "the second reminder answers the new quiet spell"
    reminders = [m for m in slack.posted_messages(CHANNEL, thread) if is_reminder(m, thread)]
    assert len(reminders) == 2, [m["text"][:50] for m in reminders]
