"""`kubectl get -o yaml` / `-o json` of live objects and of Lists -> KubeObject and KubeEvent.

Only what the API server writes is read as state: `status` (phase, conditions,
containerStatuses with state / lastState, restartCount) and metadata.ownerReferences.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import yaml

from engine.evidence.bounded import check_nesting, load_json
from engine.evidence.kubernetes import hpa
from engine.evidence.kubernetes.report import KubeEvent, KubeObject
from engine.evidence.kubernetes.workload import workload_of
from engine.evidence.timestamps import parse_timestamp_value

_MAX_DOCUMENTS = 1000
# '2025-08-2312:02:32Z': a date and a time run together (seen in real pasted output).
_RUN_TOGETHER = re.compile(r"^(\d{4}-\d{2}-\d{2})(\d{2}:\d{2}:\d{2})")
_TIME_KEYS = frozenset(
    {
        "creationTimestamp",
        "startTime",
        "startedAt",
        "finishedAt",
        "lastTransitionTime",
        "lastTimestamp",
        "firstTimestamp",
        "eventTime",
        "lastProbeTime",
        "lastHeartbeatTime",
    }
)


def load_documents(text: str, as_json: bool) -> list[Any]:
    """The documents of the file; ValueError (yaml.YAMLError, TooComplex) when it does not
    parse."""
    check_nesting(text)
    if as_json:
        return [load_json(text)]
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except RecursionError:
        raise ValueError("nested too deeply to read") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"YAML error{where}: {exc.problem or 'invalid YAML'}") from None
    except yaml.YAMLError as exc:
        raise ValueError(
            f"YAML error: {str(exc).splitlines()[0] if str(exc) else 'invalid'}"
        ) from None
    return docs[:_MAX_DOCUMENTS]


def items_of(documents: list[Any]) -> list[dict[str, Any]]:
    """Every object, Lists unpacked ('kind: List', 'PodList', …, anything with `items`)."""
    found: list[dict[str, Any]] = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        items = doc.get("items")
        if isinstance(items, list):
            found += [item for item in items if isinstance(item, dict)]
        elif "kind" in doc:
            found.append(doc)
    return found


def to_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return parse_timestamp_value(value.isoformat())
    if isinstance(value, str):
        return parse_timestamp_value(_RUN_TOGETHER.sub(r"\1T\2", value))
    return None


def times_in(value: object) -> list[datetime]:
    """Absolute times written under the known time keys, anywhere in an object."""
    found: list[datetime] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if key in _TIME_KEYS:
                    ts = to_time(inner)
                    if ts is not None:
                        found.append(ts)
                elif isinstance(inner, dict | list):
                    stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _owner(meta: dict[str, Any]) -> str | None:
    refs = [_dict(r) for r in _list(meta.get("ownerReferences"))]
    controller = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    if controller and controller.get("kind") and controller.get("name"):
        return f"{controller['kind']}/{controller['name']}"
    return None


def _containers(obj: KubeObject, spec: dict[str, Any]) -> None:
    for container in [*_list(spec.get("initContainers")), *_list(spec.get("containers"))]:
        container = _dict(container)
        image = container.get("image")
        if isinstance(image, str) and image not in obj.images:
            obj.images.append(image)
        limits = _dict(_dict(container.get("resources")).get("limits"))
        for resource, amount in limits.items():
            obj.limits.setdefault(str(resource), str(amount))
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            if isinstance(container.get(probe), dict):
                obj.probes.append(f"{probe.removesuffix('Probe')} {_probe(container[probe])}")


def _probe(probe: dict[str, Any]) -> str:
    for way in ("httpGet", "tcpSocket", "grpc", "exec"):
        detail = _dict(probe.get(way))
        if detail:
            if way == "exec":
                return "exec " + " ".join(map(str, _list(detail.get("command"))))
            where = f"{detail.get('path', '')}" if way == "httpGet" else ""
            return f"{way} port {detail.get('port')}{' ' + where if where else ''}"
    return "probe"


def _state_reason(state: dict[str, Any]) -> tuple[str | None, str | None, int | None, str | None]:
    """(state, reason, exit code, message) of a containerStatus state."""
    for name in ("waiting", "terminated", "running"):
        detail = state.get(name)
        if isinstance(detail, dict):
            code = detail.get("exitCode")
            message = detail.get("message")
            return (
                name.capitalize(),
                detail.get("reason"),
                code if isinstance(code, int) else None,
                message if isinstance(message, str) else None,
            )
    return None, None, None, None


def _pod_status(obj: KubeObject, status: dict[str, Any]) -> None:
    statuses = [_dict(s) for s in _list(status.get("containerStatuses"))]
    inits = [_dict(s) for s in _list(status.get("initContainerStatuses"))]
    obj.ready = f"{sum(1 for s in statuses if s.get('ready') is True)}/{len(statuses)}"
    obj.restarts = sum(
        s.get("restartCount", 0)
        for s in [*inits, *statuses]
        if isinstance(s.get("restartCount"), int)
    )
    shown: str | None = None
    for init, entry in [(True, s) for s in inits] + [(False, s) for s in statuses]:
        _, reason, code, message = _state_reason(_dict(entry.get("state")))
        _, last_reason, last_code, _ = _state_reason(_dict(entry.get("lastState")))
        for found in (reason, last_reason):
            if found and found not in obj.reasons:
                obj.reasons.append(found)
        obj.exit_codes += [c for c in (code, last_code) if c is not None]
        if message:
            obj.details.setdefault("message", message)
        if reason and shown is None and not (init and reason == "Completed"):
            shown = f"Init:{reason}" if init else reason
    pod_reason = status.get("reason")
    if isinstance(pod_reason, str):
        obj.reasons.insert(0, pod_reason)
        if isinstance(status.get("message"), str):
            obj.details["message"] = status["message"]
    phase = status.get("phase")
    obj.status = (
        pod_reason
        if isinstance(pod_reason, str)
        else shown or (phase if isinstance(phase, str) else None)
    )


def _workload_status(obj: KubeObject, status: dict[str, Any], spec: dict[str, Any]) -> None:
    desired = spec.get("replicas", status.get("replicas"))
    if obj.kind == "DaemonSet":
        desired = status.get("desiredNumberScheduled")
    ready = status.get("readyReplicas", status.get("numberReady", 0))
    if isinstance(desired, int) and isinstance(ready, int):
        obj.ready = f"{ready}/{desired}"
    if obj.kind == "Job":
        failed, succeeded = status.get("failed"), status.get("succeeded")
        obj.details["pods_statuses"] = (
            f"{status.get('active', 0)} Active / {succeeded or 0} Succeeded / {failed or 0} Failed"
        )
    if obj.kind == "PersistentVolumeClaim":
        obj.status = status.get("phase") if isinstance(status.get("phase"), str) else None
        obj.details["storage_class"] = str(spec.get("storageClassName") or "<none>")


def _conditions(obj: KubeObject, status: dict[str, Any]) -> None:
    for condition in _list(status.get("conditions")):
        condition = _dict(condition)
        kind, value = condition.get("type"), condition.get("status")
        if isinstance(kind, str) and isinstance(value, str):
            obj.conditions[kind] = value
            for key in ("reason", "message"):
                if isinstance(condition.get(key), str):
                    obj.details[f"condition_{key}.{kind}"] = condition[key]
    if obj.kind == "Node":
        ready = obj.conditions.get("Ready")
        obj.status = None if ready is None else ("Ready" if ready == "True" else "NotReady")


def object_from(item: dict[str, Any]) -> KubeObject | None:
    kind, meta = item.get("kind"), _dict(item.get("metadata"))
    name = meta.get("name")
    if not isinstance(kind, str) or not isinstance(name, str) or kind == "Event":
        return None
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else None
    owner = _owner(meta)
    obj = KubeObject(
        kind=kind,
        name=name,
        namespace=namespace,
        owner=owner,
        workload=workload_of(kind, name, owner),
    )
    spec, status = _dict(item.get("spec")), _dict(item.get("status"))
    template = _dict(_dict(spec.get("template")).get("spec")) or _dict(
        _dict(_dict(_dict(spec.get("jobTemplate")).get("spec")).get("template")).get("spec")
    )
    _containers(obj, spec if kind == "Pod" else template)
    _conditions(obj, status)
    if kind == "Pod":
        _pod_status(obj, status)
        node = spec.get("nodeName")
        obj.node = node if isinstance(node, str) else None
    else:
        _workload_status(obj, status, spec)
    if kind == "Ingress":
        obj.details["ingress_class"] = str(spec.get("ingressClassName") or "<none>")
    if kind == hpa.KIND:
        hpa.from_yaml(spec, status, obj)
    return obj


def event_from(item: dict[str, Any]) -> KubeEvent | None:
    """An Event object (core/v1 or events.k8s.io/v1)."""
    if item.get("kind") != "Event":
        return None
    involved = _dict(item.get("involvedObject") or item.get("regarding"))
    about = None
    if involved.get("kind") and involved.get("name"):
        about = f"{str(involved['kind']).lower()}/{involved['name']}"
    reason = item.get("reason")
    if not isinstance(reason, str):
        return None
    count = (
        item.get("count") or _dict(item.get("series")).get("count") or item.get("deprecatedCount")
    )
    when = item.get("lastTimestamp") or item.get("eventTime") or item.get("deprecatedLastTimestamp")
    source = _dict(item.get("source")).get("component") or item.get("reportingController")
    return KubeEvent(
        type=item.get("type") if isinstance(item.get("type"), str) else None,
        reason=reason,
        object=about,
        message=str(item.get("message") or item.get("note") or "").strip(),
        count=count if isinstance(count, int) else None,
        source=source if isinstance(source, str) else None,
        ts=to_time(when),
    )
