"""Small wording helpers shared by every reply, so counts read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # models import the evidence modules, which use plural() from here
    from engine.models import CaseStats


def plural(n: int, noun: str) -> str:
    """'1 file', '2 files', '12,034 lines'."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def case_line(stats: CaseStats, user_ref: Callable[[str], str] = str) -> str:
    """One line per case for `status`, `list` and App Home."""
    case = stats.case
    return (
        f"*#{case.id}* {case.title} — {case.phase}, {plural(stats.evidence_count, 'file')}, "
        f"{plural(stats.error_count, 'error')}, {plural(stats.message_count, 'message')}, "
        f"opened by {user_ref(case.opened_by)} {case.created_at:%b %d %H:%M} UTC"
    )
