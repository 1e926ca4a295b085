"""Engine replies -> Block Kit. Pure functions: same reply in, same JSON out."""

from __future__ import annotations

from typing import Any

from engine import wording
from engine.models import CaseStats
from engine.replies import (
    AnswerReply,
    CaseClosedReply,
    CaseOpenedReply,
    EvidenceReply,
    NoticeReply,
    Reply,
)

SECTION_LIMIT = 3000  # Slack's limit for a section's text
Block = dict[str, Any]


def _sections(text: str) -> list[Block]:
    """Split long mrkdwn into sections at line breaks, each within Slack's limit."""
    blocks: list[Block] = []
    chunk = ""
    for line in text.splitlines() or [""]:
        while len(line) > SECTION_LIMIT:  # a single monstrous line: hard split
            if chunk:
                blocks.append(_section(chunk))
                chunk = ""
            blocks.append(_section(line[:SECTION_LIMIT]))
            line = line[SECTION_LIMIT:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > SECTION_LIMIT:
            blocks.append(_section(chunk))
            chunk = line
        else:
            chunk = candidate
    if chunk.strip():
        blocks.append(_section(chunk))
    return blocks


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t[:3000]} for t in texts]}


def render(reply: Reply) -> dict[str, Any]:
    """Arguments for chat.postMessage / chat.update: fallback text plus blocks."""
    blocks: list[Block]
    if isinstance(reply, AnswerReply):
        blocks = [*_sections(reply.text), _context(reply.footer)]
    elif isinstance(reply, EvidenceReply):
        lines = [f"📄 {line}" for line in reply.accepted] + [f"⚠️ {r}" for r in reply.rejected]
        blocks = _sections("\n".join(lines))
        if reply.details:
            blocks.append(_context("\n".join(reply.details)))
    elif isinstance(reply, CaseOpenedReply | CaseClosedReply):
        blocks = [*_sections(reply.text)]
    elif isinstance(reply, NoticeReply):
        blocks = _sections(("⚠️ " if reply.is_error else "") + reply.text)
    return {"text": reply.text[:3000], "blocks": blocks[:50]}


def user_ref(user_id: str) -> str:
    """How a user id reads in Slack: a mention that renders as their name."""
    return f"<@{user_id}>" if user_id else "someone"


def case_line(stats: CaseStats) -> str:
    return wording.case_line(stats, user_ref)


def case_list(stats: list[CaseStats], *, empty: str) -> dict[str, Any]:
    if not stats:
        return {"text": empty, "blocks": _sections(empty)}
    text = "\n".join(f"• {case_line(s)}" for s in stats)
    header = f"{len(stats)} open case{'s' if len(stats) != 1 else ''}:"
    return {"text": f"{header}\n{text}", "blocks": _sections(f"{header}\n{text}")}


def home_view(stats: list[CaseStats]) -> dict[str, Any]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "FaultMaven"}},
        _section("Open a case with `/faultmaven open <title>` or mention me in any thread."),
        {"type": "divider"},
    ]
    if stats:
        blocks.append(_section(f"*Open cases ({len(stats)})*"))
        blocks.extend(_section(f"• {case_line(s)} in <#{s.case.channel_id}>") for s in stats[:40])
    else:
        blocks.append(_section("_No open cases._"))
    return {"type": "home", "blocks": blocks[:100]}
