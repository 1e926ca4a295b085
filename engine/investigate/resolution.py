"""The resolution summary posted when a case closes (Markdown)."""

from __future__ import annotations

from collections.abc import Callable

from engine.core.models import Case, Message
from engine.core.wording import duration, plural
from engine.evidence.reports import Evidence
from engine.investigate.prompting import evidence_details


def resolution_summary(
    case: Case,
    *,
    closed_by: str,
    history: list[Message],
    evidence: list[Evidence],
    user_ref: Callable[[str], str],
) -> str:
    closed_at = case.closed_at or case.updated_at
    lines = [
        f"*Case #{case.id} resolved:* {case.title}",
        f"*Resolution:* {case.resolution or '_none given_'}",
        f"*Opened* {case.created_at:%Y-%m-%d %H:%M} UTC by {user_ref(case.opened_by)} · "
        f"*closed* {closed_at:%H:%M} UTC by {user_ref(closed_by)} "
        f"({duration(case.created_at, closed_at)})",
    ]
    analysed = [e for e in evidence if e.status == "analysed"]
    if analysed:
        lines.append("*Evidence*")
        lines.extend(f"• {e.summary}" for e in analysed)
        key_errors = [d for e in analysed for d in evidence_details(e, limit=2)]
        if key_errors:
            lines.append("*Key errors*")
            lines.extend(f"• {d}" for d in key_errors[:5])
    people = sorted({m.author for m in history if m.role == "user"})
    lines.append(
        f"*Conversation:* {plural(sum(1 for m in history if m.role == 'user'), 'message')}"
        + (f" from {', '.join(user_ref(p) for p in people)}" if people else "")
    )
    return "\n".join(lines)
