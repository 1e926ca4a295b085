"""Kubernetes state (kubectl describe / get / events / top, live -o yaml / -o json) as an
evidence kind. In analyze.KINDS it goes after TRACES and METRICS (JSON telemetry is theirs)
and before CONFIGS (a live object is state, a manifest stays a config) and LOGS."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.kind import EvidenceKind, Source, whole
from engine.evidence.kubernetes.analyze import analyze_kubernetes
from engine.evidence.kubernetes.detect import looks_like_kubernetes
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.kubernetes.summary import describe_kubernetes, summarize_kubernetes


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> KubeReport:
    return analyze_kubernetes(name, whole(source), redactor=redactor)


KUBERNETES = EvidenceKind(
    name="kubernetes",
    report_type=KubeReport,
    detect=looks_like_kubernetes,
    read=_read,
    summarise=summarize_kubernetes,
    describe=describe_kubernetes,
)
