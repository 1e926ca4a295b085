"""Trace exports as an evidence kind (Jaeger, Zipkin, OTLP JSON, span tables)."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.kind import EvidenceKind, Source, whole
from engine.evidence.traces.analyze import analyze_traces, looks_like_traces
from engine.evidence.traces.report import TraceReport
from engine.evidence.traces.summary import describe_traces, summarize_traces


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> TraceReport:
    return analyze_traces(name, whole(source), redactor=redactor)


TRACES = EvidenceKind(
    name="traces",
    report_type=TraceReport,
    detect=looks_like_traces,
    read=_read,
    summarise=summarize_traces,
    describe=describe_traces,
)
