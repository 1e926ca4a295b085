"""Render the LLM prompt from Jinja templates (StrictUndefined: a missing field is a bug).

Messages and evidence are quoted data: they go inside <case_history>/<evidence> tags, and
anything in them that looks like one of those tags is neutralised so a file cannot close the
data block and speak as instructions.
"""

from __future__ import annotations

import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from engine.evidence.analyze import describe_report
from engine.evidence.redact import Redactor
from engine.models import Case, Evidence, Message

PROMPTS_DIR = Path(__file__).parent / "prompts"
MAX_MESSAGE_CHARS = 2000
MAX_GROUPS_PER_FILE = 8

_env = Environment(
    loader=FileSystemLoader(PROMPTS_DIR),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
)
_DATA_TAG = re.compile(r"<(/?)\s*(case_history|evidence)", re.IGNORECASE)


def quote(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Data as it may appear inside a tag block: no tag look-alikes, bounded length."""
    text = _DATA_TAG.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)
    return text if len(text) <= limit else text[:limit] + " …[truncated]"


def evidence_details(item: Evidence, limit: int = MAX_GROUPS_PER_FILE) -> list[str]:
    """The top error groups of a file, one line each (empty for rejected or text files)."""
    return describe_report(item.report, limit) if item.report is not None else []


def build_messages(
    case: Case,
    history: list[Message],
    evidence: list[Evidence],
    question: str,
    asker: str,
    redactor: Redactor,
) -> list[dict[str, str]]:
    """The chat messages for one answer. What people typed is redacted here too (a pasted
    token must not reach the LLM); evidence text was redacted when it was analysed."""

    def typed(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
        return quote(redactor.redact(text).text, limit)

    system = _env.get_template("system.jinja2").render()
    user = _env.get_template("answer.jinja2").render(
        case={
            "id": case.id,
            "title": typed(case.title, 200),
            "opened_by": case.opened_by,
            "status": case.status,
        },
        history=[
            {
                "when": m.created_at.strftime("%H:%M"),
                "author": quote(m.author, 80),
                "role": m.role,
                "text": typed(m.text),
            }
            for m in history
        ],
        evidence=[
            {
                "name": quote(e.name, 200),
                "summary": quote(e.summary),
                "details": [quote(d) for d in evidence_details(e)],
            }
            for e in evidence
            if e.status == "analysed"
        ],
        question=typed(question),
        asker=quote(asker, 80),
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
