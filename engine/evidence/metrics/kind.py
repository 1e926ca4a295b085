"""Metrics files as an evidence kind (Prometheus scrapes and query JSON, CSV/TSV series)."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.kind import EvidenceKind, Source, whole
from engine.evidence.metrics.analyze import analyze_metrics, looks_like_metrics
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.metrics.summary import describe_series, summarize_metrics


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> MetricsReport:
    # Series names, labels and numbers: nothing a redactor would mask.
    return analyze_metrics(name, whole(source))


METRICS = EvidenceKind(
    name="metrics",
    report_type=MetricsReport,
    detect=looks_like_metrics,
    read=_read,
    summarise=summarize_metrics,
    describe=describe_series,
)
