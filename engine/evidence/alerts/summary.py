"""AlertReport -> words: one scannable line, and the active alerts worth reading first.

Example: Alertmanager: 3 alerts firing (KubePodCrashLooping on checkout ×2, HighErrorRate on
payments), 1 resolved; since 14:02 UTC
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime

from engine.core.redact import describe_counts
from engine.core.wording import clip, clock, plural
from engine.evidence.alerts.report import Alert, AlertReport

SHOWN_GROUPS = 4
_NEVER = datetime.max.replace(tzinfo=UTC)  # alerts with no start sort last
LINE_CHARS = 300
_TOOLS = {
    "alertmanager": "Alertmanager",
    "prometheus": "Prometheus",
    "grafana": "Grafana",
    "pagerduty": "PagerDuty",
    "opsgenie": "Opsgenie",
    "datadog": "Datadog",
    "robusta": "Robusta",
}
# Which statuses are named in what order: the active ones, then what is already handled.
_STATUS_ORDER = (
    "firing",
    "triggered",
    "pending",
    "acknowledged",
    "suppressed",
    "no data",
    "resolved",
    "inactive",
)
# Most urgent first, in the words the tools use; an always-firing heartbeat is 'none'.
_SEVERITY_ORDER = (
    "critical",
    "p1",
    "high",
    "error",
    "p2",
    "major",
    "warning",
    "p3",
    "medium",
    "minor",
    "p4",
    "low",
    "info",
    "p5",
    "none",
)


def _status_rank(alert: Alert) -> int:
    status = alert.status or ""
    return _STATUS_ORDER.index(status) if status in _STATUS_ORDER else len(_STATUS_ORDER)


def _severity_rank(alert: Alert) -> int:
    severity = alert.severity or ""
    if severity in _SEVERITY_ORDER:
        return _SEVERITY_ORDER.index(severity)
    return _SEVERITY_ORDER.index("info")  # unknown sits above the explicitly unimportant


def _label(alert: Alert) -> str:
    return f"{alert.title} on {alert.component}" if alert.component else alert.title


def _groups(alerts: Sequence[Alert]) -> str:
    """'KubePodCrashLooping on checkout ×2, HighErrorRate on payments, +3 more': most urgent
    first, then the most repeated, then file order."""
    counts = Counter(_label(a) for a in alerts)
    urgency: dict[str, int] = {}
    for alert in alerts:
        urgency.setdefault(_label(alert), _severity_rank(alert))
    ranked = sorted(counts, key=lambda label: (urgency[label], -counts[label]))
    shown = [f"{label} ×{counts[label]}" if counts[label] > 1 else label for label in ranked]
    text = ", ".join(shown[:SHOWN_GROUPS])
    return text + (f", +{len(shown) - SHOWN_GROUPS} more" if len(shown) > SHOWN_GROUPS else "")


def _with_date(report: AlertReport, today: date | None) -> bool:
    """Dates are shown when the alerts span several days, or are from a day before `today`."""
    first, last = report.first_ts, report.last_ts
    if first is None or last is None:
        return False
    return first.date() != last.date() or (today is not None and first.date() != today)


def _when(moment: datetime, with_date: bool) -> str:
    return f"{clock(moment, with_date)} UTC"


def summarize_alerts(report: AlertReport, *, today: date | None = None) -> str:
    tool = _TOOLS.get(report.format, report.format or "Alerts")
    noun = "incident" if report.format == "pagerduty" else "alert"
    by_status: dict[str, list[Alert]] = {}
    for alert in sorted(report.alerts, key=_status_rank):
        by_status.setdefault(alert.status or "unknown", []).append(alert)
    if not by_status:
        return f"{tool}: no {noun}s firing"
    active = [a for a in report.alerts if a.active]
    parts = []
    for index, (status, alerts) in enumerate(by_status.items()):
        count = plural(len(alerts), noun) if index == 0 else f"{len(alerts):,}"
        shown = alerts[0].active or (index == 0 and not active)
        parts.append(f"{count} {status}" + (f" ({_groups(alerts)})" if shown else ""))
    text = f"{tool}: " + ("" if active else f"no {noun}s firing; ") + ", ".join(parts)
    starts = [a.starts_at for a in active if a.starts_at is not None]
    if starts:
        text += f"; since {_when(min(starts), _with_date(report, today))}"
    masked = describe_counts(report.redactions)
    return f"{text}; {masked}" if masked else text


def _line(alert: Alert, with_date: bool) -> str:
    where = _label(alert) + (f" ({alert.namespace})" if alert.namespace else "")
    status = alert.status or "status unknown"
    if alert.active and alert.starts_at is not None:
        status += f" since {_when(alert.starts_at, with_date)}"
    elif alert.ends_at is not None:
        status += f" at {_when(alert.ends_at, with_date)}"
    severity = f" [{alert.severity}]" if alert.severity else ""
    at = f" (line {alert.line})" if alert.line else ""
    detail = f": {alert.description}" if alert.description else ""
    mark = "⚠ " if alert.active else ""
    return clip(f"{mark}{where}, {status}{severity}{at}{detail}", LINE_CHARS)


def describe_alerts(report: AlertReport, limit: int = 5) -> list[str]:
    """Active alerts first (most urgent, then earliest: the first to fire is often the
    cause), then those already handled; inactive rules are only counted."""
    ranked = sorted(
        (a for a in report.alerts if a.status != "inactive"),
        key=lambda a: (not a.active, _severity_rank(a), a.starts_at or _NEVER),
    )
    with_date = _with_date(report, None)
    if len(ranked) <= limit:
        return [_line(alert, with_date) for alert in ranked]
    shown = max(limit - 1, 0)  # the last line says how many more there are
    lines = [_line(alert, with_date) for alert in ranked[:shown]]
    return [*lines, f"…and {plural(len(ranked) - shown, 'more alert')}"][:limit]
