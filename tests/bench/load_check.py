"""What bench_load checks after a run: acks, stored history, answers and duplicates.

Read from the fake Slack's records (acks, posted messages) and from the database (messages,
and `replies`: the message the bot posted for each trigger, which is how an answer is tied
to the question it answers, since answers go into the case thread, not under the question).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

from tests.fakes.slack import FakeSlack

POINTER = "Answered below"  # engine/cases/turns.py: a question answered by a later answer


class SentEnvelope(Protocol):
    kind: str
    envelope_id: str
    channel: str
    ts: str


@dataclass
class Outcome:
    ack_ms: list[float] = field(default_factory=list)
    #: (kind, sent at (monotonic), ack ms) of each acked envelope, in sending order.
    ack_rows: list[tuple[str, float, float]] = field(default_factory=list)
    unacked: int = 0
    double_acked: int = 0
    unanswered_status: int = 0
    questions: int = 0
    answered_directly: int = 0
    pointed: int = 0
    lost_messages: int = 0
    lost_questions: int = 0
    duplicates: int = 0
    errors: int = 0
    last_answer_at: float | None = None
    drained: bool = True
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.drained and not (
            self.unacked
            or self.double_acked
            or self.unanswered_status
            or self.lost_messages
            or self.lost_questions
            or self.duplicates
            or self.errors
        )


async def _rows(conn: psycopg.AsyncConnection[Any], sql: str, channels: list[str]) -> list[Any]:
    cur = await conn.execute(sql, (channels,))
    return await cur.fetchall()


async def check_run(
    slack: FakeSlack,
    conn: psycopg.AsyncConnection[Any],
    channels: list[str],
    sent: list[SentEnvelope],
) -> Outcome:
    out = Outcome()
    _check_acks(slack, sent, out)

    stored = {
        (channel, ts): asks
        for channel, ts, asks in await _rows(
            conn,
            "SELECT c.channel_id, m.ts, m.asks FROM messages m JOIN cases c ON c.id = m.case_id"
            " WHERE c.channel_id = ANY(%s) AND m.role = 'user'",
            channels,
        )
    }
    replies = await _rows(
        conn,
        "SELECT r.key, r.case_id, r.channel_id, r.message_ts FROM replies r"
        " JOIN cases c ON c.id = r.case_id WHERE c.channel_id = ANY(%s)",
        channels,
    )
    accounted = {(channel, ts) for _, _, channel, ts in replies}
    # question ts -> (case, channel, reply ts): answer keys are answer:<case>:<question ts>
    answer_of = {
        key.split(":", 2)[2]: (case, channel, ts)
        for key, case, channel, ts in replies
        if key.startswith("answer:")
    }
    posted_at = {
        (c.params.get("channel"), c.response.get("ts")): c.at
        for c in slack.calls_to("chat.postMessage")
        if c.ok
    }

    def text_of(channel: str, ts: str) -> str:
        return str(slack.messages.get(channel, {}).get(ts, {}).get("text", ""))

    for s in sent:
        if s.kind == "message" and (s.channel, s.ts) not in stored:
            out.lost_messages += 1
            out.details.append(f"thread message {s.channel}/{s.ts} not stored")

    questions = [s for s in sent if s.kind == "mention"]
    out.questions = len(questions)
    direct: dict[int, list[str]] = {}  # case -> ts of its directly answered questions
    pointed: list[tuple[int, str]] = []
    for q in questions:
        found = answer_of.get(q.ts)
        if not stored.get((q.channel, q.ts)) or found is None:
            out.lost_questions += 1
            out.details.append(f"question {q.channel}/{q.ts} not stored or never answered")
            continue
        case, channel, reply_ts = found
        if (channel, reply_ts) not in posted_at:
            out.lost_questions += 1
            out.details.append(f"answer {reply_ts} to {q.ts} recorded but never posted")
            continue
        at = posted_at[(channel, reply_ts)]
        out.last_answer_at = max(out.last_answer_at or at, at)
        if POINTER in text_of(channel, reply_ts):
            pointed.append((case, q.ts))
        else:
            direct.setdefault(case, []).append(q.ts)
    out.answered_directly = sum(len(v) for v in direct.values())
    for case, ts in pointed:  # a pointer must lead to an answer of a later question
        if any(float(later) > float(ts) for later in direct.get(case, [])):
            out.pointed += 1
        else:
            out.lost_questions += 1
            out.details.append(f"question {ts} of case {case}: pointer, but no later answer")

    # Every bot post goes through the replies table (post once per trigger, update after);
    # one it does not account for was posted twice, or is an error notice.
    for channel in channels:
        for post in slack.posted_messages(channel=channel):
            if (channel, post["ts"]) in accounted:
                continue
            text = str(post.get("text", ""))
            if text.startswith("⚠️") or "went wrong" in text:
                out.errors += 1
            else:
                out.duplicates += 1
            out.details.append(f"unaccounted post in {channel}: {text[:100]!r}")
    return out


def _check_acks(slack: FakeSlack, sent: list[SentEnvelope], out: Outcome) -> None:
    acks_of = Counter(a.envelope_id for a in slack.acks)
    first = {}
    for ack in slack.acks:
        first.setdefault(ack.envelope_id, ack)
    for s in sent:
        ack = first.get(s.envelope_id)
        if ack is None or ack.latency is None:
            out.unacked += 1
            out.details.append(f"{s.kind} envelope {s.envelope_id} never acked")
            continue
        out.ack_ms.append(ack.latency * 1000)
        out.ack_rows.append((s.kind, ack.acked_at - ack.latency, ack.latency * 1000))
        if acks_of[s.envelope_id] > 1:
            out.double_acked += 1
        if s.kind == "status" and "open case" not in str((ack.payload or {}).get("text")):
            out.unanswered_status += 1
            out.details.append(f"/faultmaven status acked without an answer: {ack.payload}")
