"""The App Home tab: open cases of the channels the person is in, recent resolutions of those
channels, what the knowledge base holds, and how right FaultMaven was on graded cases."""

from __future__ import annotations

from typing import Any

from bot.blocks import Block, _context, _section, case_line, escape_mrkdwn
from engine.cases.accuracy import AccuracyStats, accuracy_lines
from engine.core.models import Case, CaseStats
from engine.core.wording import clip, plural
from engine.knowledge.base import KnowledgeStats

SHOWN_OPEN = 30
SHOWN_RESOLVED = 8


def _resolved_line(case: Case) -> str:
    when = f"{(case.closed_at or case.updated_at):%b %-d}"
    fix = clip(case.resolution or "no resolution given", 100)
    return f"• *#{case.id}* {clip(case.title, 60)} — fix: {fix} ({when}, <#{case.channel_id}>)"


def _knowledge_line(stats: KnowledgeStats) -> str:
    tiers = stats.documents
    parts = [
        plural(tiers.get("global", 0), "runbook"),
        plural(tiers.get("channel", 0), "team note"),
        plural(tiers.get("case", 0), "past case"),
    ]
    voted = stats.helpful or stats.outdated
    votes = f" · 👍 {stats.helpful} · 👎 {stats.outdated}" if voted else ""
    return f"{', '.join(parts)} ({plural(stats.chunks, 'section')} searchable){votes}"


def home_view(
    open_cases: list[CaseStats],
    resolved: list[Case] | None = None,
    knowledge: KnowledgeStats | None = None,
    *,
    scope: str = "your channels",
    accuracy: AccuracyStats | None = None,
) -> dict[str, Any]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "FaultMaven"}},
        _section("Open a case with `/faultmaven open <title>` or mention me in any thread."),
        {"type": "divider"},
    ]
    if open_cases:
        blocks.append(_section(f"*Open cases in {scope} ({len(open_cases)})*"))
        blocks.extend(
            _section(escape_mrkdwn(f"• {case_line(s)} in <#{s.case.channel_id}>"))
            for s in open_cases[:SHOWN_OPEN]
        )
    else:
        blocks.append(_section(f"_No open cases in {scope}._"))
    if resolved is not None:
        blocks += [{"type": "divider"}, _section("*Recently resolved*")]
        lines = [_resolved_line(c) for c in resolved[:SHOWN_RESOLVED]]
        blocks.append(_section(escape_mrkdwn("\n".join(lines)) if lines else "_None yet._"))
    if knowledge is not None:
        blocks += [
            {"type": "divider"},
            _section(f"*Knowledge:* {escape_mrkdwn(_knowledge_line(knowledge))}"),
            _context(
                "Search it with `/faultmaven search <text>`; add to it with "
                "`/faultmaven kb add <url|text>`. Closed cases are added on their own."
            ),
        ]
    if accuracy is not None:
        figures = "\n".join(f"• {line}" for line in accuracy_lines(accuracy))
        blocks += [
            {"type": "divider"},
            _section(f"*How right FaultMaven was*\n{escape_mrkdwn(figures)}"),
            _context("Graded at close with the buttons of the close summary · `/faultmaven stats`"),
        ]
    return {"type": "home", "blocks": blocks[:100]}
