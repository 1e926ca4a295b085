"""`kubectl describe` text -> KubeObject per described object, with its events.

describe prints one block per object, each starting with `Name:` at column 0: fields at
column 0, nested fields indented, and tables (Conditions, Events) under a title field. The
object's kind is not printed for built-in kinds, so it is told from the fields it has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.evidence.kubernetes import hpa
from engine.evidence.kubernetes.containers import ContainerState, read_containers
from engine.evidence.kubernetes.events import event_from_row
from engine.evidence.kubernetes.report import KubeEvent, KubeObject
from engine.evidence.kubernetes.tables import read_table
from engine.evidence.kubernetes.workload import workload_of

_FIELD = re.compile(r"^(?P<key>[A-Z][\w .()/-]*?):(?:\s+(?P<value>.*?))?\s*$")
_NONE = ("", "<none>", "<unset>", "<nil>")
# Fields each kind has and the others lack, in the order they are tried.
_KIND_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (hpa.KIND, ("Min replicas", "Max replicas")),
    ("CronJob", ("Concurrency Policy",)),
    ("Job", ("Completions", "Pods Statuses", "Parallelism")),
    ("DaemonSet", ("Desired Number of Nodes Scheduled",)),
    ("Deployment", ("StrategyType", "RollingUpdateStrategy")),
    ("StatefulSet", ("Update Strategy",)),
    ("ReplicaSet", ("Pods Status",)),
    ("Node", ("Roles", "System Info", "Allocatable", "Unschedulable")),
    ("PersistentVolume", ("Reclaim Policy",)),
    ("PersistentVolumeClaim", ("Access Modes", "StorageClass")),
    ("Ingress", ("Ingress Class", "IngressClass", "Default backend")),
    ("Service", ("Endpoints", "TargetPort", "Session Affinity")),
    ("Pod", ("Containers", "QoS Class", "Start Time")),
)
_FILE_KIND = re.compile(r"describe_(?P<kind>[a-z]+)", re.IGNORECASE)
_FILE_KINDS = {
    "pod": "Pod",
    "deployment": "Deployment",
    "replicaset": "ReplicaSet",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "job": "Job",
    "node": "Node",
    "service": "Service",
    "svc": "Service",
    "ingress": "Ingress",
    "pvc": "PersistentVolumeClaim",
    "persistentvolumeclaim": "PersistentVolumeClaim",
    "hpa": hpa.KIND,
    "horizontalpodautoscaler": hpa.KIND,
}
# 'Replicas: 2 desired | 2 updated | 2 total | 0 available | 2 unavailable'
_DESIRED = re.compile(r"(\d+) desired")
_AVAILABLE = re.compile(r"(\d+) available")
_CURRENT = re.compile(r"(\d+) current")
_POD_STATUSES = re.compile(r"(\d+) (Running|Active|Succeeded|Failed|Waiting)")


@dataclass
class Block:
    start: int  # index of its `Name:` line
    lines: list[str]
    fields: dict[str, str] = field(default_factory=dict)  # top-level field -> value
    where: dict[str, int] = field(default_factory=dict)  # top-level field -> its index


def split_blocks(lines: list[str]) -> list[Block]:
    starts = [i for i, line in enumerate(lines) if line.startswith("Name:")]
    blocks = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        block = Block(start, lines[start:end])
        for i, raw in enumerate(block.lines):
            match = _FIELD.match(raw)
            if match and not raw.startswith((" ", "\t")):
                key = match.group("key")
                block.fields.setdefault(key, (match.group("value") or "").strip())
                block.where.setdefault(key, i)
        blocks.append(block)
    return blocks


def _kind(block: Block, file_name: str) -> str:
    written = block.fields.get("Kind")
    if written:
        return written
    for kind, markers in _KIND_MARKERS:
        if any(marker in block.fields for marker in markers):
            return kind
    hint = _FILE_KIND.search(file_name)
    return _FILE_KINDS.get(hint.group("kind").lower(), "Object") if hint else "Object"


def _value(block: Block, key: str) -> str | None:
    value = block.fields.get(key)
    return None if value is None or value in _NONE else value


def _line(block: Block, key: str) -> str | None:
    index = block.where.get(key)
    return block.lines[index].strip() if index is not None else None


def _table(block: Block, key: str) -> list[dict[str, str]]:
    """Rows of the table under a title field (Conditions:), with the file line of each."""
    index = block.where.get(key)
    if index is None or block.fields.get(key) or index + 1 >= len(block.lines):
        return []
    table = read_table(block.lines, index + 1, first_line=block.start + 1)
    return [{**row.cells, "__line__": str(row.line), "__text__": row.text} for row in table.rows]


def _events(block: Block, about: str) -> list[KubeEvent]:
    index = block.where.get("Events")
    if index is None or block.fields.get("Events") or index + 1 >= len(block.lines):
        return []
    table = read_table(block.lines, index + 1, first_line=block.start + 1)
    return [e for row in table.rows if (e := event_from_row(row, about=about)) is not None]


def _conditions(block: Block, obj: KubeObject) -> None:
    for row in _table(block, "Conditions"):
        cells = {k.lower(): v for k, v in row.items()}
        kind, status = cells.get("type"), cells.get("status")
        if not kind or not status:
            continue
        obj.conditions[kind] = status
        reason = cells.get("reason")
        if reason:
            obj.details[f"condition_reason.{kind}"] = reason
        message = cells.get("message")
        if message:
            obj.details[f"condition_message.{kind}"] = message
        if status not in ("True",) or kind.endswith("Pressure"):
            obj.evidence.append(row["__text__"])


def _pod(block: Block, obj: KubeObject, states: list[ContainerState]) -> None:
    obj.node = (_value(block, "Node") or "").split("/", 1)[0] or None
    main = [s for s in states if not s.init]
    obj.ready = f"{sum(1 for s in main if s.ready)}/{len(main)}" if main else None
    obj.restarts = sum(s.restarts or 0 for s in states) if states else None
    obj.status = _pod_status(block, states)
    pod_reason = _value(block, "Reason")
    if pod_reason:  # 'Evicted', 'NodeLost': the pod-level reason
        obj.reasons.append(pod_reason)
        obj.evidence += [line for line in (_line(block, "Reason"), _line(block, "Message")) if line]
        message = _value(block, "Message")
        if message:
            obj.details["message"] = message


def _pod_status(block: Block, states: list[ContainerState]) -> str | None:
    """What `kubectl get pods` would show: a pod reason, a waiting or terminated container's
    reason (an init container's with 'Init:'), else the phase."""
    pod_reason = _value(block, "Reason")
    if pod_reason:
        return pod_reason
    for state in states:
        reason = state.waiting or state.terminated
        if reason and state.init and not (state.terminated == "Completed" and not state.waiting):
            return f"Init:{reason}"
    for state in states:
        reason = state.waiting or (state.terminated if state.state == "Terminated" else None)
        if reason and not state.init:
            return reason
    return _value(block, "Status")


def _replicas(block: Block, obj: KubeObject) -> None:
    replicas = _value(block, "Replicas") or _value(block, "Desired Number of Nodes Scheduled")
    if replicas is None:
        return
    desired = _DESIRED.search(replicas)
    total = int(desired.group(1)) if desired else _int(replicas)
    available = _AVAILABLE.search(replicas) or _CURRENT.search(replicas)
    ready = _int(_value(block, "Number of Nodes Scheduled with Available Pods") or "")
    ready = int(available.group(1)) if available else ready
    if total is not None and ready is not None:
        obj.ready = f"{ready}/{total}"
    line = _line(block, "Replicas")
    if line:
        obj.evidence.append(line)


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _pods_statuses(block: Block, obj: KubeObject) -> None:
    key = "Pods Statuses" if "Pods Statuses" in block.fields else "Pods Status"
    value = _value(block, key)
    if value is None:
        return
    obj.details["pods_statuses"] = value
    counts = {name: int(n) for n, name in _POD_STATUSES.findall(value)}
    if counts.get("Failed"):
        obj.evidence.append(_line(block, key) or value)
    if obj.kind == "Job":
        obj.status = "Failed" if counts.get("Failed") and not counts.get("Active") else None
        if counts.get("Succeeded") and not counts.get("Active"):
            obj.status = "Complete"


def _node(block: Block, obj: KubeObject) -> None:
    ready = obj.conditions.get("Ready")
    obj.status = None if ready is None else ("Ready" if ready == "True" else "NotReady")
    if (_value(block, "Unschedulable") or "").lower() == "true":
        obj.status = f"{obj.status or 'Unknown'},SchedulingDisabled"
    taints = _value(block, "Taints")
    if taints:
        obj.details["taints"] = taints


def _service(block: Block, obj: KubeObject) -> None:
    endpoints = block.fields.get("Endpoints")
    if endpoints is not None:
        obj.details["endpoints"] = endpoints or "<none>"
        line = _line(block, "Endpoints")
        if line:
            obj.evidence.append(line)
    for key in ("Type", "Selector"):
        value = _value(block, key)
        if value:
            obj.details[key.lower()] = value


def _ingress(block: Block, obj: KubeObject) -> None:
    for key in ("Ingress Class", "IngressClass"):
        if key in block.fields:
            obj.details["ingress_class"] = block.fields[key] or "<none>"
            line = _line(block, key)
            if line:
                obj.evidence.append(line)
    errors = [line.strip() for line in block.lines if "<error: endpoints" in line]
    if errors:
        obj.details["backend_errors"] = "; ".join(errors)
        obj.evidence += errors


def _claim(block: Block, obj: KubeObject) -> None:
    obj.status = _value(block, "Status")
    storage_class = block.fields.get("StorageClass")
    if storage_class is not None:
        obj.details["storage_class"] = storage_class or "<none>"
    for key in ("Status", "StorageClass"):
        line = _line(block, key)
        if line:
            obj.evidence.append(line)


def read_block(block: Block, file_name: str) -> KubeObject:
    kind = _kind(block, file_name)
    name = block.fields.get("Name", "") or "?"
    namespace = _value(block, "Namespace")
    owner = _value(block, "Controlled By")
    obj = KubeObject(
        kind=kind,
        name=name,
        namespace=namespace,
        owner=owner,
        workload=workload_of(kind, name, owner),
        line=block.start + 1,
    )
    states = read_containers(block.lines, block.start + 1)
    for state in states:
        obj.images += [state.image] if state.image and state.image not in obj.images else []
        obj.reasons += [r for r in state.reasons if r not in obj.reasons]
        obj.exit_codes += state.exit_codes
        for resource, amount in state.limits.items():
            obj.limits.setdefault(resource, amount)
        obj.probes += state.probes
        obj.evidence += state.evidence
    _conditions(block, obj)
    if kind == "Pod":
        _pod(block, obj, states)
    elif kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
        _replicas(block, obj)
        _pods_statuses(block, obj)
    elif kind == "Job":
        _pods_statuses(block, obj)
    elif kind == "Node":
        _node(block, obj)
    elif kind == "Service":
        _service(block, obj)
    elif kind == "Ingress":
        _ingress(block, obj)
    elif kind == "PersistentVolumeClaim":
        _claim(block, obj)
    elif kind == hpa.KIND:
        hpa.from_describe(block.fields, block.lines, obj)
    if obj.status is None and kind not in ("Node", "Job"):
        obj.status = _value(block, "Status")
    obj.events = _events(block, f"{kind.lower()}/{name}")
    return obj


def block_times(block: Block) -> list[str]:
    """Absolute times a block gives (Start Time, CreationTimestamp, Started/Finished)."""
    found = []
    for raw in block.lines:
        match = _FIELD.match(raw.strip())
        if match and match.group("key") in (
            "Start Time",
            "CreationTimestamp",
            "Started",
            "Finished",
            "Last Schedule Time",
            "Completed At",
        ):
            found.append(match.group("value") or "")
    return found


def read_describe(lines: list[str], file_name: str) -> list[tuple[KubeObject, list[str]]]:
    """Each described object with the absolute times its block gives."""
    return [(read_block(b, file_name), block_times(b)) for b in split_blocks(lines)]
