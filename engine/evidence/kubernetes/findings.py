"""Objects and events -> findings: what state explains an incident, with the lines that show
it. One finding per (signature, object); the strongest wins and their lines are merged.

Severity says how strongly a finding explains an incident by itself: a container killed for
memory or an image that cannot be pulled does; a Warning event with no state behind it less;
restarts alone least.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from engine.core.wording import plural
from engine.evidence.components import canonical
from engine.evidence.kubernetes import hpa
from engine.evidence.kubernetes.causes import (
    first_sentence,
    message_signature,
    pull_cause,
    scheduling_cause,
)
from engine.evidence.kubernetes.report import KubeEvent, KubeFinding, KubeObject
from engine.evidence.kubernetes.workload import workload_of

MAX_LINES = 4
MAX_RESTART_ONLY = 5  # pods listed for their restarts alone, most restarts first
_PULL = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
_CONFIG = frozenset({"CreateContainerConfigError"})
_CREATE = frozenset(
    {"CreateContainerError", "RunContainerError", "StartError", "ContainerCannotRun"}
)
_PRESSURE = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
_CONFIG_MESSAGE = re.compile(
    r"(?:configmap|secret)s? \"?[\w.-]+\"? not found|couldn't find key|"
    r"references non-existent (?:config key|secret key)",
    re.I,
)
_QUOTA = re.compile(
    r"exceeded quota|failed quota|must specify (?:cpu|memory)|"
    r"(?:maximum|minimum) (?:cpu|memory) usage per (?:Container|Pod)",
    re.I,
)


class Collector:
    """Findings keyed by (signature, object), so each rule can add without checking."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.found: dict[tuple[str, str], KubeFinding] = {}

    def add(
        self,
        signature: str,
        component: str,
        ref: str,
        namespace: str | None,
        summary: str,
        cited: Iterable[str],
        severity: float,
    ) -> None:
        key = (signature, ref)
        cited = [c.strip() for c in cited if c and c.strip()]
        old = self.found.get(key)
        if old is None:
            self.found[key] = KubeFinding(
                signature=signature,
                component=component,
                object=ref,
                namespace=namespace,
                summary=summary,
                lines=list(dict.fromkeys(cited))[:MAX_LINES],
                severity=severity,
            )
            return
        merged = list(dict.fromkeys([*old.lines, *cited]))[:MAX_LINES]
        if severity > old.severity:
            old.summary, old.severity = summary, severity
        old.lines = merged

    def event_line(self, event: KubeEvent) -> str:
        if event.line and 0 < event.line <= len(self.lines):
            return self.lines[event.line - 1].strip()
        return " ".join(p for p in (event.type, event.reason, event.message) if p)

    def search(self, needles: Iterable[str], limit: int = MAX_LINES) -> list[str]:
        """File lines holding any needle: citations for objects read from YAML or JSON."""
        wanted = [n for n in needles if n]
        hits = [line.strip() for line in self.lines if any(n in line for n in wanted)]
        return hits[:limit]


def _ref(obj: KubeObject) -> str:
    return f"{obj.kind.lower()}/{obj.name}"


def _cite(c: Collector, obj: KubeObject, *needles: str) -> list[str]:
    lines = [line for line in obj.evidence if any(n in line for n in needles)]
    return lines or c.search(needles)


def _restarts(obj: KubeObject) -> str:
    return f", restarted {plural(obj.restarts, 'time')}" if obj.restarts else ""


def _events_of(obj: KubeObject, events: list[KubeEvent]) -> list[KubeEvent]:
    ref = _ref(obj)
    return [*obj.events, *(e for e in events if e.object and e.object.lower() == ref.lower())]


def _oom(c: Collector, obj: KubeObject) -> None:
    if "OOMKilled" not in obj.reasons and obj.status != "OOMKilled":
        return
    limit = obj.limits.get("memory")
    where = f" ({limit})" if limit else ""
    summary = f"OOMKilled: the container hit its memory limit{where}{_restarts(obj)}"
    cited = _cite(c, obj, "OOMKilled", "137", "memory")
    c.add("oom", obj.workload, _ref(obj), obj.namespace, summary, cited, 0.9)


def _crash_loop(c: Collector, obj: KubeObject) -> None:
    crashing = "CrashLoopBackOff" in obj.reasons or obj.status == "CrashLoopBackOff"
    if not crashing or (obj.status or "").startswith("Init:"):
        return
    exits = ", ".join(str(code) for code in dict.fromkeys(obj.exit_codes))
    why = [r for r in obj.reasons if r not in ("CrashLoopBackOff",)]
    detail = f", last exit {exits}" if exits else ""
    detail += f" ({', '.join(why)})" if why else ""
    summary = f"CrashLoopBackOff: the container keeps exiting{detail}{_restarts(obj)}"
    cited = _cite(c, obj, "CrashLoopBackOff", "Exit Code", "exitCode", "Restart Count", "Reason")
    c.add("crash-loop", obj.workload, _ref(obj), obj.namespace, summary, cited, 0.85)


def _pull(c: Collector, obj: KubeObject, events: list[KubeEvent]) -> None:
    reasons = [r for r in obj.reasons if r in _PULL]
    pulls = [
        e for e in events if e.reason in ("Failed", "ErrImagePull") and "pull" in e.message.lower()
    ]
    if not reasons and not pulls:
        return
    message = " ".join([obj.details.get("message", ""), *(e.message for e in pulls)])
    cause = pull_cause(message)
    image = ", ".join(obj.images[:2]) or "the image"
    head = reasons[0] if reasons else "ErrImagePull"
    summary = f"{head}: cannot pull {image}" + (f" — {cause}" if cause else "")
    cited = _cite(c, obj, *reasons, "ErrImagePull", "ImagePullBackOff") + [
        c.event_line(e) for e in pulls
    ]
    c.add("image-pull", obj.workload, _ref(obj), obj.namespace, summary, cited, 0.85)


def _config(c: Collector, obj: KubeObject, events: list[KubeEvent]) -> None:
    reasons = [r for r in obj.reasons if r in _CONFIG or r in _CREATE]
    related = [
        e
        for e in events
        if e.type == "Warning" and (_CONFIG_MESSAGE.search(e.message) or e.reason in _CREATE)
    ]
    if not reasons and not related:
        return
    message = obj.details.get("message") or (related[0].message if related else "")
    head = reasons[0] if reasons else related[0].reason
    summary = (
        f"{head}: {first_sentence(message)}"
        if message
        else f"{head}: the container cannot be created from its spec"
    )
    cited = _cite(c, obj, *reasons) + [c.event_line(e) for e in related]
    c.add("config", obj.workload, _ref(obj), obj.namespace, summary, cited, 0.8)


def _init(c: Collector, obj: KubeObject) -> None:
    status = obj.status or ""
    if not status.startswith("Init:") or re.fullmatch(r"Init:\d+/\d+", status):
        return
    summary = f"{status}: an init container is failing, so the main containers never start"
    c.add(
        "init-container",
        obj.workload,
        _ref(obj),
        obj.namespace,
        summary,
        _cite(c, obj, status, "Init"),
        0.8,
    )


def _evicted(c: Collector, obj: KubeObject) -> None:
    if "Evicted" not in obj.reasons and obj.status != "Evicted":
        return
    message = obj.details.get("message", "")
    summary = "Evicted" + (
        f": {first_sentence(message)}" if message else ": the node ran short of a resource"
    )
    c.add(
        "evicted",
        obj.workload,
        _ref(obj),
        obj.namespace,
        summary,
        _cite(c, obj, "Evicted", "low on resource"),
        0.7,
    )


def _node(c: Collector, obj: KubeObject) -> None:
    if obj.kind != "Node":
        return
    pressed = [k for k in _PRESSURE if obj.conditions.get(k) == "True"]
    if pressed:
        summary = f"Node {obj.name}: {', '.join(pressed)}"
        c.add("node-pressure", obj.workload, _ref(obj), None, summary, _cite(c, obj, *pressed), 0.7)
    if (obj.status or "").startswith("NotReady") or obj.conditions.get("Ready") in (
        "False",
        "Unknown",
    ):
        reason = obj.details.get("condition_reason.Ready") or obj.details.get(
            "condition_message.Ready"
        )
        summary = f"Node {obj.name} NotReady" + (f": {reason}" if reason else "")
        c.add(
            "node-pressure",
            obj.workload,
            _ref(obj),
            None,
            summary,
            _cite(c, obj, "NotReady", "Ready"),
            0.75,
        )


def _claim(c: Collector, obj: KubeObject, events: list[KubeEvent]) -> None:
    if obj.kind != "PersistentVolumeClaim" or obj.status != "Pending":
        return
    storage = obj.details.get("storage_class")
    why = next((e.message for e in events if e.type == "Warning"), None)
    summary = f"PVC {obj.name} Pending (storage class {storage or 'unset'})"
    summary += f": {first_sentence(why)}" if why else ""
    cited = _cite(c, obj, "Pending", "StorageClass", "storageClassName") + [
        c.event_line(e) for e in events if e.type == "Warning"
    ]
    c.add("pvc-pending", obj.workload, _ref(obj), obj.namespace, summary, cited, 0.75)


def _service(c: Collector, obj: KubeObject) -> None:
    if obj.kind == "Service" and obj.details.get("endpoints") in ("<none>", ""):
        summary = f"Service {obj.name} has no endpoints: no ready pod matches its selector"
        selector = obj.details.get("selector")
        summary += f" ({selector})" if selector else ""
        c.add(
            "no-endpoints",
            obj.workload,
            _ref(obj),
            obj.namespace,
            summary,
            _cite(c, obj, "Endpoints"),
            0.7,
        )
    if obj.kind == "Ingress" and obj.details.get("backend_errors"):
        summary = f"Ingress {obj.name}: backend service has no endpoints"
        c.add(
            "no-endpoints",
            obj.workload,
            _ref(obj),
            obj.namespace,
            summary,
            _cite(c, obj, "<error: endpoints"),
            0.6,
        )
    if obj.kind == "Ingress" and obj.details.get("ingress_class") == "<none>":
        summary = f"Ingress {obj.name} has no ingress class: no controller may serve it"
        c.add(
            "ingress-class",
            obj.workload,
            _ref(obj),
            obj.namespace,
            summary,
            _cite(c, obj, "Ingress Class", "IngressClass"),
            0.5,
        )


def _job(c: Collector, obj: KubeObject, events: list[KubeEvent]) -> None:
    failed = [e for e in events if e.reason in ("BackoffLimitExceeded", "DeadlineExceeded")]
    condition = obj.kind == "Job" and obj.conditions.get("Failed") == "True"
    if not failed and not (obj.kind == "Job" and (obj.status == "Failed" or condition)):
        return
    why = failed[0].message if failed else obj.details.get("condition_message.Failed", "")
    summary = f"Job {obj.name} failed" + (f": {first_sentence(why)}" if why else "")
    cited = _cite(c, obj, "Failed") + [c.event_line(e) for e in failed]
    c.add("job-failed", obj.workload, _ref(obj), obj.namespace, summary, cited, 0.8)


def _restarts_only(c: Collector, obj: KubeObject) -> None:
    if obj.restarts and obj.restarts > 0:
        ago = obj.details.get("last_restart")
        summary = f"{obj.kind} {obj.name} restarted {plural(obj.restarts, 'time')}"
        summary += f" (last {ago})" if ago else ""
        cited = _cite(c, obj, "Restart Count", "restartCount") or obj.evidence[:1]
        c.add("crash-loop", obj.workload, _ref(obj), obj.namespace, summary, cited, 0.3)


# Where a live -o yaml HPA shows its state (its objects carry no verbatim lines).
_HPA_YAML = ("averageUtilization", "currentCPUUtilizationPercentage", "currentReplicas")


def _a(amount: str) -> str:
    """The article before a spoken number: 'an 80% target', 'an 11% target', 'a 60% target'."""
    digits = re.match(r"\d+", amount)
    whole = digits.group(0) if digits else ""
    eleven = whole in ("11", "18") or (len(whole) == 5 and whole[:2] in ("11", "18"))
    return "an" if amount.startswith("8") or eleven else "a"


def _usage(metrics: list[hpa.Metric], *, named: bool = False) -> str:
    """'now 9% against a 60% target' ('cpu now 9%…' when `named`); with several, each named:
    'now cpu 12% against an 80% target and memory 40% against a 70% target'."""

    def name(m: hpa.Metric) -> str:
        return m.name if m.name[:1] != "#" else f"metric {m.name[1:]}"

    if len(metrics) == 1:
        m = metrics[0]
        said = f"now {m.current} against {_a(m.target)} {m.target} target"
        return f"{name(m)} {said}" if named and m.name[:1] != "#" else said
    each = [f"{name(m)} {m.current} against {_a(m.target)} {m.target} target" for m in metrics]
    return "now " + " and ".join(each)


def _hpa(c: Collector, obj: KubeObject) -> None:
    """Whether the autoscaler can scale its target, and why it does not: no metrics to read,
    its maximum reached, or usage under the target (information, not a failure)."""
    if obj.kind != hpa.KIND:
        return
    what = f"HPA {obj.name}"
    target = obj.details.get("scale_target", "its target")
    metrics = hpa.metrics_of(obj)

    def add(summary: str, severity: float, *needles: str) -> None:
        shown = [line for line in obj.evidence if any(n in line for n in needles)]
        cited = shown or c.search(_HPA_YAML) or obj.evidence[:2]
        c.add("autoscaler", obj.workload, _ref(obj), obj.namespace, summary, cited, severity)

    active = obj.conditions.get("ScalingActive")
    active_reason = obj.details.get("condition_reason.ScalingActive", "")
    unknown = [m for m in metrics if m.current is None]
    if active_reason == "ScalingDisabled" and active == "False":
        add(f"{what} is disabled: {target} has 0 replicas, so it does not scale", 0.6, "Scaling")
        return
    if active == "False" or (active is None and unknown):
        reason = active_reason or "its metrics show <unknown>"
        summary = f"{what} cannot read its metrics ({reason}): it will not scale"
        add(summary, 0.75, "ScalingActive", "<unknown>", "FailedGet")
        return
    if obj.conditions.get("AbleToScale") == "False":
        reason = obj.details.get("condition_reason.AbleToScale", "AbleToScale False")
        add(f"{what} cannot scale {target} ({reason})", 0.7, "AbleToScale", "FailedGetScale")
        return
    top = obj.details.get("max_replicas")
    now = obj.details.get("replicas")
    over = [m for m in metrics if hpa.above(m)]
    limited = obj.details.get("condition_reason.ScalingLimited") == "TooManyReplicas" and (
        obj.conditions.get("ScalingLimited") == "True"
    )
    shown = ("/", "Replicas", "replicas")
    if top and (limited or (now == top and over)):
        summary = f"{what} is at its maximum of {top} replicas"
        summary += f" ({_usage(over, named=True)})" if over else ""
        add(summary, 0.65, "TooManyReplicas", " pods:", *shown)
        return
    readable = [m for m in metrics if hpa.above(m) is not None]
    if over:
        desired = obj.details.get("desired_replicas")
        going = f" ({now} → {desired} replicas)" if now and desired and desired != now else ""
        summary = f"{what} scales {target}: {_usage(over, named=True)}, so it scales up{going}"
        add(summary, 0.3, *shown)
    elif readable:
        names = [m.name for m in readable if m.name[:1] != "#"]
        on = f" on {' and '.join(dict.fromkeys(names))}" if len(names) == len(readable) else ""
        add(f"{what} scales {target}{on}: {_usage(readable)}, so it does not scale up", 0.3, *shown)


ObjectRule = Callable[[Collector, KubeObject], None]
EventRule = Callable[[Collector, KubeObject, list[KubeEvent]], None]
_OBJECT_RULES: tuple[ObjectRule, ...] = (
    _oom,
    _crash_loop,
    _init,
    _evicted,
    _node,
    _service,
    _hpa,
)
_EVENT_RULES: tuple[EventRule, ...] = (_pull, _config, _claim, _job)


# The kernel's OOM event on a node names the killed process: '... Killed process 14053 (inventory)'.
_KILLED = re.compile(r"Killed process \d+ \(([^)]+)\)")
# The HPA controller's events when it cannot read a metric: it keeps the replica count.
_HPA_METRIC_FAILURES = frozenset(
    {"FailedGetResourceMetric", "FailedComputeMetricsReplicas", "FailedGetExternalMetric"}
    | {"FailedGetPodsMetric", "FailedGetObjectMetric", "FailedGetContainerResourceMetric"}
)
# A few failed probes happen in any rollout; more say the container is not healthy.
_PROBE_REPEATS = {"liveness": 3, "readiness": 5}


def _probe_severity(message: str, seen: int) -> float:
    liveness = "liveness" in message.lower()
    if seen < _PROBE_REPEATS["liveness" if liveness else "readiness"]:
        return 0.4
    return 0.65 if liveness else 0.6


def _event_findings(
    c: Collector,
    event: KubeEvent,
    target: tuple[str, str, str | None],
    seen: int,
    known: set[str],
) -> None:
    """Rules that need only the event: scheduling, probes, OOM kills, back-off, quota.
    `seen` is how often the object had events of this reason; `known` the workloads the
    file names."""
    component, ref, ns = target
    line = c.event_line(event)
    message = event.message
    times = f" (×{event.count})" if event.count and event.count > 1 else ""
    if event.reason == "FailedScheduling":
        cause = scheduling_cause(message)
        summary = f"FailedScheduling: {first_sentence(message)}"
        summary += f" — {cause}" if cause and cause not in summary else ""
        c.add("scheduling", component, ref, ns, summary, [line], 0.85)
    elif event.reason == "Unhealthy" or "probe failed" in message.lower():
        severity = _probe_severity(message, seen)
        c.add("probe", component, ref, ns, f"{first_sentence(message)}{times}", [line], severity)
    elif event.reason in ("OOMKilling", "OOMKilled") or "OOMKilled" in message:
        killed = _KILLED.search(message)
        process = canonical(killed.group(1)) if killed else None
        if process in known:  # the node reports it; the killed process is the workload's
            component = process
        summary = f"{event.reason}: {first_sentence(message)}"
        c.add("oom", component, ref, ns, summary, [line], 0.85)
    elif event.reason == "BackOff" and "restarting failed container" in message:
        c.add(
            "crash-loop",
            component,
            ref,
            ns,
            f"BackOff: {first_sentence(message)}{times}",
            [line],
            0.8,
        )
    elif event.reason in _HPA_METRIC_FAILURES:
        name = ref.partition("/")[2] or ref
        summary = f"HPA {name} cannot read its metrics ({event.reason}): it will not scale"
        c.add("autoscaler", component, ref, ns, summary, [line], 0.75)
    elif event.reason == "Evicted":
        c.add("evicted", component, ref, ns, f"Evicted: {first_sentence(message)}", [line], 0.7)
    elif event.reason in (
        "NodeNotReady",
        "NodeHasDiskPressure",
        "NodeHasInsufficientMemory",
        "EvictionThresholdMet",
    ):
        c.add(
            "node-pressure",
            component,
            ref,
            ns,
            f"{event.reason}: {first_sentence(message)}",
            [line],
            0.6,
        )
    elif _QUOTA.search(message):
        c.add(
            "quota", component, ref, ns, f"{event.reason}: {first_sentence(message)}", [line], 0.8
        )
    elif event.type == "Warning":
        signature = message_signature(message) or "warning-event"
        c.add(
            signature,
            component,
            ref,
            ns,
            f"{event.reason}: {first_sentence(message)}{times}",
            [line],
            0.4,
        )


def _event_target(event: KubeEvent, objects: dict[str, KubeObject]) -> tuple[str, str, str | None]:
    """(component, object ref, namespace) an event is about."""
    ref = (event.object or "").strip()
    known = objects.get(ref.lower())
    if known is not None:
        return known.workload, f"{known.kind.lower()}/{known.name}", known.namespace
    kind, _, name = ref.partition("/")
    if not name:
        kind, name = "pod", ref
    return (workload_of(kind, name) if name else "unknown"), ref or "unknown", None


def _object_rule_reads(event: KubeEvent) -> bool:
    """Events the object rules read (pull, config, job failures): not read again alone."""
    message = event.message
    return (
        (event.reason in ("Failed", "ErrImagePull") and "pull" in message.lower())
        or event.reason in _CREATE
        or event.reason in ("BackoffLimitExceeded", "DeadlineExceeded")
        or (event.type == "Warning" and bool(_CONFIG_MESSAGE.search(message)))
    )


def find(objects: list[KubeObject], events: list[KubeEvent], lines: list[str]) -> list[KubeFinding]:
    c = Collector(lines)
    by_ref = {_ref(o).lower(): o for o in objects}
    for obj in objects:
        related = _events_of(obj, events)
        for rule in _OBJECT_RULES:
            rule(c, obj)
        for event_rule in _EVENT_RULES:
            event_rule(c, obj, related)
    every = [*events, *(e for o in objects for e in o.events)]
    seen: Counter[tuple[str, str]] = Counter()
    for event in every:
        seen[(str(event.object).lower(), event.reason)] += event.count or 1
    known = {o.workload for o in objects} | {_event_target(e, by_ref)[0] for e in every}
    for event in every:
        component, ref, ns = _event_target(event, by_ref)
        if not _object_rule_reads(event):
            times_seen = seen[(str(event.object).lower(), event.reason)]
            _event_findings(c, event, (component, ref, ns), times_seen, known)
        elif ref.lower() not in by_ref:  # no object in this file to read it with
            kind, _, name = ref.partition("/")
            holder = KubeObject(
                kind=kind or "pod", name=name or ref, namespace=ns, workload=component
            )
            for event_rule in _EVENT_RULES:
                event_rule(c, holder, [event])
    explained = {ref for (_, ref), f in c.found.items() if f.severity >= 0.6}
    restarted = [o for o in objects if o.kind == "Pod" and _ref(o) not in explained]
    # Restarts alone say little pod by pod; on a big table only the pods that restarted most
    # are listed, so the findings that explain something stay in view.
    restarted.sort(key=lambda o: -(o.restarts or 0))
    for obj in restarted[:MAX_RESTART_ONLY]:
        _restarts_only(c, obj)
    return sorted(c.found.values(), key=lambda f: -f.severity)
