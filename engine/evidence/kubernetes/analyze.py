"""Kubernetes state evidence: kubectl output an SRE pastes or uploads -> a KubeReport of the
objects, their state, the events, and the findings that may explain the incident."""

from __future__ import annotations

import hashlib
from datetime import datetime

from engine.core.errors import EvidenceRejected
from engine.core.redact import Redactor
from engine.evidence.decode import decode_text
from engine.evidence.kubernetes.cli_errors import cli_error_findings
from engine.evidence.kubernetes.describe import read_describe
from engine.evidence.kubernetes.detect import sniff
from engine.evidence.kubernetes.events import event_from_row, is_event_table
from engine.evidence.kubernetes.findings import find
from engine.evidence.kubernetes.headerless import headerless_rows
from engine.evidence.kubernetes.listing import object_from_row, read_listing
from engine.evidence.kubernetes.live_yaml import (
    event_from,
    items_of,
    load_documents,
    object_from,
    times_in,
)
from engine.evidence.kubernetes.report import KubeEvent, KubeObject, KubeReport
from engine.evidence.kubernetes.tables import find_tables
from engine.evidence.timestamps import parse_timestamp_value

Parsed = tuple[list[KubeObject], list[KubeEvent], list[datetime]]


def _describe(lines: list[str], name: str) -> Parsed:
    objects, times = [], []
    for obj, written in read_describe(lines, name):
        objects.append(obj)
        times += [ts for text in written if (ts := parse_timestamp_value(text)) is not None]
    return objects, [], times


def _tables(lines: list[str], fmt: str) -> Parsed:
    tables = find_tables(lines, ("NAME", "REASON"), any_case=fmt == "events")
    events = [
        event
        for table in tables
        if is_event_table(table.columns)
        for row in table.rows
        if (event := event_from_row(row)) is not None
    ]
    listed = [t for t in tables if not is_event_table(t.columns)]
    objects, lineage_events = read_listing(listed)
    if not tables:  # --no-headers
        objects = [
            obj for kind, row in headerless_rows(lines) if (obj := object_from_row(row, kind))
        ]
    events += lineage_events
    return objects, events, [e.ts for e in events if e.ts is not None]


def _structured(text: str, as_json: bool, name: str) -> Parsed:
    try:
        documents = load_documents(text, as_json)
    except ValueError as exc:  # a syntax error, or input past the bounds of bounded.py
        what = "JSON" if as_json else "YAML"
        first = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise EvidenceRejected(f"{name}: cannot read it as Kubernetes {what}: {first}") from None
    items = items_of(documents)
    objects = [obj for item in items if (obj := object_from(item)) is not None]
    events = [event for item in items if (event := event_from(item)) is not None]
    times = [ts for item in items for ts in times_in(item)]
    return objects, events, times


def analyze_kubernetes(name: str, data: bytes, redactor: Redactor | None = None) -> KubeReport:
    """Read one file of kubectl output. EvidenceRejected when it is not text or not readable
    as the kubectl output it starts like."""
    decoded = decode_text(data)
    text = decoded.text
    if redactor is not None:  # env values and annotations can hold secrets
        text = redactor.redact(text).text
    fmt = sniff(text)
    if fmt is None:
        raise EvidenceRejected(
            f"{name} does not look like kubectl output (describe, get, events, top, -o yaml/json)."
        )
    lines = text.split("\n")
    if fmt == "error":
        findings, missing, said = cli_error_findings(lines)
        return KubeReport(
            name=name,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            format=fmt,
            findings=findings,
            missing=missing,
            notes=[*decoded.notes, *said],
        )
    if fmt == "describe":
        objects, events, times = _describe(lines, name)
    elif fmt in ("yaml", "json"):
        objects, events, times = _structured(text, fmt == "json", name)
    else:
        objects, events, times = _tables(lines, fmt)
    notes = list(decoded.notes)
    if not objects and not events:
        notes.append("no Kubernetes objects or events could be read")
    return KubeReport(
        name=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        objects=objects,
        events=events,
        findings=find(objects, events, lines),
        first_ts=min(times) if times else None,
        last_ts=max(times) if times else None,
        notes=notes,
    )
