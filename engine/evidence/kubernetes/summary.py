"""KubeReport -> words: one line to scan in the thread, then the few lines worth reading.

Example: kubectl describe pod: pod/nginx-6958c5bdd8-69gtn (default) CrashLoopBackOff,
5 restarts, last exit 137 OOMKilled; 3 Warning events (BackOff ×12)
"""

from __future__ import annotations

from collections import Counter

from engine.core.wording import plural
from engine.evidence.kubernetes.report import KubeEvent, KubeObject, KubeReport

SHOWN_STATES = 4
_HEALTHY = frozenset({"Running", "Completed", "Succeeded", "Complete", "Ready", "Bound", "Active"})
_SHORT = {"PersistentVolumeClaim": "pvc", "HorizontalPodAutoscaler": "hpa"}


def _kind_word(kind: str) -> str:
    return _SHORT.get(kind, kind.lower())


def _command(report: KubeReport) -> str:
    kinds = list(dict.fromkeys(_kind_word(o.kind) for o in report.objects))
    what = kinds[0] if len(kinds) == 1 else ("all" if len(kinds) > 1 else "")
    if report.format == "events":
        return "kubectl events"
    if report.format in ("yaml", "json"):
        return f"kubectl get {what} -o {report.format}".replace("  ", " ")
    return f"kubectl {report.format} {what}".strip()


def state(obj: KubeObject) -> str:
    """'CrashLoopBackOff, 5 restarts, last exit 137 OOMKilled' (what is known of it)."""
    parts = []
    if obj.status:
        parts.append(obj.status)
    elif obj.ready:
        parts.append(f"{obj.ready} ready")
    if obj.restarts:
        parts.append(plural(obj.restarts, "restart"))
    if obj.exit_codes:
        why = [r for r in obj.reasons if r not in ("CrashLoopBackOff", obj.status)]
        parts.append(f"last exit {obj.exit_codes[-1]}" + (f" {why[-1]}" if why else ""))
    if obj.usage:
        parts.append(" ".join(f"{k} {v}" for k, v in obj.usage.items()))
    parts += _autoscaler(obj)
    return ", ".join(parts)


def _autoscaler(obj: KubeObject) -> list[str]:
    """'cpu 9%/60%', '1 replica (1-5)' for an HPA."""
    metrics = [
        f"{key.removeprefix('metric.').replace('#', 'metric ')} {value}"
        for key, value in obj.details.items()
        if key.startswith("metric.")
    ]
    now, low, high = (obj.details.get(k) for k in ("replicas", "min_replicas", "max_replicas"))
    if now and now.isdigit():
        bounds = f" ({low}-{high})" if low and high else ""
        metrics.append(f"{plural(int(now), 'replica')}{bounds}")
    return metrics


def _ref(obj: KubeObject) -> str:
    where = f" ({obj.namespace})" if obj.namespace else ""
    return f"{_kind_word(obj.kind)}/{obj.name}{where}"


def _objects(report: KubeReport) -> str:
    objects = report.objects
    if len(objects) == 1:
        text = state(objects[0])
        return f"{_ref(objects[0])} {text}".strip()
    by_kind = Counter(_kind_word(o.kind) for o in objects)
    head = ", ".join(plural(n, kind) for kind, n in by_kind.most_common())
    statuses = Counter(o.status for o in objects if o.status)
    if statuses:
        head += " (" + ", ".join(f"{n} {s}" for s, n in statuses.most_common(SHOWN_STATES)) + ")"
    return head


def _warnings(events: list[KubeEvent]) -> str:
    warnings = [e for e in events if e.type == "Warning"]
    if not warnings:
        return ""
    seen: Counter[str] = Counter()
    for event in warnings:
        seen[event.reason] += event.count or 1
    reasons = ", ".join(f"{r} ×{n}" if n > 1 else r for r, n in seen.most_common(3))
    return f"{plural(len(warnings), 'Warning event')} ({reasons})"


def all_events(report: KubeReport) -> list[KubeEvent]:
    return [*report.events, *(e for o in report.objects for e in o.events)]


def summarize_kubernetes(report: KubeReport) -> str:
    if report.format == "error":  # what kubectl refused or did not find, in its own terms
        said = [f.summary for f in report.findings] + list(report.notes)
        return f"kubectl error: {'; '.join(said) or 'no message'}"
    parts = [f"{_command(report)}: {_objects(report)}" if report.objects else _command(report)]
    events = all_events(report)
    if not report.objects and events:
        parts[0] += f": {plural(len(events), 'event')}"
    warnings = _warnings(events)
    if warnings:
        parts.append(warnings)
    if report.findings and len(report.objects) != 1:
        top = report.findings[0]
        parts.append(f"{top.object}: {top.summary}")
    if not report.objects and not events:
        parts.append("nothing read")
    return "; ".join(parts)


def describe_kubernetes(report: KubeReport, limit: int = 8) -> list[str]:
    """The findings first, then objects not in a healthy state, then Warning events."""
    lines = [f"⚠ {f.object}: {f.summary}" for f in report.findings]
    shown = {f.object for f in report.findings}
    for obj in report.objects:
        ref = f"{obj.kind.lower()}/{obj.name}"
        if ref not in shown and obj.status and obj.status not in _HEALTHY:
            lines.append(f"{_ref(obj)}: {state(obj)}")
    for event in all_events(report):
        if event.type == "Warning":
            times = f" ×{event.count}" if event.count and event.count > 1 else ""
            about = f"{event.object}: " if event.object else ""
            lines.append(f"{about}{event.reason}{times}: {event.message}")
    lines = list(dict.fromkeys(lines))
    if len(lines) > limit:
        return [*lines[: limit - 1], f"…and {plural(len(lines) - limit + 1, 'more line')}"]
    return lines
