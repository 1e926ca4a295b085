"""Logs and plain text as an evidence kind: the default for whatever no other kind claims."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.kind import EvidenceKind, Source
from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.report import LogReport
from engine.evidence.logs.summary import describe_groups, summarize


def _any_file(name: str, sample: str) -> bool:
    return True  # listed last: text that is nothing else is read as a log


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> LogReport:
    return analyze_log(name, source, redactor=redactor, deadline=deadline)


LOGS = EvidenceKind(
    name="log",
    report_type=LogReport,
    detect=_any_file,
    read=_read,
    summarise=summarize,
    describe=describe_groups,
)
