"""When the incident started, as people say it in the question or the thread.

"users report failing requests since about 08:43 UTC on 2024-03-11", "since 14:00",
"started at 2024-03-11T08:43Z", "around 9:15 pm": the earliest such time sets the start of
the incident window that metric changes are weighed against. A time without a date takes the
evidence's date (the day the evidence covers that time, else its last day); times are UTC
unless an offset is written ("+02:00", "-0500").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone

from engine.evidence.reports import AnyReport

_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
# 08:43, 8:43:10, 08:43 UTC, 08:43+02:00, 9:15 pm, 2024-03-11T08:43Z
_TIME = re.compile(
    r"(?<![\d:.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*"
    r"(am|pm|a\.m\.|p\.m\.)?\s*(z\b|utc\b|gmt\b|[+-]\d{2}:?\d{2}\b)?",
    re.IGNORECASE,
)
_NEAR_DATE = 40  # characters between a date and the time it goes with


def _zone(text: str | None) -> timezone:
    if not text or text.lower() in ("z", "utc", "gmt"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _hour(hour: int, meridiem: str | None) -> int | None:
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem.lower().startswith("p") else 0)
    return hour if hour < 24 else None


def _date_near(text: str, position: int) -> date | None:
    """The date written within a few words of a time, before or after it."""
    best: tuple[int, date] | None = None
    for match in _DATE.finditer(text):
        distance = min(abs(match.end() - position), abs(match.start() - position))
        if distance > _NEAR_DATE:
            continue
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
        if best is None or distance < best[0]:
            best = (distance, day)
    return best[1] if best else None


def _evidence_day(clock: datetime, spans: list[tuple[datetime, datetime]]) -> date | None:
    """The evidence day on which this wall-clock time falls inside a file's time span."""
    days = sorted({d for start, end in spans for d in (start.date(), end.date())})
    for day in days:
        moment = datetime.combine(day, clock.timetz())
        if any(start <= moment <= end for start, end in spans):
            return day
    return days[-1] if days else None


def incident_start(texts: Iterable[str], spans: list[tuple[datetime, datetime]]) -> datetime | None:
    """The earliest time people give for the incident, in UTC; None when they give none.

    `spans` are the (first, last) times of the evidence files, for times written without a
    date.
    """
    found: list[datetime] = []
    for text in texts:
        for match in _TIME.finditer(text):
            hour = _hour(int(match[1]), match[4])
            minute, second = int(match[2]), int(match[3] or 0)
            if hour is None or minute > 59 or second > 59:
                continue
            zone = _zone(match[5])
            clock = datetime(2000, 1, 1, hour, minute, second, tzinfo=zone)
            day = _date_near(text, match.start()) or _evidence_day(clock, spans)
            if day is None:
                continue
            found.append(datetime.combine(day, clock.timetz()).astimezone(UTC))
    return min(found, default=None)


def evidence_spans(reports: Iterable[AnyReport]) -> list[tuple[datetime, datetime]]:
    """(first, last) time of each file that has times."""
    spans = []
    for report in reports:
        first, last = getattr(report, "first_ts", None), getattr(report, "last_ts", None)
        if isinstance(first, datetime) and isinstance(last, datetime):
            spans.append((first, last))
    return spans


def case_incident_start(texts: Iterable[str], reports: list[AnyReport]) -> datetime | None:
    """When the people of a case say the trouble started, dated by its evidence."""
    return incident_start(texts, evidence_spans(reports))
