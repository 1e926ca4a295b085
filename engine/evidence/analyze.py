"""One entry point for any evidence file: detect its kind, analyse it, put it into words.

Every kind of evidence has an analyser, a one-line summary and a few detail lines. Callers
(intake, prompts, the CLI) use only the functions here, so a new kind is one branch.
"""

from __future__ import annotations

from typing import BinaryIO

from engine.core.redact import Redactor
from engine.evidence.configs.analyze import (
    ConfigReport,
    analyze_config,
    describe_config,
    describe_diff,
    looks_like_config,
    summarize_config,
    summarize_diff,
)
from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.summary import describe_groups, summarize
from engine.evidence.metrics.analyze import (
    MetricsReport,
    analyze_metrics,
    describe_series,
    looks_like_metrics,
    summarize_metrics,
)
from engine.evidence.reports import AnyReport
from engine.evidence.traces.analyze import (
    TraceReport,
    analyze_traces,
    describe_traces,
    looks_like_traces,
    summarize_traces,
)

# Detection reads the start of a file, never all of it; 1 MB holds the header and first rows
# of even a 10,000-column CSV.
SNIFF_BYTES = 1024 * 1024


def detect_kind(name: str, data: bytes) -> str:
    """'traces', 'metrics', 'config' or 'log' (the default: logs and text)."""
    sample = data[:SNIFF_BYTES].decode("utf-8", errors="replace")
    # Order matters: a span table is numeric enough to pass for metrics, so traces go first.
    if looks_like_traces(name, sample):
        return "traces"
    if looks_like_metrics(name, sample):
        return "metrics"
    if looks_like_config(name, sample):
        return "config"
    return "log"


def analyze(name: str, source: bytes | BinaryIO, *, redactor: Redactor | None = None) -> AnyReport:
    """The report of one (already unpacked) file; EvidenceRejected when it cannot be used.

    `source` may be a binary stream (an open file): logs are then read a chunk at a time,
    so a log of any size fits in memory; other kinds are read whole, as their parsers need.
    """
    if isinstance(source, bytes):
        head = source[:SNIFF_BYTES]
    else:
        head = source.read(SNIFF_BYTES)
        source.seek(0)
    kind = detect_kind(name, head)
    if kind == "log":
        return analyze_log(name, source, redactor=redactor)
    data = source if isinstance(source, bytes) else source.read()
    if kind == "traces":
        return analyze_traces(name, data, redactor=redactor)
    if kind == "metrics":
        return analyze_metrics(name, data)
    return analyze_config(name, data, redactor=redactor)


def summarize_report(report: AnyReport) -> str:
    if isinstance(report, TraceReport):
        return summarize_traces(report)
    if isinstance(report, MetricsReport):
        return summarize_metrics(report)
    if isinstance(report, ConfigReport):
        text = summarize_config(report)
        if report.changes is not None:
            previous = report.changes.previous
            since = previous if previous and previous != report.name else "the earlier upload"
            text += f"; since {since}: {summarize_diff(report.changes)}"
        return text
    return summarize(report)


def describe_report(report: AnyReport, limit: int = 5) -> list[str]:
    """The few lines worth reading after the summary (top error groups, suspects...)."""
    if isinstance(report, TraceReport):
        return describe_traces(report, limit)
    if isinstance(report, MetricsReport):
        return describe_series(report, limit)
    if isinstance(report, ConfigReport):
        changed = describe_diff(report.changes, limit) if report.changes is not None else []
        return [*changed, *describe_config(report, limit)][:limit]
    return describe_groups(report, limit)


def report_notes(report: AnyReport) -> list[str]:
    return list(report.notes)
