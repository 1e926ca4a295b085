"""What a thread shows after faults: each bot message at its latest version, and the answers."""

from __future__ import annotations

import asyncio
import json

from tests.fakes.slack import Call, FakeSlack

#: Footers of an answer (offline or LLM); a notice has neither.
ANSWER_MARKS = ("no LLM was used", "Answered by ")
#: How the case summary (which repeats the last turn's footer) begins.
SUMMARY_START = "*Case #"


def is_answer(text: str) -> bool:
    return any(m in text for m in ANSWER_MARKS) and not text.startswith(SUMMARY_START)


def shown_in_thread(slack: FakeSlack, thread_ts: str) -> list[str]:
    """Every message the bot posted in the thread, as it reads now (after chat.update)."""
    texts = []
    for posted in slack.posted_messages(thread_ts=thread_ts):
        updates = [
            c for c in slack.calls_to("chat.update") if c.ok and c.params.get("ts") == posted["ts"]
        ]
        latest = updates[-1].params if updates else posted
        texts.append(latest.get("text", "") + "\n" + json.dumps(latest.get("blocks") or []))
    return texts


def answers_in_thread(slack: FakeSlack, thread_ts: str) -> list[str]:
    return [t for t in shown_in_thread(slack, thread_ts) if is_answer(t)]


def warnings_in_thread(slack: FakeSlack, thread_ts: str) -> list[str]:
    """Error notices ("⚠️ Something went wrong...") the bot left in the thread."""
    return [t for t in shown_in_thread(slack, thread_ts) if t.startswith("⚠️")]


async def wait_for_answer(slack: FakeSlack, thread_ts: str, timeout: float = 30) -> str:
    """The thread's first answer, posted or replacing the "Looking into it" note."""

    def answered(call: Call) -> bool:
        in_thread = call.params.get("thread_ts") == thread_ts or any(
            m["ts"] == call.params.get("ts") for m in slack.posted_messages(thread_ts=thread_ts)
        )
        text = str(call.params.get("text", "")) + json.dumps(call.params.get("blocks") or [])
        return call.ok and in_thread and is_answer(text)

    waits = [
        asyncio.create_task(slack.wait_for_call(method, answered, timeout=timeout))
        for method in ("chat.postMessage", "chat.update")
    ]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    found = [t for t in done if t.exception() is None]
    if not found:
        raise next(iter(done)).exception()  # type: ignore[misc]
    return str(found[0].result().params.get("text", ""))


async def command_answer(slack: FakeSlack, text: str, channel: str, user: str = "U0ALICE") -> str:
    """What `/faultmaven <text>` acks with, as the person who typed it sees it."""
    envelope = await slack.send_slash_command(text=text, channel_id=channel, user_id=user)
    ack = await slack.wait_for_ack(envelope, timeout=10)
    return json.dumps(ack.payload, ensure_ascii=False)


async def only_one_reply_after_a_follow_up(
    slack: FakeSlack, channel: str, thread_ts: str, first: Call
) -> None:
    """A later mention in the thread proves the pipeline drained past any copy of the first
    event: the thread then holds exactly two replies."""
    follow_up = slack.mention_event("any update?", channel=channel, thread_ts=thread_ts)
    await slack.send_event(follow_up)
    await slack.wait_for_call(
        "chat.postMessage",
        lambda c: c.params.get("thread_ts") == thread_ts and c.at > first.at,
        timeout=20,
    )
    replies = slack.posted_messages(channel=channel, thread_ts=thread_ts)
    assert len(replies) == 2, [r.get("text", "")[:60] for r in replies]
