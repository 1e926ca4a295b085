"""Files whose data names no component, and what would let them name one.

Suspects are components; a file that never says whose numbers or lines it holds can add
nothing to them, however loud it is. The reply says so, and which field or label would fix it,
instead of blaming a component called `unknown`.
"""

from __future__ import annotations

from engine.evidence.components import from_file_name
from engine.evidence.logs.report import LogReport
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.reports import AnyReport
from engine.evidence.traces.report import TraceReport

_UNKNOWN = frozenset({"", "unknown", "-"})
HOW = {
    "metrics": "a label such as pod=, service= or job= on each series, or columns named "
    "`<service>_<measure>`",
    "log": "a field such as service, pod or container in each record, or the file named "
    "after its service (checkout.log)",
    "traces": "a service name on each span (service.name, a Service or PodName column)",
}


def _names_nothing(report: AnyReport) -> str | None:
    """The report's kind when nothing in it or its file name names a component."""
    if from_file_name(report.name) is not None:
        return None
    if isinstance(report, MetricsReport):
        labelled = any("{" in s.name or s.component for s in report.series)
        return None if labelled else "metrics"
    if isinstance(report, LogReport):
        return None if report.components or report.kind != "log" else "log"
    if isinstance(report, TraceReport):
        named = any(s.service.lower() not in _UNKNOWN for s in report.services)
        return None if named else "traces"
    return None


def unnamed_hint(reports: list[AnyReport]) -> str | None:
    """A next step for the files that name no component; None when every file names one."""
    unnamed = [(r.name, kind) for r in reports if (kind := _names_nothing(r)) is not None]
    if not unnamed:
        return None
    names = ", ".join(name for name, _ in unnamed[:3]) + (", …" if len(unnamed) > 3 else "")
    kinds = list(dict.fromkeys(kind for _, kind in unnamed))
    one = len(unnamed) == 1
    return (
        f"Say which component {names} {'is' if one else 'are'} about: "
        f"{'it adds' if one else 'they add'} nothing to the suspects until "
        f"{'it names' if one else 'they name'} one ({'; or '.join(HOW[kind] for kind in kinds)})"
    )
