"""ConfigReport and ConfigDiff -> words: one scannable line, and a few lines of detail.

Example: deployment.yaml: Kubernetes YAML, 2 objects (Deployment checkout, Service checkout);
image acme/checkout:latest (latest tag), no resource limits on container app, replicas 1
"""

from __future__ import annotations

from engine.core.redact import describe_counts
from engine.core.wording import plural
from engine.evidence.configs.report import ConfigChange, ConfigDiff, ConfigReport, Notable

SHOWN_OBJECTS = 4
SHOWN_WARNINGS = 4
SHOWN_SETTINGS = 3
_SHORT_KINDS = {
    "HorizontalPodAutoscaler": "HPA",
    "PodDisruptionBudget": "PDB",
    "PersistentVolumeClaim": "PVC",
    "CustomResourceDefinition": "CRD",
}
_ABSENT = "(unset)"


def _objects(report: ConfigReport) -> str:
    labels = [f"{_SHORT_KINDS.get(o.kind, o.kind)} {o.name}" for o in report.objects]
    shown = ", ".join(labels[:SHOWN_OBJECTS])
    if len(labels) > SHOWN_OBJECTS:
        shown += f", +{len(labels) - SHOWN_OBJECTS} more"
    return f"{plural(len(labels), 'object')} ({shown})"


def _highlights(report: ConfigReport) -> str:
    """The warnings; or, for a file with none, its first few notable settings."""
    briefs = list(dict.fromkeys(n.brief for n in report.notable if n.warn and n.brief))
    if briefs:
        text = ", ".join(briefs[:SHOWN_WARNINGS])
        hidden = len(briefs) - SHOWN_WARNINGS
        return text + (f", +{plural(hidden, 'more warning')}" if hidden > 0 else "")
    settings = [n for n in report.notable if n.value is not None and n.why != "secret (masked)"]
    return ", ".join(f"{n.path} {n.value}" for n in settings[:SHOWN_SETTINGS])


def summarize_config(report: ConfigReport) -> str:
    """One short line about the file: what it is, what it defines, what looks wrong."""
    if report.parse_error is not None:
        # What did parse (earlier documents, the other lines of a .env) still counts.
        parts = [f"{report.name}: {report.parse_error}"]
        if report.keys:
            parts.append(f"{plural(report.keys, 'setting')} read")
        parts += [
            text for text in (_highlights(report), describe_counts(report.redactions)) if text
        ]
        return "; ".join(parts)
    head = f"{report.name}: {report.flavor}"
    if report.objects:
        head += f", {_objects(report)}"
    else:
        head += f", {plural(report.keys, 'setting')}"
        if report.documents > 1:
            head += f" in {report.documents} documents"
    parts = [head]
    if not report.keys and report.notes:  # e.g. an nginx-style file that was not read
        parts.append(report.notes[-1])
    highlights = _highlights(report)
    if highlights:
        parts.append(highlights)
    masked = describe_counts(report.redactions)
    if masked:
        parts.append(masked)
    return "; ".join(parts)


def _describe(notable: Notable) -> str:
    where = f"{notable.object} {notable.path}" if notable.object else notable.path
    mark = "⚠ " if notable.warn else ""
    if notable.value is None:
        return f"{mark}{where}: {notable.why}"
    return f"{mark}{where} = {notable.value} ({notable.why})"


def describe_config(report: ConfigReport, limit: int = 8) -> list[str]:
    """The parse error (with its line) or the notable settings, warnings first."""
    lines = []
    if report.parse_error is not None:
        line = report.parse_error
        if report.error_excerpt:
            line += f" — line {report.error_line}: {report.error_excerpt}"
        lines.append(line)
    lines += [_describe(n) for n in report.notable[:limit]]
    more = max(report.notable_count, len(report.notable)) - min(limit, len(report.notable))
    if more > 0:
        lines.append(f"…and {plural(more, 'more setting')}")
    return lines


def _change(change: ConfigChange, with_object: bool) -> str:
    prefix = f"{change.object} " if with_object and change.object else ""
    if not change.path:
        return f"{prefix.strip()}: {'added' if change.after is not None else 'removed'}"
    before = _ABSENT if change.before is None else change.before
    after = _ABSENT if change.after is None else change.after
    return f"{prefix}{change.path}: {before} → {after}"


def _single_object(diff: ConfigDiff) -> str | None:
    objects = {c.object for c in diff.changes}
    return next(iter(objects)) if len(objects) == 1 and diff.more == 0 else None


def summarize_diff(diff: ConfigDiff) -> str:
    """'deployment.yaml: 2 changes in Deployment/checkout' (or why it cannot be compared)."""
    if diff.errors:
        return f"{diff.name}: cannot compare, " + "; ".join(diff.errors)
    if not diff.total:
        return f"{diff.name}: no changes"
    text = f"{diff.name}: {plural(diff.total, 'change')}"
    single = _single_object(diff)
    return f"{text} in {single}" if single else text


def describe_diff(diff: ConfigDiff, limit: int = 10) -> list[str]:
    """One line per change, `path: before → after`; the object is named when several are."""
    with_object = _single_object(diff) is None
    lines = list(diff.errors)
    lines += [_change(change, with_object) for change in diff.changes[:limit]]
    more = diff.total - min(limit, len(diff.changes))
    if more > 0:
        lines.append(f"…and {plural(more, 'more change')}")
    return lines
