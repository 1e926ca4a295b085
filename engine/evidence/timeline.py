"""One timeline for a case: what happened when, across every file, in UTC.

Every report's times are already UTC (each parser reconciles its own clock formats: zones,
epochs, syslog without a year), so merging is sorting. Each file adds the moments a person
would put on an incident timeline: the first error, where the error rate rose (and fell),
templates that appeared or stopped, metric shifts and spikes, the span of the traces, when
each active alert started, and the cluster's Warning events that carry a full time.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from engine.core.wording import clip, clock
from engine.evidence.alerts.report import AlertReport
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.logs.report import ErrorGroup, LogReport
from engine.evidence.logs.summary import describe_anomaly
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.reports import AnyReport
from engine.evidence.traces.report import TraceReport

MAX_EVENTS = 15
_TEXT_CHARS = 80


class TimelineEvent(BaseModel):
    at: datetime
    source: str  # the evidence file
    what: str


def _first_seen(group: ErrorGroup) -> datetime:
    assert group.first_seen is not None
    return group.first_seen


def _log_events(report: LogReport) -> list[TimelineEvent]:
    events = []
    if report.first_error_ts is not None and report.error_groups:
        timed = [g for g in report.error_groups if g.first_seen is not None]
        first = min(timed, key=_first_seen) if timed else report.error_groups[0]
        what = f"first error: `{clip(first.message, _TEXT_CHARS)}`"
        events.append(TimelineEvent(at=report.first_error_ts, source=report.name, what=what))
    for anomaly in report.anomalies:
        events.append(
            TimelineEvent(at=anomaly.at, source=report.name, what=describe_anomaly(anomaly))
        )
        if anomaly.kind == "error-rate" and anomaly.until is not None:
            events.append(
                TimelineEvent(at=anomaly.until, source=report.name, what="error rate back down")
            )
    return events


def _metric_events(report: MetricsReport) -> list[TimelineEvent]:
    events = []
    for series in report.series:
        name = clip(series.name, 60)
        for shift in series.shifts:
            if shift.at is not None:
                what = f"`{name}` {shift.before:g} → {shift.after:g}"
                events.append(TimelineEvent(at=shift.at, source=report.name, what=what))
        for spike in series.spikes:
            if spike.at is not None:
                what = f"`{name}` spike to {spike.value:g} (baseline {spike.baseline:g})"
                events.append(TimelineEvent(at=spike.at, source=report.name, what=what))
    return events


def _trace_events(report: TraceReport) -> list[TimelineEvent]:
    if report.first_ts is None or not report.error_count:
        return []
    failing = sorted((s for s in report.services if s.errors), key=lambda s: -s.errors)
    names = ", ".join(s.service for s in failing[:3])
    what = f"traces start; failing spans in {names}"
    return [TimelineEvent(at=report.first_ts, source=report.name, what=what)]


def describe_event(event: TimelineEvent, with_date: bool = False) -> str:
    """'14:05 error rate 0.1/min → 30/min (checkout.log)'."""
    return f"{clock(event.at, with_date)} {event.what} ({event.source})"


def _alert_events(report: AlertReport) -> list[TimelineEvent]:
    """When each active alert started firing."""
    return [
        TimelineEvent(
            at=alert.starts_at,
            source=report.name,
            what=f"alert {alert.status}: {clip(alert.title, _TEXT_CHARS)}"
            + (f" ({alert.component})" if alert.component else ""),
        )
        for alert in report.alerts
        if alert.active and alert.starts_at is not None
    ]


def _kube_events(report: KubeReport) -> list[TimelineEvent]:
    """Warning events the cluster dated in full (ages like '4m' have no date to put)."""
    found = [*report.events, *(e for o in report.objects for e in o.events)]
    return [
        TimelineEvent(
            at=event.ts,
            source=report.name,
            what=f"{event.reason}: {clip(event.message, _TEXT_CHARS)}",
        )
        for event in found
        if event.ts is not None and event.type == "Warning"
    ]


def merged_timeline(reports: list[AnyReport], limit: int = MAX_EVENTS) -> list[TimelineEvent]:
    """The case's events in time order; the earliest `limit` of the notable ones."""
    events: list[TimelineEvent] = []
    for report in reports:
        if isinstance(report, LogReport):
            events.extend(_log_events(report))
        elif isinstance(report, MetricsReport):
            events.extend(_metric_events(report))
        elif isinstance(report, TraceReport):
            events.extend(_trace_events(report))
        elif isinstance(report, AlertReport):
            events.extend(_alert_events(report))
        elif isinstance(report, KubeReport):
            events.extend(_kube_events(report))
    unique = {(e.at, e.source, e.what): e for e in events}
    ordered = sorted(unique.values(), key=lambda e: (e.at, e.source, e.what))
    return ordered[:limit]
