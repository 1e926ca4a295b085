"""LogReport -> words: one line a person scans in Slack, and a few lines per error group.

Example: checkout.log: 12,034 lines, 14:00–14:09 UTC, 40 ERROR (1 distinct: `upstream
payments-db: connection pool exhausted`), 15 WARN; errors start 14:02, peak 14:03 (31/min)
"""

from __future__ import annotations

from datetime import date

from engine.core.redact import describe_counts
from engine.core.wording import clip, clock, plural, time_range
from engine.evidence.logs.report import ErrorGroup, LogAnomaly, LogReport

SHOWN_GROUPS = 3
SHOWN_HEADINGS = 4
SUMMARY_MESSAGE_CHARS = 80
DESCRIBE_MESSAGE_CHARS = 200


def _errors(report: LogReport) -> str:
    counts = report.level_counts
    parts = [f"{counts[level]:,} {level}" for level in ("FATAL", "ERROR") if counts.get(level)]
    if not counts:
        return "no log levels found"  # not the same as "no errors"
    if not parts:
        parts = ["no errors"]
    elif report.error_groups:
        distinct = max(report.error_group_count, len(report.error_groups))
        shown = ", ".join(
            f"`{clip(group.message, SUMMARY_MESSAGE_CHARS)}`"
            for group in report.error_groups[:SHOWN_GROUPS]
        )
        label = f"{distinct:,} distinct" + (", top" if distinct > SHOWN_GROUPS else "")
        parts[-1] += f" ({label}: {shown})"
    if counts.get("WARN"):
        parts.append(f"{counts['WARN']:,} WARN")
    return ", ".join(parts)


def _error_timing(report: LogReport, with_date: bool) -> str:
    first = report.first_error_ts
    if first is None:
        return ""
    text = f"errors start {clock(first, with_date)}"
    peak = report.busiest_error_minute
    if peak is not None and len(report.error_timeline) > 1:
        text += f", peak {clock(peak.minute, with_date)} ({peak.count:,}/min)"
    return text


def _summarize_text(report: LogReport, lines: str) -> str:
    if report.language is None:
        text = f"{report.name}: {lines} of text (no log timestamps or levels found)"
    elif report.language == "Markdown":
        text = f"{report.name}: {lines} of Markdown"
    else:
        text = f"{report.name}: {lines} of {report.language} code"
    if report.headings:
        outline = " › ".join(clip(h, 40) for h in report.headings[:SHOWN_HEADINGS])
        more = len(report.headings) - SHOWN_HEADINGS
        text += f" (headings: {outline}{f' and {more} more' if more > 0 else ''})"
    return text


def summarize(report: LogReport, *, today: date | None = None) -> str:
    """One short line about the file. The date is shown when the log spans several days,
    or when `today` is given and the log is from another day."""
    lines = plural(report.line_count, "line")
    if report.kind == "text":
        return _summarize_text(report, lines)
    first, last = report.first_ts, report.last_ts
    parts = [lines]
    spans_days = False
    if first is not None and last is not None:
        spans_days = first.date() != last.date()
        with_date = today is not None and first.date() != today
        parts.append(time_range(first, last, with_date))
    else:
        parts.append("no timestamps")
    parts.append(_errors(report))
    text = f"{report.name}: {', '.join(parts)}"
    timing = _error_timing(report, spans_days)
    text = f"{text}; {timing}" if timing else text
    masked = describe_counts(report.redactions)
    return f"{text}; {masked}" if masked else text


def _describe(group: ErrorGroup) -> str:
    message = clip(group.message, DESCRIBE_MESSAGE_CHARS)
    where = f"line {group.first_line:,}"
    if group.first_seen is not None:
        where = f"first {group.first_seen:%Y-%m-%d %H:%M:%S} UTC, {where}"
        if group.last_seen is not None and group.last_seen != group.first_seen:
            where += f", last {group.last_seen:%Y-%m-%d %H:%M:%S} UTC"
    text = f"{group.count:,}× {group.level} `{message}` ({where})"
    if group.example != group.message:
        text += f" e.g. `{clip(group.example, DESCRIBE_MESSAGE_CHARS)}`"
    return text


def rate(per_min: float) -> str:
    return f"{per_min:.1f}/min" if per_min < 10 else f"{per_min:,.0f}/min"


def describe_anomaly(anomaly: LogAnomaly) -> str:
    """What changed, without its time: 'new `could not get connection…` (payments, 375×)'."""
    who = f"{anomaly.component}, " if anomaly.component else ""
    text = f"`{clip(anomaly.template or '', SUMMARY_MESSAGE_CHARS)}`"
    if anomaly.kind == "error-rate":
        return f"error rate {rate(anomaly.before_per_min)} → {rate(anomaly.during_per_min)}"
    if anomaly.kind == "new":
        return f"new {text} ({who}{anomaly.count:,}×)"
    if anomaly.kind == "surge":
        change = f"{rate(anomaly.before_per_min)} → {rate(anomaly.during_per_min)}"
        return f"surge of {text} ({who}{change})"
    return f"stopped: {text} ({who}was {rate(anomaly.before_per_min)})"


def describe_changes(report: LogReport, limit: int = 3) -> list[str]:
    """The incident window of the file and what changed in it, strongest first."""
    lines = []
    for anomaly in report.anomalies[:limit]:
        when = f"from {anomaly.at:%H:%M}"
        if anomaly.until is not None:
            when += f" to {anomaly.until:%H:%M}"
        lines.append(f"{when}: {describe_anomaly(anomaly)}")
    return lines


def describe_groups(report: LogReport, limit: int = 5) -> list[str]:
    """What changed (when the error rate rose), then one line per top error group (count,
    level, message, when), most frequent first."""
    changes = describe_changes(report, min(3, limit))
    lines = [*changes, *(_describe(group) for group in report.error_groups[: limit - len(changes)])]
    more = max(report.error_group_count, len(report.error_groups)) - len(lines)
    if more > 0:
        lines.append(f"…and {plural(more, 'more distinct error')}")
    return lines
