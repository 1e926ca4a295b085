"""Block Kit builders: pure functions, checked against JSON snapshots a reviewer can read.

Run with UPDATE_SNAPSHOTS=1 to rewrite the snapshots after an intended change, then review
the diff like any other code change.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.blocks import SECTION_LIMIT, case_list, escape_mrkdwn, home_view, render
from engine.models import Case, CaseStats
from engine.replies import AnswerReply, CaseClosedReply, EvidenceReply, NoticeReply

SNAPSHOTS = Path(__file__).parent / "snapshots"
WHEN = datetime(2026, 11, 21, 14, 5, tzinfo=UTC)


def check_snapshot(name: str, value: dict[str, Any]) -> None:
    path = SNAPSHOTS / f"{name}.json"
    rendered = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.write_text(rendered)
    assert rendered == path.read_text(), f"{name} changed; UPDATE_SNAPSHOTS=1 to accept"


def stats(case_id: int = 12, title: str = "checkout 502s") -> CaseStats:
    case = Case(
        id=case_id,
        team_id="T1",
        channel_id="C1",
        thread_ts="1.0",
        title=title,
        status="open",
        phase="consulting",
        opened_by="U1",
        created_at=WHEN,
        updated_at=WHEN,
    )
    return CaseStats(
        case=case, message_count=7, evidence_count=2, error_count=40, last_activity=WHEN
    )


def test_answer_snapshot() -> None:
    reply = AnswerReply(
        case_id=12,
        engine="offline",
        text="*Most likely:* pool exhausted.\n\n*Check next*\n"
        "• `SELECT count(*) FROM pg_stat_activity;`",
        footer="Offline analysis — no LLM was used · 1 file, 3 messages",
    )
    check_snapshot("answer", render(reply))


def test_evidence_snapshot() -> None:
    reply = EvidenceReply(
        case_id=12,
        text="",
        accepted=[
            "checkout.log: 458 lines, 14:00–14:09 UTC, 40 ERROR (1 distinct: `timeout after <*>`)"
        ],
        rejected=["core.bin looks binary, not a text log."],
        details=["40× ERROR `timeout after <*>` (first 2026-11-21 14:02:36 UTC, line 133)"],
        suspects=["payments (0.80): errors 0.0/min → 10/min from 14:05 (payments.json)"],
        timeline=["14:05 error rate 0.0/min → 10/min (checkout.log)"],
    )
    rendered = render(reply)
    check_snapshot("evidence", rendered)
    texts = [b["text"]["text"] for b in rendered["blocks"] if b["type"] == "section"]
    assert "*Suspects so far*\n1. payments (0.80)" in texts[-1]


def test_case_list_and_home_snapshots() -> None:
    check_snapshot(
        "case_list", case_list([stats(12), stats(13, "kafka lag & <retries>")], empty="none")
    )
    check_snapshot("home", home_view([stats(12)]))


def test_log_text_is_escaped_but_mentions_survive() -> None:
    assert escape_mrkdwn("a<b & `<*>` by <@U123> in <#C9|ops> see <https://x.io/a?b=1>") == (
        "a&lt;b &amp; `&lt;*&gt;` by <@U123> in <#C9|ops> see <https://x.io/a?b=1>"
    )
    shown = json.dumps(render(NoticeReply(text="upstream <*> refused")))
    assert "&lt;*&gt;" in shown and "<*>" not in shown


def test_long_answers_split_into_sections_within_slack_limits() -> None:
    text = "\n".join(f"• line {i} " + "x" * 200 for i in range(60))
    rendered = render(CaseClosedReply(case_id=1, title="t", text=text))
    sections = [b for b in rendered["blocks"] if b["type"] == "section"]
    assert len(sections) > 1
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in sections)
    joined = "\n".join(b["text"]["text"] for b in sections)
    assert joined == text  # nothing lost or reordered


@pytest.mark.parametrize("length", [SECTION_LIMIT + 1, SECTION_LIMIT * 3])
def test_a_single_huge_line_is_split_too(length: int) -> None:
    rendered = render(NoticeReply(text="y" * length))
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in rendered["blocks"])
    assert sum(len(b["text"]["text"]) for b in rendered["blocks"]) == length
