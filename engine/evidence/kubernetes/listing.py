"""`kubectl get` tables (any columns, -o wide, -A, `get all`, --no-headers) and `kubectl top`
tables -> KubeObject rows.

A row's kind comes from its name ('pod/x', 'deployment.apps/x', the tree of kube-lineage
'Deployment/x'), else from the table's columns: each kind prints its own set.
"""

from __future__ import annotations

import re

from engine.evidence.kubernetes import hpa
from engine.evidence.kubernetes.events import event_from_row
from engine.evidence.kubernetes.report import KubeEvent, KubeObject
from engine.evidence.kubernetes.tables import Row, Table
from engine.evidence.kubernetes.workload import workload_of

_KIND_NAMES = {
    "pod": "Pod",
    "po": "Pod",
    "deployment": "Deployment",
    "deploy": "Deployment",
    "replicaset": "ReplicaSet",
    "rs": "ReplicaSet",
    "statefulset": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "ds": "DaemonSet",
    "job": "Job",
    "cronjob": "CronJob",
    "node": "Node",
    "service": "Service",
    "svc": "Service",
    "ingress": "Ingress",
    "ing": "Ingress",
    "persistentvolumeclaim": "PersistentVolumeClaim",
    "pvc": "PersistentVolumeClaim",
    "persistentvolume": "PersistentVolume",
    "pv": "PersistentVolume",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "hpa": "HorizontalPodAutoscaler",
    "endpoints": "Endpoints",
    "configmap": "ConfigMap",
    "secret": "Secret",
    "event": "Event",
}
# Columns that only one kind prints, tried in order.
_COLUMN_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("Node", frozenset({"ROLES", "VERSION"})),
    ("Service", frozenset({"CLUSTER-IP"})),
    ("Ingress", frozenset({"HOSTS", "ADDRESS"})),
    ("PersistentVolumeClaim", frozenset({"VOLUME", "CAPACITY", "ACCESS MODES"})),
    ("Job", frozenset({"COMPLETIONS"})),
    ("CronJob", frozenset({"SCHEDULE", "SUSPEND"})),
    ("HorizontalPodAutoscaler", frozenset({"REFERENCE", "TARGETS"})),
    ("DaemonSet", frozenset({"DESIRED", "NODE SELECTOR"})),
    ("Deployment", frozenset({"UP-TO-DATE", "AVAILABLE"})),
    ("ReplicaSet", frozenset({"DESIRED", "CURRENT"})),
    ("Pod", frozenset({"STATUS", "RESTARTS"})),
    ("StatefulSet", frozenset({"READY", "AGE"})),
)
# A lineage tree: '└── ReplicaSet/front-end-6bc5876d74'.
_TREE = re.compile(r"^[\s│├└─`|\\-]*")
# '27 (43s ago)': restarts, and how long since the last one.
_RESTARTS = re.compile(r"^(?P<n>\d+)(?:\s*\((?P<ago>[^)]*)\))?$")
_TOP_COLUMNS = ("CPU(cores)", "MEMORY(bytes)")


def is_top_table(columns: list[str]) -> bool:
    return all(c in columns for c in _TOP_COLUMNS)


def _kind_and_name(name: str, table_kind: str | None) -> tuple[str, str]:
    name = _TREE.sub("", name).strip()
    if "/" in name:
        prefix, _, rest = name.partition("/")
        base = prefix.split(".", 1)[0].lower()  # 'deployment.apps' -> 'deployment'
        return _KIND_NAMES.get(base, prefix), rest
    return table_kind or "Object", name


def table_kind(columns: list[str], hint: str | None = None) -> str | None:
    if is_top_table(columns):
        return hint or ("Node" if "CPU%" in columns else "Pod")
    upper = set(columns)
    for kind, needed in _COLUMN_KINDS:
        if needed <= upper:
            return kind
    return None


def _status(kind: str, row: Row) -> str | None:
    status = row.get("STATUS")
    if status is None and kind == "Job":
        return row.get("COMPLETIONS")
    return status


def object_from_row(row: Row, kind_of_table: str | None) -> KubeObject | None:
    raw_name = row.get("NAME")
    if not raw_name:
        return None
    kind, name = _kind_and_name(raw_name, kind_of_table)
    restarts_text = row.get("RESTARTS")
    restarts = None
    ago = None
    if restarts_text:
        match = _RESTARTS.match(restarts_text)
        if match:
            restarts, ago = int(match.group("n")), match.group("ago")
    status = _status(kind, row)
    obj = KubeObject(
        kind=kind,
        name=name,
        namespace=row.get("NAMESPACE"),
        status=status,
        ready=row.get("READY"),
        restarts=restarts,
        workload=workload_of(kind, name),
        line=row.line,
        node=row.get("NODE") if kind == "Pod" else None,
        evidence=[row.text],
    )
    if ago:
        obj.details["last_restart"] = ago
    if status and kind == "Pod" and status not in ("Running", "Completed", "Succeeded"):
        obj.reasons.append(status.removeprefix("Init:"))
    images = row.get("IMAGES")
    if images:
        obj.images = images.split(",")
    for column, key in (("CPU(cores)", "cpu"), ("MEMORY(bytes)", "memory")):
        value = row.get(column)
        if value:
            obj.usage[key] = value
    for column, key in (("CPU%", "cpu%"), ("MEMORY%", "memory%")):
        value = row.get(column)
        if value:
            obj.usage[key] = value
    for column, key in (("STORAGECLASS", "storage_class"), ("CLASS", "ingress_class")):
        value = row.cells.get(column)
        if value is not None:
            obj.details[key] = value or "<none>"
    if kind == hpa.KIND:
        hpa.from_row(row, obj)
    return obj


def _lineage_event(row: Row) -> KubeEvent | None:
    """kube-lineage prints events as 'Event/<obj>.<id>' rows: 'Reason: message' in STATUS."""
    name = _TREE.sub("", row.cells.get("NAME", ""))
    status = row.cells.get("STATUS", "")
    if not name.startswith("Event/") or ":" not in status:
        return None
    reason, _, message = status.partition(":")
    about = name.removeprefix("Event/").rsplit(".", 1)[0]
    cells = {"REASON": reason.strip(), "MESSAGE": message.strip(), "OBJECT": about}
    return event_from_row(Row(cells, row.line, row.text))


def _total(values: list[str], unit: str, scale: float) -> str | None:
    """'250m' + '3m' -> '253m'; '180Mi' + '40Mi' -> '220Mi' (None when one is unreadable)."""
    amounts = [hpa.quantity(v) for v in values]
    if not amounts or any(a is None for a in amounts):
        return None
    return f"{round(sum(a for a in amounts if a is not None) / scale)}{unit}"


def top_containers(table: Table) -> list[KubeObject]:
    """`kubectl top pod --containers`: POD, NAME (the container), CPU, MEMORY -> one Pod per
    pod with its total usage, each container's usage in details['container_usage']."""
    pods: dict[tuple[str | None, str], list[Row]] = {}
    for row in table.rows:
        pod = row.get("POD")
        if pod:
            pods.setdefault((row.get("NAMESPACE"), pod), []).append(row)
    objects = []
    for (namespace, pod), rows in pods.items():
        obj = KubeObject(
            kind="Pod",
            name=pod,
            namespace=namespace,
            workload=workload_of("Pod", pod),
            line=rows[0].line,
            evidence=[row.text for row in rows],
        )
        cpu = _total([r.get("CPU(cores)") or "" for r in rows], "m", 1e-3)
        memory = _total([r.get("MEMORY(bytes)") or "" for r in rows], "Mi", 2.0**20)
        obj.usage.update({k: v for k, v in (("cpu", cpu), ("memory", memory)) if v})
        obj.details["container_usage"] = "; ".join(
            f"{r.get('NAME')}: cpu {r.get('CPU(cores)')}, memory {r.get('MEMORY(bytes)')}"
            for r in rows
        )
        objects.append(obj)
    return objects


def read_listing(
    tables: list[Table], hint: str | None = None
) -> tuple[list[KubeObject], list[KubeEvent]]:
    objects: list[KubeObject] = []
    events: list[KubeEvent] = []
    for table in tables:
        if is_top_table(table.columns) and "POD" in table.columns:
            objects += top_containers(table)
            continue
        kind = table_kind(table.columns, hint)
        for row in table.rows:
            event = _lineage_event(row)
            if event is not None:
                events.append(event)
                continue
            obj = object_from_row(row, kind)
            if obj is not None:
                objects.append(obj)
    return objects, events
