"""Slack-side faults a user must not notice: rate limits and a socket that drops.

The real FaultMaven process (Bolt socket mode + arq worker) runs against the fake Slack,
which answers 429 with Retry-After, loses acks, cuts sockets and (like Slack) delivers an
unacked event again.
"""

from __future__ import annotations

import pytest

from tests.fakes.slack import FakeSlack
from tests.slack.answers import (
    answers_in_thread,
    wait_for_answer,
    warnings_in_thread,
)
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"


@pytest.mark.parametrize("method", ["chat.postMessage", "chat.update"])
async def test_slack_429_waits_retry_after_then_replies_once(
    slack: FakeSlack, start_bot: StartBot, method: str
) -> None:
    """A rate-limited post or update is retried after Slack's Retry-After, not sooner, and
    the thread ends with one answer."""
    await start_bot()
    retry_after = 2
    slack.fail_next(method, status=429, retry_after=retry_after)
    event = slack.mention_event("checkout 502s", channel=CHANNEL)

    await slack.send_event(event)
    await wait_for_answer(slack, event["ts"])

    limited, retried = slack.calls_to(method)[:2]
    assert (limited.status, retried.status) == (429, 200)
    assert retried.params == limited.params  # the same message, not a new one
    assert retried.at - limited.at >= retry_after
    assert len(answers_in_thread(slack, event["ts"])) == 1
    assert warnings_in_thread(slack, event["ts"]) == []


async def test_lost_ack_reconnects_and_the_redelivered_event_is_answered_once(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    """The bot took the event in, but its ack died with the socket: Slack sends the event
    again on the new socket, and the thread still gets one answer."""
    await start_bot()
    slack.redeliver_unacked(after_s=1.0)
    slack.lose_next_ack()
    opened = len(slack.calls_to("apps.connections.open"))
    event = slack.mention_event("ledger writes failing", channel=CHANNEL)

    first = await slack.send_event(event)

    retry = await slack.wait_for_ack_of_retry(first, timeout=30)
    assert slack.lost_acks == [first]
    assert len(slack.calls_to("apps.connections.open")) > opened  # a fresh socket URL
    assert retry.retry_attempt == 1
    await wait_for_answer(slack, event["ts"])
    assert len(answers_in_thread(slack, event["ts"])) == 1
    assert warnings_in_thread(slack, event["ts"]) == []

    # Events after the reconnect are answered too.
    later = slack.mention_event("and now?", channel=CHANNEL)
    await slack.send_event(later)
    await wait_for_answer(slack, later["ts"])


async def test_socket_refused_for_a_while_then_events_flow_again(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    """The socket drops and apps.connections.open fails for a moment: the bot keeps trying,
    reconnects, and events sent meanwhile arrive once it is back (Slack holds them)."""
    await start_bot()
    slack.redeliver_unacked(after_s=2.0)
    slack.fail_next("apps.connections.open", status=500, times=2)
    opened = slack.connections_opened

    await slack.drop_connections()
    event = slack.mention_event("are you there?", channel=CHANNEL)
    await slack.send_event(event, timeout=30)  # waits for the new socket, as Slack does

    refused = [c for c in slack.calls_to("apps.connections.open") if c.status == 500]
    assert len(refused) == 2 and slack.connections_opened > opened
    await wait_for_answer(slack, event["ts"])
    assert len(answers_in_thread(slack, event["ts"])) == 1
    assert warnings_in_thread(slack, event["ts"]) == []
