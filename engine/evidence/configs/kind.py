"""Config files as an evidence kind, with what changed since an earlier version of the file."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.configs.analyze import analyze_config
from engine.evidence.configs.detect import looks_like_config
from engine.evidence.configs.report import ConfigReport
from engine.evidence.configs.summary import (
    describe_config,
    describe_diff,
    summarize_config,
    summarize_diff,
)
from engine.evidence.kind import EvidenceKind, Source, whole


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> ConfigReport:
    return analyze_config(name, whole(source), redactor=redactor)


def _summarise(report: ConfigReport) -> str:
    text = summarize_config(report)
    if report.changes is not None:
        previous = report.changes.previous
        since = previous if previous and previous != report.name else "the earlier upload"
        text += f"; since {since}: {summarize_diff(report.changes)}"
    return text


def _describe(report: ConfigReport, limit: int) -> list[str]:
    changed = describe_diff(report.changes, limit) if report.changes is not None else []
    return [*changed, *describe_config(report, limit)][:limit]


CONFIGS = EvidenceKind(
    name="config",
    report_type=ConfigReport,
    detect=looks_like_config,
    read=_read,
    summarise=_summarise,
    describe=_describe,
)
