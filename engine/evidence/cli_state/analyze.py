"""CLI state evidence: the output of argocd, kafka-consumer-groups or rabbitmqctl -> a
CliStateReport of what it lists and the findings that may explain the incident."""

from __future__ import annotations

import hashlib

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.evidence.cli_state.registry import reader_for
from engine.evidence.cli_state.report import CliStateReport
from engine.evidence.decode import decode_text


def analyze_cli(name: str, data: bytes, redactor: Redactor | None = None) -> CliStateReport:
    """Read one file of CLI output; EvidenceRejected when no reader recognises it."""
    decoded = decode_text(data)
    text = decoded.text
    if redactor is not None:  # repo URLs and hosts can carry credentials
        text = redactor.redact(text).text
    reader = reader_for(text)
    if reader is None:
        raise EvidenceRejected(
            f"{name} does not look like argocd, kafka-consumer-groups or rabbitmqctl output."
        )
    parsed = reader.parse(name, text)
    notes = [*decoded.notes, *parsed.notes]
    if not parsed.objects:
        notes.append(f"no {reader.tool} objects could be read")
    return CliStateReport(
        name=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        tool=reader.tool,
        format=parsed.format,
        objects=parsed.objects,
        # Strongest first: the summary and the thread lead with what explains most.
        findings=sorted(parsed.findings, key=lambda f: -f.severity),
        notes=notes,
    )
