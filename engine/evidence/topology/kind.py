"""Call graphs as an evidence kind."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.kind import EvidenceKind, Source, whole
from engine.evidence.topology.analyze import analyze_call_graph, looks_like_call_graph
from engine.evidence.topology.report import CallGraphReport
from engine.evidence.topology.summary import describe_call_graph, summarize_call_graph


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> CallGraphReport:
    return analyze_call_graph(name, whole(source), redactor=redactor)


TOPOLOGY = EvidenceKind(
    name="topology",
    report_type=CallGraphReport,
    detect=looks_like_call_graph,
    read=_read,
    summarise=summarize_call_graph,
    describe=describe_call_graph,
)
