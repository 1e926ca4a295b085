"""Kubernetes manifests: per-object checks that span the file.

Workloads (containers are judged in configs_k8s_pods), replicas unless an autoscaler in the
file owns them, whether each Service selects a pod template in the same file and targets a
port a container declares, autoscaler ranges, Secret keys (never values), ConfigMap data and
annotations (ingress timeouts live there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.evidence.configs.generic import generic_notables, setting_notable
from engine.evidence.configs.k8s_pods import (
    as_dict,
    dicts,
    env_notables,
    get_in,
    image_notable,
    k8s_notable,
    ports_notable,
    probe_notables,
    resources_notable,
)
from engine.evidence.configs.report import Notable
from engine.evidence.configs.secrets import Masker
from engine.evidence.configs.walk import Document, item_segment, join_path, walk

# Where each workload keeps its pod spec.
POD_SPECS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),  # Argo Rollouts
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_SCALED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"})
_RUN_TO_COMPLETION = frozenset({"Job", "CronJob"})  # no probes expected
_AUTOSCALERS = frozenset({"HorizontalPodAutoscaler", "ScaledObject"})
_SHORT = {"HorizontalPodAutoscaler": "HPA"}


@dataclass(frozen=True)
class _Workload:
    ref: str
    namespace: str | None
    labels: dict[str, Any]
    ports: set[Any]  # container port numbers and names


def _replicas(doc: Document, autoscaled: set[str]) -> Notable | None:
    assert doc.obj is not None
    ref = doc.obj.ref
    replicas = get_in(doc.data, ("spec", "replicas"))
    if doc.obj.name in autoscaled:
        shown = None if replicas is None else str(replicas)
        return k8s_notable("spec.replicas", shown, "replicas (set by an autoscaler)", ref)
    if replicas is None:
        why = "replicas not set: defaults to 1"
        return k8s_notable("spec.replicas", None, why, ref, "replicas unset (1)")
    if isinstance(replicas, int) and replicas <= 1:
        why = "scaled to zero" if replicas == 0 else "single replica: no redundancy"
        return k8s_notable("spec.replicas", str(replicas), why, ref, f"replicas {replicas}")
    return k8s_notable("spec.replicas", str(replicas), "replicas", ref)


def _workload(doc: Document, masker: Masker, autoscaled: set[str]) -> list[Notable]:
    assert doc.obj is not None
    kind, obj = doc.obj.kind, doc.obj.ref
    base = POD_SPECS[kind]
    containers = dicts(get_in(doc.data, (*base, "containers")))
    paths = [
        join_path([*base, "containers", item_segment(containers, i)])
        for i in range(len(containers))
    ]
    names = [str(c.get("name", i)) for i, c in enumerate(containers)]
    out: list[Notable] = []
    for container, path, name in zip(containers, paths, names, strict=True):
        out += [n for n in (image_notable(container, path, obj, masker),) if n]
        out.append(resources_notable(container, path, obj, name))
    if kind in _SCALED and (replicas := _replicas(doc, autoscaled)):
        out.append(replicas)
    for container, path, name in zip(containers, paths, names, strict=True):
        if kind not in _RUN_TO_COMPLETION:
            out += probe_notables(container, path, obj, name, masker)
        out += env_notables(container, path, obj, masker)
        out += [n for n in (ports_notable(container, path, obj),) if n]
    inits = dicts(get_in(doc.data, (*base, "initContainers")))
    for i, container in enumerate(inits):
        path = join_path([*base, "initContainers", item_segment(inits, i)])
        out += [n for n in (image_notable(container, path, obj, masker),) if n]
    return out


def _workload_facts(doc: Document) -> _Workload:
    assert doc.obj is not None
    base = POD_SPECS[doc.obj.kind]
    labels = get_in(doc.data, (*base[:-1], "metadata", "labels"))
    ports: set[Any] = set()
    for container in dicts(get_in(doc.data, (*base, "containers"))):
        for port in dicts(container.get("ports")):
            ports.update(
                p for p in (port.get("containerPort"), port.get("name")) if isinstance(p, int | str)
            )
    return _Workload(
        doc.obj.ref, doc.obj.namespace, labels if isinstance(labels, dict) else {}, ports
    )


def _service(doc: Document, workloads: list[_Workload]) -> list[Notable]:
    assert doc.obj is not None
    obj, name = doc.obj.ref, doc.obj.name
    ports = dicts(get_in(doc.data, ("spec", "ports")))
    shown = ", ".join(
        (f"{p['name']} " if p.get("name") else "")
        + f"{p.get('port')}→{p.get('targetPort', p.get('port'))}"
        for p in ports
    )
    kind = get_in(doc.data, ("spec", "type")) or "ClusterIP"
    out = [
        k8s_notable("spec.ports", f"{shown} ({kind})" if shown else str(kind), "service ports", obj)
    ]
    selector = get_in(doc.data, ("spec", "selector"))
    local = [w for w in workloads if w.namespace == doc.obj.namespace]
    if not isinstance(selector, dict) or not selector or not local:
        return out
    wanted = ", ".join(f"{k}={v}" for k, v in selector.items())
    matched = [w for w in local if selector.items() <= w.labels.items()]
    if not matched:
        why = "selector matches no pod template in this file"
        return [
            *out,
            k8s_notable("spec.selector", wanted, why, obj, f"Service {name} selects no pods"),
        ]
    open_ports = set().union(*(w.ports for w in matched))
    for i, port in enumerate(ports):
        target = port.get("targetPort", port.get("port"))
        if open_ports and isinstance(target, int | str) and target not in open_ports:
            targets = ", ".join(w.ref for w in matched)
            why = f"no container of {targets} declares port {target}"
            brief = f"Service {name} targets port {target}, which no container declares"
            out.append(
                k8s_notable(
                    f"spec.ports{item_segment(ports, i)}.targetPort", str(target), why, obj, brief
                )
            )
    return out


def _autoscaler(doc: Document) -> Notable:
    assert doc.obj is not None
    kind = doc.obj.kind
    spec = as_dict(doc.data.get("spec"))
    target = as_dict(spec.get("scaleTargetRef"))
    low = spec.get("minReplicas", spec.get("minReplicaCount", 1))  # KEDA says ReplicaCount
    high = spec.get("maxReplicas", spec.get("maxReplicaCount"))
    shown = f"{target.get('kind', 'Deployment')}/{target.get('name', '?')} {low}–{high} replicas"
    if isinstance(low, int) and isinstance(high, int) and high <= low:
        why = "maxReplicas is not above minReplicas: it cannot scale"
        return k8s_notable(
            "spec", shown, why, doc.obj.ref, f"{_SHORT.get(kind, kind)} {doc.obj.name} cannot scale"
        )
    return k8s_notable("spec", shown, "autoscaler", doc.obj.ref)


def _secret(doc: Document, masker: Masker) -> Notable | None:
    assert doc.obj is not None
    keys = [
        str(k)
        for part in ("data", "stringData")
        if isinstance(d := doc.data.get(part), dict)
        for k in d
    ]
    if not keys:
        return None
    masker.counts["secret"] += len(keys)
    return k8s_notable("data", ", ".join(keys), "secret keys (values omitted)", doc.obj.ref)


def _config_map(doc: Document, masker: Masker) -> list[Notable]:
    assert doc.obj is not None
    out = generic_notables(
        doc.data.get("data"),
        masker,
        obj=doc.obj.ref,
        base=("data",),
        base_keys=("data",),
        flag_strings=True,
    )
    for notable in out:
        if notable.why == "secret (masked)":
            notable.why, notable.warn = "secret in a ConfigMap (masked): use a Secret", True
            notable.brief = f"secret in ConfigMap {doc.obj.name}"
    return out


def _annotations(doc: Document, masker: Masker) -> list[Notable]:
    """Ingress controllers take timeouts and body limits from annotations."""
    assert doc.obj is not None
    found = []
    annotations = get_in(doc.data, ("metadata", "annotations"))
    for leaf in walk(annotations, ("metadata", "annotations"), ("metadata", "annotations")):
        if leaf.keys[-1] == "kubectl.kubernetes.io/last-applied-configuration":
            continue
        notable = setting_notable(
            leaf.keys, leaf.value, leaf.path, masker, obj=doc.obj.ref, flag_strings=True
        )
        if notable is not None:
            found.append(notable)
    return found


def k8s_notables(docs: list[Document], masker: Masker) -> list[Notable]:
    objects = [doc for doc in docs if doc.obj is not None and isinstance(doc.data, dict)]
    autoscaled = {
        str(get_in(doc.data, ("spec", "scaleTargetRef", "name")))
        for doc in objects
        if doc.obj is not None and doc.obj.kind in _AUTOSCALERS
    }
    workloads = [_workload_facts(d) for d in objects if d.obj and d.obj.kind in POD_SPECS]
    out: list[Notable] = []
    for doc in objects:
        assert doc.obj is not None
        kind = doc.obj.kind
        if kind in POD_SPECS:
            out += _workload(doc, masker, autoscaled)
        elif kind == "Service":
            out += _service(doc, workloads)
        elif kind in _AUTOSCALERS:
            out.append(_autoscaler(doc))
        elif kind == "Secret":
            out += [n for n in (_secret(doc, masker),) if n]
        elif kind == "ConfigMap":
            out += _config_map(doc, masker)
        out += _annotations(doc, masker)
    return out
