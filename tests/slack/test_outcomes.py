"""How cases ended, graded by clicking in Slack: the close summary's grade and "It helped"
buttons, what they change in the next similar case (the page that helped ranks first, the
reasoner's confidence for that failure signature moves), and `/faultmaven stats` from the
rows they wrote. The real Bolt app and worker against the fake workspace, real Postgres and
the real embedding model with the starter runbooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.ids import ActionId
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import StartBot
from tests.slack.test_bot import CHANNEL, open_case_by_mention, text_of

pytestmark = pytest.mark.slack

PAYMENTS_POOL = Path(__file__).parents[1] / "scenarios" / "cases" / "payments-pool-exhausted"
NOTE = (
    "# Payments database pool\n\nWhen payments logs `connection pool exhausted` or HikariPool "
    "timeouts, look for sessions idle in transaction in pg_stat_activity, restart the leaking "
    "worker, then raise maximumPoolSize."
)
POOL_LEAD = re.compile(
    r"The database connection pool is exhausted \(too many concurrent or leaked connections\)"
    r" in payments — (\d+)%"
)


async def investigated(slack: FakeSlack) -> tuple[str, str]:
    """A case opened by a mention, the scenario's files shared in its thread, once its turn
    is done: (thread ts, the summary's text)."""
    thread = await open_case_by_mention(slack, "checkout is failing for customers, what broke?")
    files = [
        slack.add_file(p.name, p.read_bytes(), channel=CHANNEL, thread_ts=thread)
        for p in sorted(PAYMENTS_POOL.iterdir())
        if p.is_file() and p.name != "answer.yaml"
    ]
    await slack.send_event(slack.file_share_event(files, channel=CHANNEL, thread_ts=thread))
    pin = await slack.wait_for_call(
        "pins.add",
        lambda c: slack.message(CHANNEL, c.params["timestamp"]).get("thread_ts") == thread,
        timeout=60,
    )
    summary = await slack.wait_for_message(
        CHANNEL,
        pin.params["timestamp"],
        lambda m: POOL_LEAD.search(m["text"]) is not None and "⏳" not in m["text"],
        timeout=90,
    )
    return thread, summary["text"]


def lead_confidence(summary: str) -> int:
    found = POOL_LEAD.search(summary)
    assert found is not None, summary
    return int(found.group(1))


async def close_and_grade(
    slack: FakeSlack, thread: str, verdict: ActionId, helped: str | None = None
) -> None:
    """Close the channel's open case, then grade its lead (and say which page helped) with
    the buttons of its close summary, as a teammate does."""
    await slack.send_slash_command(
        text="close fixed the connection leak in payments", channel_id=CHANNEL, user_id="U0USER"
    )
    closed = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.params.get("thread_ts") == thread
            and "How good was the leading hypothesis?" in text_of(c.params)
        ),
        timeout=60,
    )
    ts = str(closed.response["ts"])
    click = await slack.click(CHANNEL, ts, verdict.value, user_id="U0BOB")
    said = await slack.wait_for_response_to(click, timeout=20)
    assert "Recorded for case #" in json.dumps(said.body)
    if helped is None:
        return
    [block] = [
        b
        for b in slack.message(CHANNEL, ts)["blocks"]
        if str(b.get("block_id", "")).startswith("outcome-helped:") and helped in b["text"]["text"]
    ]
    click = await slack.click(
        CHANNEL, ts, ActionId.OUTCOME_HELPED.value, block_id=block["block_id"], user_id="U0BOB"
    )
    said = await slack.wait_for_response_to(click, timeout=20)
    assert f"“{helped}” helped" in json.dumps(said.body, ensure_ascii=False)


def runbooks_in(slack: FakeSlack, thread: str) -> list[str]:
    """The runbook lines (with the reason under each) of the thread's related knowledge."""
    lines: list[str] = []
    for message in slack.posted_messages(channel=CHANNEL, thread_ts=thread):
        text = text_of(message)
        if text.startswith("📚 Related knowledge"):
            for item in text.split("\n• ")[1:]:
                if item.startswith("Runbook:"):
                    lines.append(item)
    return lines


async def test_grades_given_by_clicking_rank_and_calibrate_the_next_similar_case(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot(starter_knowledge=True)
    await slack.send_slash_command(text=f"kb add {NOTE}", channel_id=CHANNEL, user_id="U0ALICE")
    await slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: "Added to this channel's knowledge" in text_of(c.params),
        timeout=60,
    )

    # First incident: the generic runbook comes first, the team's note second. The note is
    # what helped; the lead was the root cause.
    first, summary = await investigated(slack)
    before = lead_confidence(summary)
    shown = runbooks_in(slack, first)
    assert [line.split("\n")[0] for line in shown] == [
        "Runbook: PostgreSQL › Connection pool exhausted",
        "Runbook: Payments database pool",
    ]
    await close_and_grade(
        slack, first, ActionId.OUTCOME_ROOT_CAUSE, helped="Payments database pool"
    )

    # The next incident of the same failure: the page that helped comes first, and says why.
    second, _ = await investigated(slack)
    top = runbooks_in(slack, second)[0]
    assert top.startswith("Runbook: Payments database pool")
    assert "helped close 1 past case of the same failure (`db-pool-exhausted`)" in top
    await close_and_grade(slack, second, ActionId.OUTCOME_CONTRIBUTING)

    third, _ = await investigated(slack)
    await close_and_grade(slack, third, ActionId.OUTCOME_CONTRIBUTING)

    # Three graded outcomes of this signature, two of them only contributing: the reasoner is
    # less sure of it than it was before the team said so.
    _, summary = await investigated(slack)
    assert lead_confidence(summary) < before

    asked = await slack.send_slash_command(text="stats", channel_id=CHANNEL, user_id="U0ALICE")
    stats = json.dumps((await slack.wait_for_ack(asked, timeout=10)).payload, ensure_ascii=False)
    assert "3 closed cases, 3 graded" in stats
    assert "First hypothesis right: *1/3* (33%)" in stats
    assert "Median time to the right hypothesis" in stats
