"""One entry point for any evidence file: detect its kind, analyse it, put it into words.

Every kind of evidence (logs today; metrics, traces and configs as they land) has an
analyser, a one-line summary and a few detail lines. Callers (intake, prompts, the CLI)
use only these three functions, so a new kind is one branch here.
"""

from __future__ import annotations

from engine.evidence.logs import analyze_log
from engine.evidence.redact import Redactor
from engine.evidence.report import LogReport
from engine.evidence.summary import describe_groups, summarize

EvidenceReport = LogReport


def analyze(name: str, data: bytes, *, redactor: Redactor | None = None) -> EvidenceReport:
    """The report of one (already unpacked) file; EvidenceRejected when it cannot be used."""
    return analyze_log(name, data, redactor=redactor)


def summarize_report(report: EvidenceReport) -> str:
    return summarize(report)


def describe_report(report: EvidenceReport, limit: int = 5) -> list[str]:
    """The few lines worth reading after the summary (top error groups, shifts, suspects...)."""
    return describe_groups(report, limit)


def report_notes(report: EvidenceReport) -> list[str]:
    return list(report.notes)
