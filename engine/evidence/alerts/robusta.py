"""Robusta-style findings: a titled issue about one subject (a pod, a deployment, a node) with
the alert's labels and the evidence gathered for it (markdown and tables, as JSON text)."""

from __future__ import annotations

from typing import Any

from engine.evidence.alerts.fields import (
    component_of,
    describe,
    first,
    items,
    mapping,
    namespace_of,
    str_labels,
    text,
    when,
)
from engine.evidence.alerts.report import Alert
from engine.evidence.bounded import load_json

Parsed = tuple[list[Alert], list[str]]

# The label a subject's type maps to, so component_of ranks it like any workload label.
_SUBJECT_LABELS = {
    "deployment": "deployment",
    "statefulset": "statefulset",
    "daemonset": "daemonset",
    "job": "job_name",
    "cronjob": "cronjob",
    "pod": "pod",
    "node": "node",
}
_SHOWN_EVIDENCE = 2


def _evidence_text(finding: dict[str, Any]) -> list[str]:
    """The markdown blocks of the evidence: each `data` is itself JSON, a list of blocks."""
    found: list[str] = []
    for evidence in items(finding.get("evidence")):
        try:
            blocks = load_json(evidence["data"]) if isinstance(evidence.get("data"), str) else []
        except ValueError:
            continue
        for block in items(blocks):
            markdown = text(block.get("data")) if block.get("type") == "markdown" else None
            if markdown and len(found) < _SHOWN_EVIDENCE:
                found.append(markdown.replace("**", ""))
    return found


def _subject(finding: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(type, name, namespace) from flat subject_* fields or a nested `subject`."""
    nested = mapping(finding.get("subject"))
    kind = first(finding, "subject_type") or first(nested, "subject_type", "type", "kind")
    name = first(finding, "subject_name") or first(nested, "name")
    namespace = first(finding, "subject_namespace") or first(nested, "namespace")
    return kind, name, namespace


def _finding(finding: dict[str, Any]) -> Alert:
    labels = str_labels(finding.get("labels"))
    kind, name, namespace = _subject(finding)
    if name:
        labels.setdefault(_SUBJECT_LABELS.get((kind or "").lower(), "service"), name)
    if namespace:
        labels.setdefault("namespace", namespace)
    notes = str_labels(finding.get("annotations"))
    key = first(finding, "aggregation_key")
    title = first(finding, "title")
    # The aggregation key is the alert's name ('KubePodCrashLooping'); the title is prose.
    headline = labels.get("alertname") or (key if key and " " not in key else None)
    parts = [first(finding, "description") or notes.get("description") or title]
    parts += _evidence_text(finding)
    firing = finding.get("firing")
    ended = when(finding.get("ends_at"))
    status = "firing" if firing is True or (firing is None and ended is None) else "resolved"
    return Alert(
        title=headline or title or key or "finding",
        status=status,
        severity=(first(finding, "severity", "priority") or "").lower() or None,
        component=component_of(labels),
        namespace=namespace_of(labels),
        labels=labels,
        description=describe(" — ".join(p for p in parts if p)),
        starts_at=when(finding.get("starts_at") or finding.get("creation_date")),
        ends_at=ended if status == "resolved" else None,
        source="robusta",
    )


def parse_findings(doc: dict[str, Any] | list[Any]) -> Parsed:
    if isinstance(doc, list):
        return [_finding(f) for f in items(doc)], []
    nested = doc.get("findings") or doc.get("data")
    if isinstance(nested, list):
        return [_finding(f) for f in items(nested)], []
    return [_finding(doc)], []
