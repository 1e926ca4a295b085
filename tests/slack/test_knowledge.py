"""Knowledge as people use it in Slack: kb add, search, Helpful / Outdated, the postmortem on
close, and files shared with `kb add`; the real Bolt app and worker against the fake
workspace, with the real embedding model."""

from __future__ import annotations

import json

import pytest

from bot.ids import ActionId
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import StartBot
from tests.slack.test_bot import CHANNEL, open_case_by_mention, text_of

pytestmark = pytest.mark.slack

RUNBOOK = (
    "# Redis failover\n\n## Symptoms\n\nClients log READONLY You can't write against a read "
    "only replica.\n\n## Fix\n\nCheck sentinel quorum, then promote the healthiest replica."
)


async def ephemeral_to(slack: FakeSlack, user: str, needle: str) -> str:
    call = await slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == user and needle in text_of(c.params),
        timeout=60,
    )
    return text_of(call.params)


async def test_kb_add_then_search_answers_privately_and_votes_count(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    added = await slack.send_slash_command(
        text=f"kb add {RUNBOOK}", channel_id=CHANNEL, user_id="U0ALICE"
    )
    assert "Adding to this channel's knowledge" in json.dumps(
        (await slack.wait_for_ack(added, timeout=10)).payload
    )
    stored = await ephemeral_to(slack, "U0ALICE", "Added to this channel's knowledge")
    assert "Redis failover" in stored

    asked = await slack.send_slash_command(
        text="search redis READONLY replica writes fail", channel_id=CHANNEL, user_id="U0BOB"
    )
    assert "Searching" in json.dumps((await slack.wait_for_ack(asked, timeout=10)).payload)
    results = await slack.wait_for_call(
        "chat.postEphemeral",
        lambda c: c.params.get("user") == "U0BOB" and "Knowledge for" in text_of(c.params),
        timeout=60,
    )
    assert "Redis failover" in text_of(results.params)
    # Search results are private: nothing was posted in the channel for them.
    assert not [m for m in slack.posted_messages(channel=CHANNEL) if "Redis" in text_of(m)]

    # Bob finds it outdated: the click is answered privately, and counted once.
    blocks = results.params["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    [outdated] = [
        e
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e["action_id"] == ActionId.KNOWLEDGE_OUTDATED
    ]
    click = await slack.send_block_action(
        ActionId.KNOWLEDGE_OUTDATED.value,
        outdated["value"],
        user_id="U0BOB",
        channel_id=CHANNEL,
        message_ts=str(results.response.get("message_ts") or "0"),
        block_id="knowledge",
    )
    said = await slack.wait_for_response_to(click, timeout=20)
    assert "marked as outdated (1 so far)" in json.dumps(said.body)


async def test_global_knowledge_is_refused_to_non_admins_at_once(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    refused = await slack.send_slash_command(
        text=f"kb add --global {RUNBOOK}", channel_id=CHANNEL, user_id="U0ALICE"
    )
    shown = json.dumps((await slack.wait_for_ack(refused, timeout=10)).payload)
    assert "may change the global knowledge" in shown

    slack.users["U0ADMIN"] = {**slack.user_info("U0ADMIN"), "is_admin": True}
    allowed = await slack.send_slash_command(
        text=f"kb add --global {RUNBOOK}", channel_id=CHANNEL, user_id="U0ADMIN"
    )
    assert "Adding to global knowledge" in json.dumps(
        (await slack.wait_for_ack(allowed, timeout=10)).payload
    )
    assert "Redis failover" in await ephemeral_to(slack, "U0ADMIN", "Added to global knowledge")


async def test_close_posts_the_postmortem_file_in_the_thread(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack, "checkout 502s since 14:00")
    await slack.send_slash_command(
        text="close raised the payments-db pool to 50", channel_id=CHANNEL, user_id="U0USER"
    )
    upload = await slack.wait_for_upload(
        lambda u: u.filename.startswith("postmortem-case-"), timeout=60
    )
    assert (upload.channel_id, upload.thread_ts) == (CHANNEL, thread)
    markdown = upload.content.decode()
    assert "## Resolution\n\nraised the payments-db pool to 50" in markdown
    assert "## Timeline (UTC)" in markdown

    # The closed case is knowledge now: a search finds it, with a link to its thread.
    await slack.send_slash_command(
        text="search checkout 502s", channel_id=CHANNEL, user_id="U0CAROL"
    )
    found = await ephemeral_to(slack, "U0CAROL", "Knowledge for")
    assert "checkout 502s since 14:00" in found and "past case" in found
    assert "archives" in found  # the thread's permalink


async def test_a_file_shared_with_kb_add_becomes_knowledge_not_evidence(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack)
    file = slack.add_file("redis-failover.md", RUNBOOK.encode(), channel=CHANNEL, thread_ts=thread)
    await slack.send_event(
        slack.file_share_event([file], channel=CHANNEL, thread_ts=thread, text="kb add")
    )
    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == thread and "Added to" in text_of(c.params),
        timeout=60,
    )
    assert "Redis failover" in text_of(reply.params)
    # It was not taken as evidence of the case.
    assert not [m for m in slack.posted_messages(thread_ts=thread) if "📄" in text_of(m)]
