"""CliStateReport -> words: one line to scan in the thread, then the few lines worth reading.

Examples:
  argocd app get: app checkout Degraded, OutOfSync; 1 of 3 resources not healthy
  kafka-consumer-groups --describe: 1 group, 3 partitions, lag 65,238; order-processor: ...
  rabbitmqctl cluster_status: 3 nodes, 2 running; network partition; memory alarm
"""

from __future__ import annotations

from collections import Counter

from engine.core.wording import plural
from engine.evidence.cli_state.report import CliObject, CliStateReport

STRONG = 0.5  # findings at least this strong are suspects (suspects/from_state.MIN_FINDING)
_HEALTHY = frozenset({"Healthy", "Synced", "Stable", "running", "Suspended"})
_COMMANDS = {
    "argocd": "argocd",
    "kafka": "kafka-consumer-groups",
    "rabbitmq": "rabbitmqctl",
}
_VARIANTS = {
    "consumer-groups offsets": "--describe",
    "consumer-groups members": "--describe --members",
    "consumer-groups state": "--describe --state",
}


def _command(report: CliStateReport) -> str:
    tool = _COMMANDS.get(report.tool, report.tool)
    return f"{tool} {_VARIANTS.get(report.format, report.format)}"


def _unhealthy(obj: CliObject) -> bool:
    return obj.status is not None and obj.status not in _HEALTHY


def _argocd(report: CliStateReport) -> str:
    apps = [o for o in report.objects if o.kind == "Application"]
    resources = [o for o in report.objects if o.kind != "Application"]
    if len(apps) == 1:
        app = apps[0]
        sync = app.details.get("sync status") or app.details.get("sync", "")
        states = [s for s in (app.status, sync.split(" ", 1)[0]) if s]
        text = f"app {app.name} {', '.join(states)}".strip()
    else:
        counted = Counter(o.status for o in apps if o.status)
        text = plural(len(apps), "app") + (
            f" ({', '.join(f'{n} {s}' for s, n in counted.most_common(3))})" if counted else ""
        )
    bad = [o for o in resources if o.details.get("health") in ("Degraded", "Missing")]
    if resources:
        text += f"; {len(bad)} of {plural(len(resources), 'resource')} not healthy"
    return text


def _kafka(report: CliStateReport) -> str:
    groups = {o.name if o.kind == "ConsumerGroup" else o.component for o in report.objects}
    lags = [int(o.details["lag"]) for o in report.objects if "lag" in o.details]
    text = plural(len(groups), "group")
    if lags:
        parts = sum(int(o.details.get("partitions", "0")) for o in report.objects)
        text += f", {plural(parts, 'partition')}, lag {sum(lags):,}"
    members = [o for o in report.objects if o.kind == "Member"]
    return text + (f", {plural(len(members), 'member')}" if members else "")


def _rabbitmq(report: CliStateReport) -> str:
    nodes = [o for o in report.objects if o.kind == "Node"]
    if nodes:
        running = sum(1 for o in nodes if o.status == "running")
        return f"{plural(len(nodes), 'node')}, {running} running"
    queues = [o for o in report.objects if o.kind == "Queue"]
    held = sum(
        int(o.details.get("messages", "0") or 0)
        for o in queues
        if o.details.get("messages", "").isdigit()
    )
    return f"{plural(len(queues), 'queue')}, {plural(held, 'message')}"


_WHAT = {"argocd": _argocd, "kafka": _kafka, "rabbitmq": _rabbitmq}


def summarize_cli(report: CliStateReport) -> str:
    words = _WHAT.get(report.tool)
    parts = [
        f"{_command(report)}: {words(report) if words else plural(len(report.objects), 'object')}"
    ]
    strong = [f for f in report.findings if f.severity >= STRONG]
    parts += [f.summary for f in strong[:2]]
    if not report.objects:
        parts.append("nothing read")
    return "; ".join(parts)


def describe_cli(report: CliStateReport, limit: int = 8) -> list[str]:
    """The findings (⚠ for those that make suspects), then objects not in a healthy state."""
    lines = [
        f"{'⚠ ' if f.severity >= STRONG else ''}{f.object}: {f.summary}" for f in report.findings
    ]
    named = {f.object.split("/", 1)[-1] for f in report.findings}
    for obj in report.objects:
        if obj.name not in named and _unhealthy(obj):
            lines.append(f"{obj.kind.lower()}/{obj.name}: {obj.status}")
    lines = list(dict.fromkeys(lines))
    if len(lines) > limit:
        return [*lines[: limit - 1], f"…and {plural(len(lines) - limit + 1, 'more line')}"]
    return lines
