"""State printed by other CLIs (argocd, kafka-consumer-groups, rabbitmqctl) as an evidence
kind. In analyze.KINDS it goes after KUBERNETES (kubectl output is its own) and before
CONFIGS and LOGS, which would take these tables as text."""

from __future__ import annotations

from engine.core.redact import Redactor
from engine.evidence.cli_state.analyze import analyze_cli
from engine.evidence.cli_state.registry import looks_like_cli_state
from engine.evidence.cli_state.report import CliStateReport
from engine.evidence.cli_state.summary import describe_cli, summarize_cli
from engine.evidence.kind import EvidenceKind, Source, whole


def _read(
    name: str, source: Source, redactor: Redactor | None, deadline: float | None
) -> CliStateReport:
    # These outputs are small: read whole; the deadline is for readers that can stop part way.
    return analyze_cli(name, whole(source), redactor=redactor)


CLI = EvidenceKind(
    name="cli",
    report_type=CliStateReport,
    detect=looks_like_cli_state,
    read=_read,
    summarise=summarize_cli,
    describe=describe_cli,
)
