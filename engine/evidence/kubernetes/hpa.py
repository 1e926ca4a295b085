"""HorizontalPodAutoscaler state from `kubectl describe hpa`, `kubectl get hpa` and `-o yaml`.

What an HPA is doing is told by its metrics (current against target), its replica bounds and
three conditions: AbleToScale, ScalingActive (False with FailedGetResourceMetric when it
cannot read its metrics) and ScalingLimited (True with TooManyReplicas at its maximum). They
go in `KubeObject.details` (the conditions in `conditions` as for every kind):
'scale_target' ('Deployment/checkout'), 'min_replicas', 'max_replicas', 'replicas',
'desired_replicas', and one 'metric.<name>' per metric holding 'current/target' ('9%/60%',
'<unknown>/60%'). The HPA's component is its target's workload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.evidence.kubernetes.report import KubeObject
from engine.evidence.kubernetes.tables import Row
from engine.evidence.kubernetes.workload import workload_of

KIND = "HorizontalPodAutoscaler"
UNKNOWN = "<unknown>"
# describe: '  resource cpu on pods  (as a percentage of request):  9% (4m) / 60%'
_DESCRIBED_METRIC = re.compile(
    r"^\s+(?P<what>\S.*?):\s+(?P<current>\S+(?: \([^)]*\))?) / (?P<target>\S+)\s*$"
)
# get: 'cpu: 9%/60%', '9%/60%', '<unknown>/60%'
_LISTED_METRIC = re.compile(r"^(?:(?P<name>[\w./-]+): )?(?P<current>[^/\s]+)/(?P<target>[^/\s,]+)$")
_TARGET_PODS = re.compile(r"(?P<current>\d+) current / (?P<desired>\d+) desired")
_QUANTITY = re.compile(r"^(?P<number>-?\d+(?:\.\d+)?)(?P<unit>%|m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_UNITS = {
    None: 1.0,
    "%": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


@dataclass(frozen=True)
class Metric:
    name: str  # 'cpu', 'memory', 'requests-per-second'; '' when kubectl did not print it
    current: str | None  # '9%', '250m'; None while the HPA cannot read it
    target: str  # '60%', '500m'


def quantity(text: str | None) -> float | None:
    """'9%' -> 9.0, '250m' -> 0.25, '1Gi' -> 1073741824.0; None for anything else."""
    match = _QUANTITY.match((text or "").strip())
    if match is None:
        return None
    return float(match["number"]) * _UNITS[match["unit"]]


def above(metric: Metric) -> bool | None:
    """Whether the current value is over the target; None when either is unknown."""
    current, target = quantity(metric.current), quantity(metric.target)
    if current is None or target is None:
        return None
    return current > target


def metrics_of(obj: KubeObject) -> list[Metric]:
    found = []
    for key, value in obj.details.items():
        if key.startswith("metric."):
            current, _, target = value.partition("/")
            name = key.removeprefix("metric.")
            found.append(Metric(name, None if current == UNKNOWN else current, target))
    return found


def _add_metric(obj: KubeObject, metric: Metric, number: int) -> None:
    name = metric.name or f"#{number}"
    obj.details[f"metric.{name}"] = f"{metric.current or UNKNOWN}/{metric.target}"


def _target(obj: KubeObject, reference: str | None) -> None:
    if not reference or "/" not in reference:
        return
    obj.details["scale_target"] = reference
    kind, _, name = reference.partition("/")
    obj.workload = workload_of(kind, name)


def _metric_name(what: str) -> str:
    """'resource cpu on pods  (as a percentage of request)' -> 'cpu';
    '"packets-per-second" on pods' -> 'packets-per-second'; 'external metric queue(nil)' ->
    'queue'."""
    quoted = re.search(r'"([^"]+)"', what)
    if quoted and not what.startswith("resource "):
        return quoted.group(1)
    resource = re.match(r"resource (\S+)", what)
    if resource:
        return resource.group(1)
    external = re.match(r"external metric ([\w.:/-]+)", what)
    if external:
        return external.group(1)
    return what.split()[0] if what.split() else ""


def from_describe(fields: dict[str, str], lines: list[str], obj: KubeObject) -> None:
    """The HPA fields of one describe block (`fields`: top-level field -> value)."""
    _target(obj, fields.get("Reference"))
    for key, detail in (("Min replicas", "min_replicas"), ("Max replicas", "max_replicas")):
        value = fields.get(key, "").strip()
        if value.isdigit():
            obj.details[detail] = value
    for key, value in fields.items():
        pods = _TARGET_PODS.search(value) if key.endswith(" pods") else None
        if pods:
            obj.details["replicas"] = pods["current"]
            obj.details["desired_replicas"] = pods["desired"]
            obj.evidence.append(f"{key}: {value}")
    for raw in lines:  # describe keeps the conditions that are not True; at its maximum,
        text = raw.strip()  # ScalingLimited True says it
        if text.startswith("ScalingLimited") and " True " in text:
            obj.evidence.append(text)
    inside = False
    for raw in lines:
        if raw.startswith("Metrics:"):
            inside = True
            continue
        if inside and raw.strip() and not raw.startswith((" ", "\t")):
            break
        metric = _DESCRIBED_METRIC.match(raw) if inside else None
        if metric is None:
            continue
        current = metric["current"].split(" ", 1)[0]
        found = Metric(
            _metric_name(metric["what"]),
            None if current == UNKNOWN else current,
            metric["target"],
        )
        _add_metric(obj, found, len(metrics_of(obj)) + 1)
        obj.evidence.append(raw.strip())


def from_row(row: Row, obj: KubeObject) -> None:
    """A `kubectl get hpa` row: REFERENCE, TARGETS, MINPODS, MAXPODS, REPLICAS."""
    _target(obj, row.get("REFERENCE"))
    for column, detail in (
        ("MINPODS", "min_replicas"),
        ("MAXPODS", "max_replicas"),
        ("REPLICAS", "replicas"),
    ):
        value = row.get(column)
        if value and value.isdigit():
            obj.details[detail] = value
    targets = row.cells.get("TARGETS", "")
    for number, part in enumerate(re.split(r",\s*", targets.split(" + ", 1)[0]), start=1):
        match = _LISTED_METRIC.match(part.strip())
        if match:
            current = match["current"]
            found = Metric(
                match["name"] or "", None if current == UNKNOWN else current, match["target"]
            )
            _add_metric(obj, found, number)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entry(entry: dict[str, Any], field: str) -> tuple[str, str] | None:
    """(name, value) of one autoscaling/v2 metric: `field` 'target' in spec.metrics,
    'current' in status.currentMetrics. The body is under the type's own key (Resource ->
    'resource', ContainerResource -> 'containerResource', Pods, Object, External)."""
    kind = str(entry.get("type") or "")
    body = _dict(entry.get(kind[:1].lower() + kind[1:])) if kind else {}
    name = body.get("name") or _dict(body.get("metric")).get("name")
    value = _dict(body.get(field))
    if "averageUtilization" in value:
        amount = f"{value['averageUtilization']}%"
    else:
        amount = str(value.get("averageValue", value.get("value", "")))
    return (str(name), amount) if name and amount else None


def from_yaml(spec: dict[str, Any], status: dict[str, Any], obj: KubeObject) -> None:
    """spec (scaleTargetRef, min/maxReplicas, metrics) and status (currentMetrics,
    current/desiredReplicas) of autoscaling/v2, and v1's targetCPUUtilizationPercentage."""
    ref = _dict(spec.get("scaleTargetRef"))
    if ref.get("kind") and ref.get("name"):
        _target(obj, f"{ref['kind']}/{ref['name']}")
    for key, detail in (
        ("minReplicas", "min_replicas"),
        ("maxReplicas", "max_replicas"),
    ):
        if isinstance(spec.get(key), int):
            obj.details[detail] = str(spec[key])
    for key, detail in (("currentReplicas", "replicas"), ("desiredReplicas", "desired_replicas")):
        if isinstance(status.get(key), int):
            obj.details[detail] = str(status[key])
    if "min_replicas" not in obj.details and obj.details.get("max_replicas"):
        obj.details["min_replicas"] = "1"  # the API's default
    targets = [
        t for e in spec.get("metrics") or [] if isinstance(e, dict) and (t := _entry(e, "target"))
    ]
    currents = dict(
        c
        for e in status.get("currentMetrics") or []
        if isinstance(e, dict) and (c := _entry(e, "current"))
    )
    v1_target = spec.get("targetCPUUtilizationPercentage")
    if isinstance(v1_target, int):
        targets.append(("cpu", f"{v1_target}%"))
        v1_current = status.get("currentCPUUtilizationPercentage")
        if isinstance(v1_current, int):
            currents["cpu"] = f"{v1_current}%"
    for number, (name, target) in enumerate(targets, start=1):
        _add_metric(obj, Metric(name, currents.get(name), target), number)
