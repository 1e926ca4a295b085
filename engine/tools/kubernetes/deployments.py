"""`k8s_deployments` and `k8s_rollout_history`: what is deployed, whether it rolled out, and
what changed between revisions.

A deployment is in trouble when fewer replicas are ready, updated or available than it
wants, when a condition is false (Progressing=False ProgressDeadlineExceeded: the rollout
gave up) or ReplicaFailure is true (a quota refused its pods), or when it is paused. The
history lists its ReplicaSets by revision with their images and change-cause, the current
one marked: a bad deploy reads as "revision 3, image 1.4.2, 0/2 ready, current".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kubernetes import client as k8s
from pydantic import BaseModel, Field

from engine.tools.base import ToolAnswer, ToolError
from engine.tools.kubernetes.cluster import NAMESPACE_PATTERN, OBJECT_NAME_PATTERN, Clusters
from engine.tools.kubernetes.text import age, counted, field, items, meta, one_line

MAX_DEPLOYMENTS = 40
MAX_REVISIONS = 15
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


def _images(obj: dict[str, Any]) -> str:
    containers = field(obj, "spec", "template", "spec", "containers") or []
    found = [str(c.get("image")) for c in containers if isinstance(c, dict) and c.get("image")]
    return ", ".join(found) or "?"


def _revision(obj: dict[str, Any]) -> int | None:
    value = (meta(obj).get("annotations") or {}).get(REVISION)
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _bad_conditions(deployment: dict[str, Any]) -> list[str]:
    said = []
    for condition in field(deployment, "status", "conditions") or []:
        if not isinstance(condition, dict):
            continue
        kind, status = condition.get("type"), condition.get("status")
        failing = (kind == "ReplicaFailure" and status == "True") or (
            kind in ("Available", "Progressing") and status != "True"
        )
        if failing:
            text = f"{kind}={status} {condition.get('reason') or ''}".rstrip()
            if condition.get("message"):
                text += f": {one_line(condition['message'], 200)}"
            said.append(text)
    return said


@dataclass
class DeploymentState:
    name: str
    desired: int
    ready: int
    updated: int
    available: int
    revision: int | None
    images: str
    conditions: list[str]
    paused: bool
    age: str

    @property
    def problem(self) -> bool:
        return (
            min(self.ready, self.updated, self.available) < self.desired
            or bool(self.conditions)
            or self.paused
        )

    def line(self) -> str:
        text = (
            f"{self.name}: ready {self.ready}/{self.desired}, updated {self.updated}, "
            f"available {self.available}"
        )
        if self.paused:
            text += ", rollout paused"
        if self.revision is not None:
            text += f"; revision {self.revision}"
        text += f"; image {self.images}; age {self.age}"
        if self.conditions:
            text += "; " + "; ".join(self.conditions)
        return text


def deployment_state(deployment: dict[str, Any]) -> DeploymentState:
    status = deployment.get("status") if isinstance(deployment.get("status"), dict) else {}
    desired = field(deployment, "spec", "replicas")
    return DeploymentState(
        name=str(meta(deployment).get("name") or "?"),
        desired=int(1 if desired is None else desired),
        ready=int((status or {}).get("readyReplicas") or 0),
        updated=int((status or {}).get("updatedReplicas") or 0),
        available=int((status or {}).get("availableReplicas") or 0),
        revision=_revision(deployment),
        images=_images(deployment),
        conditions=_bad_conditions(deployment),
        paused=bool(field(deployment, "spec", "paused")),
        age=age(meta(deployment).get("creationTimestamp")),
    )


def deployments_text(namespace: str, deployments: list[dict[str, Any]]) -> str:
    if not deployments:
        return f"no deployments in namespace {namespace}"
    states = [deployment_state(d) for d in deployments]
    ordered = sorted(states, key=lambda s: (not s.problem, s.name))
    problems = sum(1 for s in states if s.problem)
    lines = [
        f"{counted(len(states), 'deployment')} in namespace {namespace}; {problems} with problems"
    ]
    lines += [f"- {s.line()}" for s in ordered[:MAX_DEPLOYMENTS]]
    if len(ordered) > MAX_DEPLOYMENTS:
        lines.append(f"… and {len(ordered) - MAX_DEPLOYMENTS} more")
    return "\n".join(lines)


def _owned_by(replica_set: dict[str, Any], deployment: dict[str, Any]) -> bool:
    uid = meta(deployment).get("uid")
    for owner in meta(replica_set).get("ownerReferences") or []:
        if not isinstance(owner, dict) or owner.get("kind") != "Deployment":
            continue
        if uid and owner.get("uid"):
            if owner["uid"] == uid:
                return True
        elif owner.get("name") == meta(deployment).get("name"):
            return True
    return False


def history_text(
    namespace: str, deployment: dict[str, Any], replica_sets: list[dict[str, Any]]
) -> str:
    state = deployment_state(deployment)
    owned = [rs for rs in replica_sets if _owned_by(rs, deployment)]
    owned.sort(key=lambda rs: _revision(rs) or 0, reverse=True)
    current = (
        state.revision if state.revision is not None else _revision(owned[0]) if owned else None
    )
    lines = [
        f"deployment {state.name} in namespace {namespace}: "
        f"{counted(len(owned), 'revision')} kept"
        + (f"; current revision {current}" if current is not None else ""),
        f"now: {state.line()}",
    ]
    for rs in owned[:MAX_REVISIONS]:
        revision = _revision(rs)
        mark = " ← current" if revision is not None and revision == current else ""
        ready = int(field(rs, "status", "readyReplicas") or 0)
        wanted = int(field(rs, "spec", "replicas") or 0)
        cause = (meta(rs).get("annotations") or {}).get(CHANGE_CAUSE)
        line = (
            f"- revision {revision if revision is not None else '?'}{mark}: "
            f"{meta(rs).get('name')}, {ready}/{wanted} ready, image {_images(rs)}"
        )
        if cause:
            line += f', change-cause "{one_line(cause, 200)}"'
        lines.append(line + f", age {age(meta(rs).get('creationTimestamp'))}")
    if not owned:
        lines.append("no ReplicaSets of it are left (revisionHistoryLimit may be 0)")
    elif len(owned) > MAX_REVISIONS:
        lines.append(f"… and {len(owned) - MAX_REVISIONS} older revisions")
    return "\n".join(lines)


class DeploymentsParameters(BaseModel):
    source: str | None = Field(default=None, description="kubernetes source; the only one if unset")
    namespace: str | None = Field(
        default=None, pattern=NAMESPACE_PATTERN, description="the source's default if unset"
    )
    name: str | None = Field(
        default=None, pattern=OBJECT_NAME_PATTERN, description="one deployment only"
    )


class K8sDeployments:
    name: ClassVar[str] = "k8s_deployments"
    description: ClassVar[str] = (
        "Kubernetes deployments of a namespace, those in trouble first: desired, ready, "
        "updated and available replicas, failing conditions (ProgressDeadlineExceeded, "
        "ReplicaFailure), revision and image."
    )
    parameters: ClassVar[type[BaseModel]] = DeploymentsParameters

    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    async def answer(self, arguments: DeploymentsParameters) -> ToolAnswer:
        cluster = self.clusters.pick(arguments.source)
        namespace = cluster.namespace(arguments.namespace)
        selector = f"metadata.name={arguments.name}" if arguments.name else None

        def call(api: k8s.ApiClient, timeout: float) -> Any:
            return k8s.AppsV1Api(api).list_namespaced_deployment(
                namespace,
                field_selector=selector,
                _preload_content=False,
                _request_timeout=timeout,
            )

        listing = await cluster.get_json(call, f"listing deployments in namespace {namespace}")
        found = items(listing)
        if arguments.name and not found:
            raise ToolError(f"no deployment {arguments.name!r} in namespace {namespace}")
        kubectl = ["get", "deployments", "-o", "wide"]
        if arguments.name:
            kubectl.insert(2, arguments.name)
        return ToolAnswer(
            text=deployments_text(namespace, found), query=cluster.kubectl(namespace, *kubectl)
        )


class RolloutHistoryParameters(BaseModel):
    source: str | None = Field(default=None, description="kubernetes source; the only one if unset")
    namespace: str | None = Field(
        default=None, pattern=NAMESPACE_PATTERN, description="the source's default if unset"
    )
    deployment: str = Field(pattern=OBJECT_NAME_PATTERN, description="the deployment's name")


class K8sRolloutHistory:
    name: ClassVar[str] = "k8s_rollout_history"
    description: ClassVar[str] = (
        "A Kubernetes deployment's rollout history: its ReplicaSets by revision with their "
        "images, change-cause and ready replicas, the current revision marked."
    )
    parameters: ClassVar[type[BaseModel]] = RolloutHistoryParameters

    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    async def answer(self, arguments: RolloutHistoryParameters) -> ToolAnswer:
        cluster = self.clusters.pick(arguments.source)
        namespace = cluster.namespace(arguments.namespace)
        name = arguments.deployment

        def read(api: k8s.ApiClient, timeout: float) -> Any:
            return k8s.AppsV1Api(api).read_namespaced_deployment(
                name, namespace, _preload_content=False, _request_timeout=timeout
            )

        deployment = await cluster.get_json(read, f"deployment {name} in namespace {namespace}")
        labels = field(deployment, "spec", "selector", "matchLabels") or {}
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items())) or None

        def list_sets(api: k8s.ApiClient, timeout: float) -> Any:
            return k8s.AppsV1Api(api).list_namespaced_replica_set(
                namespace,
                label_selector=selector,
                _preload_content=False,
                _request_timeout=timeout,
            )

        listing = await cluster.get_json(list_sets, f"listing replicasets in namespace {namespace}")
        return ToolAnswer(
            text=history_text(namespace, deployment, items(listing)),
            query=cluster.kubectl(namespace, "rollout", "history", f"deployment/{name}"),
        )
