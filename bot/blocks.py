"""Engine replies -> Block Kit. Pure functions: same reply in, same JSON out."""

from __future__ import annotations

import re
from typing import Any

from bot.ids import ActionId, document_value, hypothesis_value
from engine.cases.summary import PHASE_LABELS, describe_line
from engine.core import wording
from engine.core.models import CaseStats
from engine.core.replies import (
    AnswerReply,
    CaseClosedReply,
    CaseOpenedReply,
    CaseSummaryReply,
    EvidenceReply,
    HypothesisLine,
    KnowledgeReply,
    NoticeReply,
    OutcomePrompt,
    Reply,
)

SECTION_LIMIT = 3000  # Slack's limit for a section's text
Block = dict[str, Any]

# Slack's own markup that must survive escaping: user/channel mentions, specials, links.
_SLACK_TOKEN = re.compile(
    r"<(?:[@#][A-Z0-9]+(?:\|[^<>]*)?|![a-z][^<>]*|(?:https?|mailto):[^<>\s|]+(?:\|[^<>]*)?)>"
)


def escape_mrkdwn(text: str) -> str:
    """Escape &, < and > (log text like `<*>` or `a<b`) but keep Slack mentions and links."""
    out: list[str] = []
    last = 0
    for token in _SLACK_TOKEN.finditer(text):
        out.append(_escape(text[last : token.start()]))
        out.append(token.group(0))
        last = token.end()
    out.append(_escape(text[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sections(text: str) -> list[Block]:
    """Escape, then split into sections at line breaks, each within Slack's limit."""
    text = escape_mrkdwn(text)
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
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": t[:SECTION_LIMIT]} for t in texts],
    }


def render(reply: Reply) -> dict[str, Any]:
    """Arguments for chat.postMessage / chat.update: fallback text plus blocks."""
    blocks: list[Block]
    if isinstance(reply, AnswerReply):
        blocks = [*_sections(reply.text), _context(escape_mrkdwn(reply.footer))]
    elif isinstance(reply, EvidenceReply):
        lines = [f"📄 {line}" for line in reply.accepted] + [f"⚠️ {r}" for r in reply.rejected]
        blocks = _sections("\n".join(lines))
        if reply.details:
            blocks.append(_context(escape_mrkdwn("\n".join(reply.details))))
        if reply.suspects:
            ranked = [f"{i}. {line}" for i, line in enumerate(reply.suspects, 1)]
            blocks.extend(_sections("\n".join(["*Suspects so far*", *ranked])))
        if reply.timeline:
            text = "\n".join(["*Timeline (UTC)*", *reply.timeline])
            blocks.append(_context(escape_mrkdwn(text)))
    elif isinstance(reply, CaseSummaryReply):
        blocks = summary_blocks(reply)
    elif isinstance(reply, CaseClosedReply):
        blocks = [*_sections(reply.text), *outcome_blocks(reply.case_id, reply.outcome)]
    elif isinstance(reply, CaseOpenedReply):
        blocks = [*_sections(reply.text)]
    elif isinstance(reply, NoticeReply):
        blocks = _sections(("⚠️ " if reply.is_error else "") + reply.text)
    elif isinstance(reply, KnowledgeReply):
        blocks = knowledge_blocks(reply)
    return {"text": escape_mrkdwn(reply.text)[:SECTION_LIMIT], "blocks": blocks[:50]}


def _button(text: str, action: ActionId, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action.value,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _hypothesis_blocks(
    case_id: int, rank: int, line: HypothesisLine, *, closed: bool
) -> list[Block]:
    text = f"*{rank}.* {escape_mrkdwn(describe_line(line))}"
    if line.evidence:
        text += f"\n_{escape_mrkdwn(line.evidence)}_"
    if line.check and line.status in ("proposed", "testing") and not closed:
        text += f"\nRun check: `{escape_mrkdwn(line.check)}`"
    blocks = [_section(text[:SECTION_LIMIT])]
    if line.status in ("proposed", "testing") and not closed:  # decided: no buttons
        value = hypothesis_value(case_id, line.key)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"hypothesis-{rank}",
                "elements": [
                    _button("Confirm", ActionId.CONFIRM_HYPOTHESIS, value, "primary"),
                    _button("Rule out", ActionId.RULE_OUT_HYPOTHESIS, value),
                    # A live source can test it: the click runs the check shown here.
                    *([_button("Run check", ActionId.RUN_CHECK, value)] if line.check else []),
                ],
            }
        )
    return blocks


def summary_blocks(reply: CaseSummaryReply) -> list[Block]:
    """The case summary: phase, conclusion, hypotheses with Confirm / Rule out, next steps."""
    title = escape_mrkdwn(f"Case #{reply.case_id}: {reply.title}")
    blocks: list[Block] = [
        _section(f"*{title}* · {PHASE_LABELS.get(reply.phase, reply.phase)}"),
        _section(
            f"*Working conclusion:* {escape_mrkdwn(reply.working_conclusion)}"[:SECTION_LIMIT]
        ),
    ]
    for rank, line in enumerate(reply.hypotheses, 1):
        blocks.extend(
            _hypothesis_blocks(reply.case_id, rank, line, closed=reply.phase == "resolved")
        )
    if reply.next_steps:
        steps = "\n".join(f"• {step}" for step in reply.next_steps)
        blocks.extend(_sections(f"*Next steps*\n{steps}"))
    footer = [f"⏳ {reply.status}"] if reply.status else []
    footer += [reply.footer] if reply.footer else []
    if footer:
        blocks.append(_context(*(escape_mrkdwn(f) for f in footer)))
    return blocks


def outcome_blocks(case_id: int, outcome: OutcomePrompt | None) -> list[Block]:
    """The close summary's grade of its leading hypothesis (four buttons, one click), then
    an "It helped" button on each page the case was shown."""
    if outcome is None:
        return []
    blocks: list[Block] = []
    if outcome.hypothesis_key is not None:
        value = hypothesis_value(case_id, outcome.hypothesis_key)
        blocks.append(
            {
                "type": "actions",
                "block_id": "outcome-grade",
                "elements": [
                    _button("Root cause", ActionId.OUTCOME_ROOT_CAUSE, value, "primary"),
                    _button("Contributing", ActionId.OUTCOME_CONTRIBUTING, value),
                    _button("Only a symptom", ActionId.OUTCOME_SYMPTOM, value),
                    _button("Wrong", ActionId.OUTCOME_WRONG, value, "danger"),
                ],
            }
        )
    for option in outcome.helped:
        kind = "Past case" if option.kind == "case" else "Runbook"
        label = escape_mrkdwn(f"{kind}: {wording.linked(option.title, option.link)}")
        blocks.append(
            {
                "type": "section",
                "block_id": f"outcome-helped:{option.document_id}",
                "text": {"type": "mrkdwn", "text": label[:SECTION_LIMIT]},
                "accessory": _button(
                    "It helped",
                    ActionId.OUTCOME_HELPED,
                    document_value(option.document_id, case_id),
                ),
            }
        )
    return blocks


def knowledge_blocks(reply: KnowledgeReply) -> list[Block]:
    """Cited documents, one section each (snippet under it), with Helpful / Outdated on the
    ones people can judge: votes weigh the document in later searches."""
    blocks: list[Block] = [_section(f"*{escape_mrkdwn(reply.heading)}*")]
    if not reply.lines:
        return _sections(reply.text)
    for line in reply.lines[:12]:
        blocks.append(_section(escape_mrkdwn(line.text)[:SECTION_LIMIT]))
        if line.snippet:
            blocks.append(_context(escape_mrkdwn(line.snippet)))
        if line.votable:
            value = document_value(line.document_id, reply.case_id)
            blocks.append(
                {
                    "type": "actions",
                    "block_id": f"knowledge:{line.document_id}",
                    "elements": [
                        _button("👍 Helpful", ActionId.KNOWLEDGE_HELPFUL, value),
                        _button("👎 Outdated", ActionId.KNOWLEDGE_OUTDATED, value),
                    ],
                }
            )
    return blocks


def user_ref(user_id: str) -> str:
    """How a user id reads in Slack: a mention that renders as their name."""
    return f"<@{user_id}>" if user_id else "someone"


def case_line(stats: CaseStats) -> str:
    return wording.case_line(stats, user_ref)


def case_list(stats: list[CaseStats], *, empty: str) -> dict[str, Any]:
    if not stats:
        return message(empty)
    lines = "\n".join(f"• {case_line(s)}" for s in stats)
    return message(f"{wording.plural(len(stats), 'open case')}:\n{lines}")


def message(text: str) -> dict[str, Any]:
    """A plain mrkdwn message (acks, notices): escaped fallback text plus sections."""
    return {"text": escape_mrkdwn(text)[:SECTION_LIMIT], "blocks": _sections(text)}


def investigate_offer(alert_ts: str) -> dict[str, Any]:
    """The thread reply under an alert another integration posted: one Investigate button,
    whose value is the alert message's ts (bot/listeners/alert_messages.py)."""
    text = "This looks like an alert. Want me to open a case and investigate it?"
    return {
        "text": text,
        "blocks": [
            _section(text),
            {
                "type": "actions",
                "block_id": "alert-investigate",
                "elements": [
                    _button("🔎 Investigate", ActionId.INVESTIGATE_ALERT, alert_ts, "primary")
                ],
            },
        ],
    }
