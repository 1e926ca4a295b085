"""What a user sees in Slack: the real Bolt app and worker against the fake workspace."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.slack import FakeSlack
from tests.samples import checkout_log
from tests.slack.answers import command_answer, only_one_reply_after_a_follow_up
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"


def text_of(params: dict[str, Any]) -> str:
    """Everything a person would read in a posted message: fallback text and block texts."""
    return (
        params.get("text", "") + "\n" + json.dumps(params.get("blocks") or [], ensure_ascii=False)
    )


async def open_case_by_mention(slack: FakeSlack, text: str = "checkout 502s since 14:00") -> str:
    event = slack.mention_event(text, channel=CHANNEL)
    await slack.send_event(event)
    await slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and c.params.get("thread_ts") == event["ts"], timeout=20
    )
    return str(event["ts"])


async def test_mention_opens_a_case_and_answers_in_the_thread(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    event = slack.mention_event("checkout is throwing 502s since 14:00", channel=CHANNEL)

    envelope = await slack.send_event(event)

    await slack.wait_for_ack(envelope, timeout=10)
    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.params.get("thread_ts") == event["ts"] and "Upload the logs" in text_of(c.params)
        ),
        timeout=20,
    )
    assert reply.params["channel"] == CHANNEL
    shown = text_of(reply.params)
    assert "no LLM was used" in shown
    assert "Upload the logs" in shown


async def test_uploaded_log_gets_a_summary_reply(slack: FakeSlack, start_bot: StartBot) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack)
    file = slack.add_file("checkout.log", checkout_log(), channel=CHANNEL, thread_ts=thread)

    await slack.send_event(slack.file_share_event([file], channel=CHANNEL, thread_ts=thread))

    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.params.get("thread_ts") == thread and "checkout.log" in c.params.get("text", "")
        ),
        timeout=20,
    )
    shown = text_of(reply.params)
    assert "40 ERROR" in shown and "upstream payments-db: connection pool exhausted" in shown
    assert "errors start 14:02" in shown
    download = await slack.wait_for_download(timeout=5)
    assert download is not None


async def test_redelivered_event_gives_one_case_and_one_reply(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    # Two bot processes: Slack may hand the same event to either, and retries it.
    await start_bot()
    await start_bot()
    event = slack.mention_event("orders API timing out", channel=CHANNEL)

    await slack.send_event(event, event_id="Ev0SAME")
    await slack.send_event(event, event_id="Ev0SAME", retry_attempt=1, retry_reason="timeout")
    await slack.send_event(event, event_id="Ev0SAME", retry_attempt=2, retry_reason="timeout")
    first = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == event["ts"], timeout=20
    )

    await only_one_reply_after_a_follow_up(slack, CHANNEL, event["ts"], first)


async def test_open_command_posts_a_case_root(slack: FakeSlack, start_bot: StartBot) -> None:
    await start_bot()
    envelope = await slack.send_slash_command(
        text="open search latency p99 doubled", channel_id=CHANNEL, user_id="U0ALICE"
    )

    await slack.wait_for_ack(envelope, timeout=10)
    root = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.params.get("channel") == CHANNEL, timeout=20
    )
    assert not root.params.get("thread_ts")
    assert "search latency p99 doubled" in root.params["text"]
    update = await slack.wait_for_call(
        "chat.update", lambda c: c.params.get("ts") == root.response["ts"], timeout=20
    )
    assert "Case #" in update.params["text"]


async def test_close_posts_the_resolution_in_the_thread(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack)

    envelope = await slack.send_slash_command(
        text="close raised the payments-db pool to 50", channel_id=CHANNEL, user_id="U0USER"
    )  # the case's opener

    ack = await slack.wait_for_ack(envelope, timeout=10)
    assert "Closing case #" in json.dumps(ack.payload)
    summary = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == thread and "resolved" in c.params.get("text", ""),
        timeout=20,
    )
    assert "raised the payments-db pool to 50" in summary.params["text"]

    again = await slack.send_slash_command(text="close", channel_id=CHANNEL, user_id="U0BOB")
    assert "no open case" in json.dumps((await slack.wait_for_ack(again, timeout=10)).payload)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("frobnicate", "I don't know `frobnicate`"),
        ("help", "/faultmaven open"),
        ("list", "No open cases in this channel"),
        ("status", "No open cases in this channel"),
        ("open", "Give the case a title"),
        ("close #999 done", "There is no case #999"),
    ],
)
async def test_commands_answer_clearly(
    slack: FakeSlack, start_bot: StartBot, text: str, expected: str
) -> None:
    await start_bot()
    assert expected in await command_answer(slack, text, CHANNEL)


async def test_close_asks_which_case_when_several_are_open(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    await open_case_by_mention(slack, "first incident")
    await open_case_by_mention(slack, "second incident")

    envelope = await slack.send_slash_command(
        text="close done", channel_id=CHANNEL, user_id="U0ALICE"
    )

    shown = json.dumps((await slack.wait_for_ack(envelope, timeout=10)).payload)
    assert "2 open cases" in shown and "first incident" in shown and "second incident" in shown
    listed = await slack.send_slash_command(text="list", channel_id=CHANNEL, user_id="U0ALICE")
    assert "2 open cases" in json.dumps((await slack.wait_for_ack(listed, timeout=10)).payload)


@pytest.mark.parametrize(
    ("content", "options", "expected"),
    [
        (b"", {}, "empty"),
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 20, {}, "binary"),
        (b"x" * 2_000_000, {}, "over the"),
        (b"2026-11-21 14:00:00 ERROR boom\n", {"status": 500}, "HTTP 500"),
        (b"2026-11-21 14:00:00 ERROR boom\n", {"html_instead": True}, "login page"),
    ],
    ids=["empty", "binary", "too-big", "download-fails", "login-page"],
)
async def test_bad_files_get_a_clear_reply(
    slack: FakeSlack, start_bot: StartBot, content: bytes, options: dict[str, Any], expected: str
) -> None:
    await start_bot(max_file_mb=1.0)
    thread = await open_case_by_mention(slack)
    file = slack.add_file("upload.log", content, channel=CHANNEL, thread_ts=thread, **options)

    await slack.send_event(slack.file_share_event([file], channel=CHANNEL, thread_ts=thread))

    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == thread and "⚠️" in c.params.get("text", ""),
        timeout=20,
    )
    assert expected in reply.params["text"]
    # The case still works afterwards.
    await slack.send_event(slack.mention_event("still there?", channel=CHANNEL, thread_ts=thread))
    await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == thread and "no LLM" in text_of(c.params),
        timeout=20,
        since=reply.at,
    )


async def test_thread_messages_are_history_for_the_next_answer(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack, "payments failing")
    await slack.send_event(
        slack.message_event("we see ECONNREFUSED to ledger-svc", channel=CHANNEL, thread_ts=thread)
    )
    ask = slack.mention_event("what now?", channel=CHANNEL, thread_ts=thread)

    await slack.send_event(ask)

    answer = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.params.get("thread_ts") == thread and "down or not listening" in text_of(c.params)
        ),
        timeout=20,
    )
    assert "no LLM was used" in text_of(answer.params)


async def test_reconnects_after_the_socket_drops(slack: FakeSlack, start_bot: StartBot) -> None:
    await start_bot()
    opened = slack.connections_opened
    await slack.drop_connections()
    await slack.wait_for_connections(n=1, timeout=20)
    assert slack.connections_opened > opened
    await open_case_by_mention(slack, "after reconnect")


async def test_rate_limited_reply_is_retried_not_lost(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    thread = await open_case_by_mention(slack, "rate limits")
    attempts = [
        c for c in slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread
    ]
    assert [c.status for c in attempts] == [429, 200]
    assert len(slack.posted_messages(thread_ts=thread)) == 1


async def test_app_home_lists_open_cases_of_the_users_channels(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    await open_case_by_mention(slack, "kafka lag growing")
    elsewhere = slack.mention_event("billing export stuck", channel="C0BILLING")
    await slack.send_event(elsewhere)
    await slack.wait_for_call(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == elsewhere["ts"], timeout=20
    )
    slack.join("U0ALICE", CHANNEL)  # Alice is in the incident channel, not in billing

    await slack.send_event(
        {"type": "app_home_opened", "user": "U0ALICE", "channel": "D0HOME", "tab": "home"}
    )
    published = json.dumps((await slack.wait_for_call("views.publish", timeout=20)).params)
    assert "kafka lag growing" in published
    assert "billing export stuck" not in published
    assert "Open cases in your channels (1)" in published
    assert "Recently resolved" in published and "Knowledge:" in published


async def test_a_direct_message_is_a_question(slack: FakeSlack, start_bot: StartBot) -> None:
    """There is no app_mention in a DM: the bot answers the message itself."""
    await start_bot()
    event = slack.message_event("is payments-db healthy?", channel="D0ALICE")

    await slack.send_event(event)

    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.ok
            and c.params.get("thread_ts") == event["ts"]
            and "no LLM was used" in text_of(c.params)
        ),
        timeout=20,
    )
    assert reply.params["channel"] == "D0ALICE"


async def test_invalid_utf8_is_analysed_and_the_user_is_told(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack)
    latin1 = "2026-11-21 14:00:00 ERROR café crème failed\r\n2026-11-21 14:00:01 INFO ok\r\n"
    file = slack.add_file("legacy.log", latin1.encode("latin-1"), channel=CHANNEL, thread_ts=thread)

    await slack.send_event(slack.file_share_event([file], channel=CHANNEL, thread_ts=thread))

    reply = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.ok
            and c.params.get("thread_ts") == thread
            and "legacy.log:" in c.params.get("text", "")
        ),
        timeout=20,
    )
    shown = text_of(reply.params)
    assert "legacy.log: 2 lines" in shown and "1 ERROR" in shown
    assert "not valid UTF-8" in shown


async def test_a_mention_mid_thread_reads_what_was_already_there(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    """Engineers talked and shared a log before anyone mentioned the bot: it reads all of it."""
    await start_bot()
    root = slack.add_message(CHANNEL, "checkout is down", user="U0ALICE")
    slack.add_message(
        CHANNEL, "seeing ECONNREFUSED to ledger-svc", user="U0BOB", thread_ts=root["ts"]
    )
    file = slack.add_file("checkout.log", checkout_log(), channel=CHANNEL, thread_ts=root["ts"])
    # Shared while the bot was not listening: only conversations.replies knows about it.
    slack.file_share_event([file], channel=CHANNEL, user="U0BOB", thread_ts=root["ts"])
    ask = slack.mention_event("what do you make of this?", channel=CHANNEL, thread_ts=root["ts"])

    await slack.send_event(ask)

    summary = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.ok
            and c.params.get("thread_ts") == root["ts"]
            and "checkout.log:" in c.params.get("text", "")
        ),
        timeout=20,
    )
    answer = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.ok and c.params.get("thread_ts") == root["ts"] and "no LLM" in text_of(c.params)
        ),
        timeout=20,
    )
    assert summary.at < answer.at  # the evidence is read before the answer
    shown = text_of(answer.params)
    assert "connection pool is exhausted" in shown  # from the earlier file
    assert "down or not listening" in shown  # from Bob's earlier message
    # A second mention does not re-post the evidence.
    again = slack.mention_event("and now?", channel=CHANNEL, thread_ts=root["ts"])
    await slack.send_event(again)
    await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.ok and c.params.get("thread_ts") == root["ts"] and c.at > answer.at,
        timeout=20,
    )
    summaries = [
        m
        for m in slack.posted_messages(thread_ts=root["ts"])
        if m["text"].startswith("checkout.log:")
    ]
    assert len(summaries) == 1


async def test_the_error_chart_lands_in_the_thread(slack: FakeSlack, start_bot: StartBot) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack)
    file = slack.add_file("checkout.log", checkout_log(), channel=CHANNEL, thread_ts=thread)

    await slack.send_event(slack.file_share_event([file], channel=CHANNEL, thread_ts=thread))

    upload = await slack.wait_for_upload(timeout=20)
    assert upload.channel_id == CHANNEL and upload.thread_ts == thread
    assert upload.content.startswith(b"\x89PNG") and "checkout.log" in upload.title


async def test_several_files_get_one_reply_with_progress_first(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot()
    thread = await open_case_by_mention(slack)
    files = [
        slack.add_file("checkout.log", checkout_log(), channel=CHANNEL, thread_ts=thread),
        slack.add_file("payments.log", checkout_log(seed=3), channel=CHANNEL, thread_ts=thread),
    ]

    await slack.send_event(slack.file_share_event(files, channel=CHANNEL, thread_ts=thread))

    progress = await slack.wait_for_call(
        "chat.postMessage",
        lambda c: (
            c.ok and c.params.get("thread_ts") == thread and "Reading 2 files" in c.params["text"]
        ),
        timeout=20,
    )
    final = await slack.wait_for_call(
        "chat.update",
        lambda c: (
            c.ok
            and c.params["ts"] == progress.response["ts"]
            and "payments.log:" in c.params["text"]
        ),
        timeout=20,
    )
    assert "checkout.log:" in final.params["text"]
    evidence_posts = [
        m
        for m in slack.posted_messages(thread_ts=thread)
        if "Reading" in m["text"] or ".log:" in m["text"]
    ]
    assert len(evidence_posts) == 1  # one message, updated in place


async def test_a_file_that_cannot_be_read_in_time_costs_one_line(
    slack: FakeSlack, start_bot: StartBot
) -> None:
    """Uploaded with a normal log: the normal log gets its summary, the other one clear line,
    and the worker moves on (the reader is stopped from outside, whatever it was doing)."""
    await start_bot(read_timeout_s=0.5, read_s_per_mb=0.0)
    thread = await open_case_by_mention(slack)
    slow = "".join(f"key{i}: [{', '.join(map(str, range(40)))}]\n" for i in range(60_000))
    files = [
        slack.add_file("checkout.log", checkout_log(), channel=CHANNEL, thread_ts=thread),
        slack.add_file("values.yaml", slow.encode(), channel=CHANNEL, thread_ts=thread),
    ]

    await slack.send_event(slack.file_share_event(files, channel=CHANNEL, thread_ts=thread))

    # 9 MB: a progress note first ("📥 Reading 2 files…"), replaced by one line per file.
    reply = await slack.wait_for_call(
        "chat.update",
        lambda c: "checkout.log:" in c.params.get("text", "") and "values.yaml" in c.params["text"],
        timeout=30,
    )
    shown = text_of(reply.params)
    assert "40 ERROR" in shown and "upstream payments-db: connection pool exhausted" in shown
    assert "values.yaml" in shown and "took longer than 1 s to read" in shown
