"""What traces, metrics and configs say about a case's suspects.

Each of these is one short reading of a report (a trace suspect, a metric's shift or spike,
a changed config), unlike the logs in `suspect_logs`; they share the rule that a metric
change only counts near an incident the logs show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.core.wording import clip
from engine.evidence.components import canonical, from_file_name, from_series
from engine.evidence.configs.report import ConfigReport
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.suspects.state import CaseEvidence, hhmm
from engine.evidence.topology.report import CallGraphReport
from engine.evidence.traces.parse import UNKNOWN_SERVICE
from engine.evidence.traces.report import TraceReport

DOWN_WEIGHT = 0.8  # `up` / `redis_up`... falling to 0: the target itself is down
METRIC_NEAR = timedelta(minutes=15)  # a metric change this close to an incident start counts


def trace_signals(case: CaseEvidence, report: TraceReport) -> None:
    for edge in report.edges:
        case.depends_on[canonical(edge.caller)].add(canonical(edge.callee))
    for suspect in report.suspects:
        if suspect.service == UNKNOWN_SERVICE:
            continue  # spans without a service: the reply says which field would name it
        reason = "; ".join(suspect.reasons[:2]) or "trace suspect"
        case.components[canonical(suspect.service)].add(
            suspect.score, f"traces: {reason} ({report.name})", report.name
        )


def _near_incident(case: CaseEvidence, at: datetime | None) -> bool:
    """Whether a metric change can be part of the incident: logs that show no incident
    leave metric wiggles (an evening peak, a scale-out) as context, not suspicion."""
    if not case.saw_logs or at is None:
        return True
    if not case.incidents:
        return False
    return min(case.incidents) - METRIC_NEAR <= at <= max(case.incidents) + METRIC_NEAR


def call_graph_signals(case: CaseEvidence, report: CallGraphReport) -> None:
    """A dependency table's edges, as traces' call edges are used; its names are known."""
    for edge in report.edges:
        caller, callee = canonical(edge.caller), canonical(edge.callee)
        case.depends_on[caller].add(callee)
        case.known.update((caller, callee))


def metric_signals(case: CaseEvidence, report: MetricsReport, judged_by_window: bool) -> None:
    """Shifts and spikes as found, for series the window judging could not weigh: without
    an incident window, or stored before reports kept samples."""
    for series in report.series:
        if not series.shifts and not series.spikes:
            continue
        if judged_by_window and series.samples:
            continue
        name = from_series(series.name, case.known)
        if name is None:
            continue
        weight = 0.2
        if series.shifts:
            shift = series.shifts[0]
            what = (
                f"`{clip(series.name, 60)}` {shift.before:g} → {shift.after:g} at {hhmm(shift.at)}"
            )
            at = shift.at
            metric = series.name.split("{", 1)[0].strip()
            if (metric == "up" or metric.endswith("_up")) and shift.before >= 0.5 >= shift.after:
                weight, what = DOWN_WEIGHT, f"{what}: down"
        else:
            spike = series.spikes[0]
            what = f"`{clip(series.name, 60)}` spiked to {spike.value:g} at {hhmm(spike.at)}"
            at = spike.at
        if not _near_incident(case, at):
            continue
        case.components[name].add(weight, f"metrics: {what} ({report.name})", report.name, at)


def config_signals(case: CaseEvidence, report: ConfigReport) -> None:
    if report.changes is None or not report.changes.changes:
        return
    names = {canonical(o.name) for o in report.objects}
    own = from_file_name(report.name)
    if not names and own is not None:
        names.add(own)
    first = report.changes.changes[0]
    what = f"{first.path or first.object}: {first.before} → {first.after}"
    for name in names:
        case.components[name].add(
            0.2, f"config changed ({clip(what, 80)}) ({report.name})", report.name
        )
