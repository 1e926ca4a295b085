"""Call graphs in words."""

from __future__ import annotations

from collections import Counter

from engine.core.wording import plural
from engine.evidence.topology.report import CallGraphReport


def summarize_call_graph(report: CallGraphReport) -> str:
    callers = Counter(e.caller for e in report.edges)
    busiest = ", ".join(
        f"{name} calls {plural(n, 'component')}" for name, n in callers.most_common(2)
    )
    return (
        f"call graph: {plural(len(report.edges), 'call')} between "
        f"{plural(len(report.components), 'component')}; {busiest}"
    )


def describe_call_graph(report: CallGraphReport, limit: int) -> list[str]:
    callees: dict[str, list[str]] = {}
    for edge in report.edges:
        callees.setdefault(edge.caller, []).append(edge.callee)
    return [f"{caller} → {', '.join(sorted(ends))}" for caller, ends in callees.items()][:limit]
