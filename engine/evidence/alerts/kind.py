"""Alert and incident payloads as an evidence kind: what was firing, where, since when."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.alerts.analyze import analyze_alerts
from engine.evidence.alerts.detect import looks_like_alerts
from engine.evidence.alerts.report import AlertReport
from engine.evidence.alerts.summary import describe_alerts, summarize_alerts
from engine.evidence.kind import EvidenceKind, Source, whole


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> AlertReport:
    # Payloads are small: read whole; the deadline is for readers that can stop part way.
    return analyze_alerts(name, whole(source), redactor=redactor)


ALERTS = EvidenceKind(
    name="alerts",
    report_type=AlertReport,
    detect=looks_like_alerts,
    read=_read,
    summarise=summarize_alerts,
    describe=describe_alerts,
)
