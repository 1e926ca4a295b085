"""Suspects of a case: components ranked by how likely the trouble starts there, all evidence.

Each file contributes signals about components (`components.canonical` names):
- logs: a component's errors against its own baseline (the same file before the incident
  window), error templates new in the window, and components that others' errors name
  ("upstream payments returned 503", "dial tcp payments-db:5432") — a dependency;
- traces: the trace suspects (which already prefer the deepest failing callee) and the call
  graph's edges;
- metrics: series with level shifts or spikes near the incident, by label, metric name or a
  dashboard column's first word; `up` / `*_up` falling to 0 says the target is down. When the
  logs show no incident at all, metric wiggles (a peak, a scale-out) are not suspicion;
- configs: a changed version of a component's config.
A failed DNS lookup names the resolver (coredns, else "dns"), not the name looked up.
Signals add up per component. One StatefulSet replica ("payments-db-1") is its service when
the service is named elsewhere; several replicas stay apart. "<service>-db", "-cache"... are
dependencies of <service>. A callee named by a caller's new errors (or connection
warnings) gains more the larger the share of the caller's errors that name it; one that
rejects a bad request (400, 422) is working, so it gains nothing. Then the dependency edges
(from traces and from error texts) are used the way an SRE reads them: when a component and
something it depends on (directly or further down) are both suspect, and that dependency is
suspect enough to explain it, the caller is most likely a victim, so its weight is cut to
about a third, and half of the blame its own callers put on it moves on to the culprit
below. Scores are 1 - e^-weight, 0..1, and every part of a score has a reason a person can
check.

The log signals live in `suspect_logs`, the trace, metric and config signals in
`suspect_signals`, the replica and datastore names in `suspect_reconcile`, the victim
rules and scores in `suspect_rank`; this module feeds them a case's reports in order.
"""

from __future__ import annotations

from datetime import datetime

from engine.evidence.alerts.report import AlertReport
from engine.evidence.cli_state.report import CliStateReport
from engine.evidence.components import canonical
from engine.evidence.configs.report import ConfigReport
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.logs.report import LogReport
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.reports import AnyReport
from engine.evidence.suspects.from_logs import (
    error_rise,
    log_names,
    log_signals,
    names_in,
    unnamed_writer_score,
)
from engine.evidence.suspects.from_metrics import WINDOW, metric_view, metric_window_signals
from engine.evidence.suspects.from_signals import (
    call_graph_signals,
    config_signals,
    metric_signals,
    trace_signals,
)
from engine.evidence.suspects.from_state import (
    alert_signals,
    cli_names,
    kube_names,
    kube_signals,
)
from engine.evidence.suspects.from_window_logs import starts_in_window, window_log_signals
from engine.evidence.suspects.scoring import MAX_SUSPECTS, MIN_SCORE, rank
from engine.evidence.suspects.state import CaseEvidence, Suspect
from engine.evidence.topology.report import CallGraphReport
from engine.evidence.traces.report import TraceReport

__all__ = [
    "MAX_SUSPECTS",
    "MIN_SCORE",
    "AnyReport",
    "Suspect",
    "describe_suspect",
    "error_rise",
    "names_in",
    "rank_case_suspects",
    "unnamed_writer_score",
]


def describe_suspect(suspect: Suspect, reasons: int = 2) -> str:
    """'payments (0.80): errors 0.0/min → 15/min from 14:05 (checkout.log); …'"""
    why = "; ".join(suspect.reasons[:reasons])
    return f"{suspect.component} ({suspect.score:.2f}): {why}"


def rank_case_suspects(reports: list[AnyReport], since: datetime | None = None) -> list[Suspect]:
    """The case's suspects, best first (at most MAX_SUSPECTS, none below MIN_SCORE).

    `since` is when people say the incident started; without it, where the logs' error rates
    rose. Metric series are judged against that window; with neither, metric changes count
    as they are (and saturation over the whole file).
    """
    case = CaseEvidence()
    logs = [r for r in reports if isinstance(r, LogReport) and r.kind == "log"]
    for log in logs:
        log_names(case, log)
    for report in reports:
        if isinstance(report, TraceReport):
            case.known.update(canonical(s.service) for s in report.services)
        elif isinstance(report, CallGraphReport):
            call_graph_signals(case, report)
        elif isinstance(report, KubeReport):
            kube_names(case, report)
        elif isinstance(report, CliStateReport):
            cli_names(case, report)
    since = since or first_alert(reports)
    for log in logs:
        if starts_in_window(log, since):
            window_log_signals(case, log)
        else:
            log_signals(case, log)
    metrics = [r for r in reports if isinstance(r, MetricsReport)]
    start, end = since, None
    if since is None and case.incidents:  # where the logs' error rates rose, all of them
        start, end = min(case.incidents), max(case.incidents) + WINDOW
    metric_window_signals(case, metric_view(case, metrics, start, end))
    for report in reports:
        if isinstance(report, TraceReport):
            trace_signals(case, report)
        elif isinstance(report, MetricsReport):
            metric_signals(case, report, judged_by_window=start is not None)
        elif isinstance(report, ConfigReport):
            config_signals(case, report)
        elif isinstance(report, KubeReport | CliStateReport):
            kube_signals(case, report)
        elif isinstance(report, AlertReport):
            alert_signals(case, report)
    return rank(case)


def first_alert(reports: list[AnyReport]) -> datetime | None:
    """When the earliest active alert started: the incident's start when nobody said one."""
    starts = [
        alert.starts_at
        for report in reports
        if isinstance(report, AlertReport)
        for alert in report.alerts
        if alert.active and alert.starts_at is not None
    ]
    return min(starts, default=None)
