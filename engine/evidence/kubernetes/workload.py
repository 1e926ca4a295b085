"""The component an object belongs to: a pod is its Deployment's, StatefulSet's, DaemonSet's or
Job's; other objects are their own. Names go through components.canonical() so that the same
service matches in logs, traces and metrics."""

from __future__ import annotations

import re

from engine.evidence.components import canonical, replica_base, replicaset_of

# A ReplicaSet's name is its Deployment's plus the pod-template hash.
_RS_HASH = re.compile(r"^(?P<base>.+)-(?=[a-z0-9]*\d)[a-z0-9]{6,10}$")
# A CronJob's Job is '<cronjob>-<minutes since epoch>'.
_CRONJOB_RUN = re.compile(r"^(?P<base>.+)-\d{8,}$")
_POD_KINDS = frozenset({"pod"})


def _from_owner(owner: str) -> str | None:
    kind, _, name = owner.partition("/")
    kind = kind.lower()
    if kind == "replicaset":
        match = _RS_HASH.match(name)
        return match.group("base") if match else name
    if kind == "job":
        match = _CRONJOB_RUN.match(name)
        return match.group("base") if match else name
    if kind in ("statefulset", "daemonset", "deployment", "cronjob"):
        return name
    return None  # a Node owns static pods; their own name says more


def workload_of(kind: str, name: str, owner: str | None = None) -> str:
    """'Pod', 'checkout-7d9f8c6b5-x2k4p' -> 'checkout'; 'ReplicaSet', 'checkout-7d9f8c6b5' ->
    'checkout'; 'Deployment', 'checkout' -> 'checkout'."""
    kind = kind.lower()
    if owner:
        base = _from_owner(owner)
        if base:
            return canonical(base)
    if kind == "replicaset":
        return canonical(_from_owner(f"ReplicaSet/{name}") or name)
    if kind == "job":
        return canonical(_from_owner(f"Job/{name}") or name)
    if kind in _POD_KINDS:
        rs = replicaset_of(name)
        if rs:
            return canonical(_from_owner(f"ReplicaSet/{rs}") or rs)
        ordinal = replica_base(name)  # a StatefulSet replica: 'kafka-1'
        if ordinal:
            return canonical(ordinal)
    return canonical(name)
