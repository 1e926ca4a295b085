"""One entry point for any evidence file: detect its kind, analyse it, put it into words.

Every kind of evidence is an `EvidenceKind` (engine/evidence/kind.py) listed in `KINDS`.
Callers (intake, prompts, the CLI) use only the functions here, so a new kind is one module
in its package and one line below.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from engine.core.redact import Redactor
from engine.evidence.alerts.kind import ALERTS
from engine.evidence.cli_state.kind import CLI
from engine.evidence.configs.kind import CONFIGS
from engine.evidence.kind import EvidenceKind
from engine.evidence.kubernetes.kind import KUBERNETES
from engine.evidence.logs.kind import LOGS
from engine.evidence.metrics.kind import METRICS
from engine.evidence.reports import AnyReport
from engine.evidence.topology.kind import TOPOLOGY
from engine.evidence.traces.kind import TRACES

# Detection order: the first kind whose `detect` says yes reads the file. A span table is
# numeric enough to pass for metrics, so traces go first; an alert payload can hold `metric`
# and `value` keys, so alerts come before metrics; a live object's `-o yaml` is state, so
# Kubernetes comes before configs; other CLIs' state tables (argocd, kafka, rabbitmqctl) come
# after kubectl's, whose output is its own, and before configs and logs, which would take
# them as text; logs take whatever is left.
KINDS: tuple[EvidenceKind[Any], ...] = (
    TRACES,
    ALERTS,
    METRICS,
    TOPOLOGY,
    KUBERNETES,
    CLI,
    CONFIGS,
    LOGS,
)

# Detection reads the start of a file, never all of it; 1 MB holds the header and first rows
# of even a 10,000-column CSV.
SNIFF_BYTES = 1024 * 1024


def kind_of(name: str, data: bytes) -> EvidenceKind[Any]:
    """The kind that reads a file of this name starting with `data`."""
    sample = data[:SNIFF_BYTES].decode("utf-8", errors="replace")
    return next(kind for kind in KINDS if kind.detect(name, sample))


def detect_kind(name: str, data: bytes) -> str:
    """'traces', 'metrics', 'config' or 'log' (the default: logs and text)."""
    return kind_of(name, data).name


def analyze(
    name: str,
    source: bytes | BinaryIO,
    *,
    redactor: Redactor | None = None,
    deadline: float | None = None,
) -> AnyReport:
    """The report of one (already unpacked) file; EvidenceRejected when it cannot be used.

    `source` may be a binary stream (an open file): a kind that streams (logs) reads it a
    chunk at a time, so a log of any size fits in memory; other kinds get the bytes whole.
    A log stops at `deadline` (time.monotonic()) with a report of what it read.
    """
    if isinstance(source, bytes):
        head = source[:SNIFF_BYTES]
    else:
        head = source.read(SNIFF_BYTES)
        source.seek(0)
    kind = kind_of(name, head)
    report: AnyReport = kind.read(name, source, redactor, deadline)
    return report


def _kind_of_report(report: AnyReport) -> EvidenceKind[Any]:
    return next(kind for kind in KINDS if isinstance(report, kind.report_type))


def summarize_report(report: AnyReport) -> str:
    """One line a person scans in the thread."""
    text: str = _kind_of_report(report).summarise(report)
    return text


def describe_report(report: AnyReport, limit: int = 5) -> list[str]:
    """The few lines worth reading after the summary (top error groups, suspects...)."""
    lines: list[str] = _kind_of_report(report).describe(report, limit)
    return lines


def report_notes(report: AnyReport) -> list[str]:
    return list(report.notes)
