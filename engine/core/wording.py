"""Small wording helpers shared by every reply, so counts read the same everywhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from engine.core.models import CaseStats


def clip(text: str, limit: int) -> str:
    """One line, no backticks (they would end a code span in Slack), at most `limit` chars."""
    text = " ".join(text.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def linked(text: str, link: str | None) -> str:
    """`text` as a Slack link to `link` (plain text when there is no link)."""
    return f"<{link}|{text}>" if link else text


def duration(start: datetime, end: datetime) -> str:
    """'1 h 35 min', '2 d 3 h 0 min', '0 min'."""
    minutes = max(0, int((end - start).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    return " ".join(p for p in parts if p)


def clock(dt: datetime, with_date: bool) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if with_date else dt.strftime("%H:%M")


def time_range(first: datetime, last: datetime, with_date: bool) -> str:
    """'14:00–14:09 UTC', '2026-11-21 14:00–14:09 UTC', or both dates when days differ."""
    if first.date() != last.date():
        return f"{clock(first, True)}–{clock(last, True)} UTC"
    start = clock(first, with_date)
    if (first.hour, first.minute) == (last.hour, last.minute):
        return f"{start} UTC"
    return f"{start}–{clock(last, False)} UTC"


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
