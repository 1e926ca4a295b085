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

from bot import parsing
from bot.blocks import SECTION_LIMIT, case_list, escape_mrkdwn, render, summary_blocks
from bot.home_view import home_view
from bot.ids import ActionId, hypothesis_value, parse_document_value
from engine.core.models import Case, CaseStats, FeedbackRequest
from engine.core.replies import (
    AnswerReply,
    CaseClosedReply,
    CaseSummaryReply,
    EvidenceReply,
    HypothesisLine,
    KnowledgeLine,
    KnowledgeReply,
    NoticeReply,
)
from engine.knowledge.base import KnowledgeStats

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
    resolved = stats(9, "payments pool exhausted").case.model_copy(
        update={"status": "resolved", "resolution": "raised the pool to 50", "closed_at": WHEN}
    )
    knowledge = KnowledgeStats({"global": 9, "channel": 2, "case": 1}, 140, 3, 1)
    view = home_view([stats(12)], [resolved], knowledge)
    check_snapshot("home", view)
    texts = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert "*Open cases in your channels (1)*" in texts
    assert "*#9* payments pool exhausted — fix: raised the pool to 50 (Nov 21, <#C1>)" in texts
    assert "9 runbooks, 2 team notes, 1 past case (140 sections searchable) · 👍 3 · 👎 1" in texts


def test_cited_knowledge_has_links_and_votes_on_runbooks_only() -> None:
    reply = KnowledgeReply(
        case_id=12,
        heading="📚 Related knowledge",
        lines=[
            KnowledgeLine(
                document_id=4,
                kind="case",
                text="Looks like <https://x.slack.com/archives/C1/p1|case #3> (Oct 3): pool",
            ),
            KnowledgeLine(
                document_id=7,
                kind="runbook",
                text="Runbook: PostgreSQL › Connection pool exhausted <with brackets>",
                votable=True,
            ),
        ],
        text="📚 Related knowledge",
    )
    rendered = render(reply)
    check_snapshot("knowledge", rendered)
    sections = [b["text"]["text"] for b in rendered["blocks"] if b["type"] == "section"]
    assert "<https://x.slack.com/archives/C1/p1|case #3>" in sections[1]
    assert "&lt;with brackets&gt;" in sections[2]
    actions = [b for b in rendered["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1  # past cases are not voted on, runbooks are
    assert [e["action_id"] for e in actions[0]["elements"]] == [
        ActionId.KNOWLEDGE_HELPFUL,
        ActionId.KNOWLEDGE_OUTDATED,
    ]
    assert parse_document_value(actions[0]["elements"][0]["value"]) == (7, 12)


def test_log_text_is_escaped_but_mentions_survive() -> None:
    assert escape_mrkdwn("a<b & `<*>` by <@U123> in <#C9|ops> see <https://x.io/a?b=1>") == (
        "a&lt;b &amp; `&lt;*&gt;` by <@U123> in <#C9|ops> see <https://x.io/a?b=1>"
    )
    # a labelled link keeps its label, spaces and all
    assert escape_mrkdwn("<https://x.io/a|case #3 (Oct 3)> <b>") == (
        "<https://x.io/a|case #3 (Oct 3)> &lt;b&gt;"
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


# ---------------------------------------------------------------- the case summary


def hypothesis(key: str, status: str, confidence: float, **extra: Any) -> HypothesisLine:
    return HypothesisLine.model_validate(
        {"key": key, "statement": f"statement of {key}", "confidence": confidence}
        | {"status": status, **extra}
    )


def case_summary_reply(**overrides: Any) -> CaseSummaryReply:
    values: dict[str, Any] = {
        "case_id": 12,
        "title": "checkout 502s",
        "phase": "analyzing",
        "working_conclusion": "The payments-db pool is exhausted (confirmed by <@U1>)",
        "confidence": 0.9,
        "hypotheses": [
            hypothesis(
                "db-pool-exhausted:payments",
                "confirmed",
                0.9,
                decided_by="<@U1>",
                evidence="40× upstream payments-db: pool exhausted after <*> ms (checkout.log)",
            ),
            hypothesis("timeout:payments", "testing", 0.42),
            hypothesis("http-5xx:checkout", "proposed", 0.38),
            hypothesis("dns:-", "ruled_out", 0.0, decided_by="<@U2>"),
        ],
        "next_steps": ["Count active connections (`SELECT count(*) FROM pg_stat_activity;`)"],
        "footer": "Offline analysis — no LLM was used · 1 file, 3 messages",
        "text": "Case #12: checkout 502s",
    }
    return CaseSummaryReply(**(values | overrides))


def test_summary_snapshot() -> None:
    reply = case_summary_reply()
    rendered = render(reply)
    check_snapshot("summary", rendered)
    assert rendered["blocks"] == summary_blocks(reply)


def test_summary_buttons_are_only_on_hypotheses_still_open() -> None:
    blocks = summary_blocks(case_summary_reply())

    actions = [b for b in blocks if b["type"] == "actions"]
    # Ranks 2 (testing) and 3 (proposed); the confirmed and the ruled-out one are decided.
    assert [b["block_id"] for b in actions] == ["hypothesis-2", "hypothesis-3"]
    for block, key in zip(actions, ["timeout:payments", "http-5xx:checkout"], strict=True):
        confirm, rule_out = block["elements"]
        assert (confirm["action_id"], confirm["style"]) == (ActionId.CONFIRM_HYPOTHESIS, "primary")
        assert rule_out["action_id"] == ActionId.RULE_OUT_HYPOTHESIS and "style" not in rule_out
        assert confirm["value"] == rule_out["value"] == hypothesis_value(12, key) == f"12|{key}"
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert texts[0] == "*Case #12: checkout 502s* · 🧪 analyzing"
    assert texts[2].startswith("*1.* ✅ statement of db-pool-exhausted:payments — 90%")
    assert "(confirmed by <@U1>)" in texts[2] and "after &lt;*&gt; ms" in texts[2]
    assert texts[5] == "*4.* 🚫 statement of dns:- — 0% (ruled out by <@U2>)"


def test_summary_shows_a_run_in_progress() -> None:
    idle = summary_blocks(case_summary_reply())
    running = summary_blocks(case_summary_reply(status="reading 2 files and 3 messages…"))

    assert running[-1]["elements"][0]["text"] == "⏳ reading 2 files and 3 messages…"
    assert "⏳" not in json.dumps(idle, ensure_ascii=False)
    assert running[:-1] == idle[:-1]  # the same summary, only the status line differs


def test_a_summary_stays_within_slack_limits() -> None:
    long_lines = [
        hypothesis(f"k{i}:" + "x" * 2100, "proposed", 0.5, evidence="e" * 4000) for i in range(5)
    ]
    reply = case_summary_reply(
        hypotheses=long_lines, working_conclusion="w" * 5000, next_steps=["s" * 900] * 4
    )
    blocks = summary_blocks(reply)

    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in blocks if b["type"] == "section")
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(values) == 10 and all(len(v) <= 2000 for v in values)


def _click(button: dict[str, Any], *, user: str = "U9", action_ts: str = "1.5") -> dict[str, Any]:
    """The parts of a block_actions payload the bot reads (tests/fakes builds the whole one)."""
    action = {"action_id": button["action_id"], "value": button["value"], "action_ts": action_ts}
    return {"type": "block_actions", "user": {"id": user}, "trigger_id": "t", "actions": [action]}


def test_a_summary_button_click_reads_back_as_feedback() -> None:
    block = next(b for b in summary_blocks(case_summary_reply()) if b["type"] == "actions")
    confirm, rule_out = block["elements"]

    assert parsing.feedback_request(_click(confirm)) == FeedbackRequest(
        case_id=12, hypothesis_key="timeout:payments", kind="confirm", user="U9"
    )
    assert parsing.feedback_request(_click(rule_out)) == FeedbackRequest(
        case_id=12, hypothesis_key="timeout:payments", kind="rule_out", user="U9"
    )
    # One key per click: the same click delivered twice, not two clicks of one button.
    assert parsing.action_key(_click(confirm)) == parsing.action_key(_click(confirm))
    assert parsing.action_key(_click(confirm)) != parsing.action_key(_click(confirm, action_ts="2"))
    assert parsing.feedback_request(_click({**confirm, "value": "old-style"})) is None
