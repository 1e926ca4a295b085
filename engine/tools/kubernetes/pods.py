"""`k8s_pods`: the pods of a namespace, those in trouble first.

Per pod what an SRE reads off `kubectl get pods -o wide` and the `Last State` of `kubectl
describe`: its status as kubectl words it (CrashLoopBackOff, ImagePullBackOff, Evicted,
Init:Error…), ready containers, restarts, the last termination's reason and exit code
(OOMKilled, code 137), the node, the age, and why a pending pod is not scheduled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kubernetes import client as k8s
from pydantic import BaseModel, Field

from engine.tools.base import ToolAnswer
from engine.tools.kubernetes.cluster import LABEL_SELECTOR_PATTERN, NAMESPACE_PATTERN, Clusters
from engine.tools.kubernetes.text import age, counted, field, items, meta, one_line

MAX_PROBLEMS = 40
MAX_HEALTHY = 20
_FINE = {"Running", "Succeeded", "Completed"}
# Waiting reasons whose message only repeats the reason.
_QUIET_WAITING = {"CrashLoopBackOff", "ContainerCreating", "PodInitializing"}


@dataclass
class PodState:
    name: str
    status: str
    ready: int
    containers: int
    restarts: int
    node: str
    age: str
    last_exit: str | None  # "OOMKilled, exit code 137 (app, 3m ago)"
    why: str | None  # a waiting container's or the scheduler's message
    problem: bool

    def line(self) -> str:
        parts = [f"{self.status}, {self.ready}/{self.containers} ready"]
        if self.restarts:
            parts.append(counted(self.restarts, "restart"))
        text = f"{self.name}: {', '.join(parts)}"
        if self.last_exit:
            text += f"; last exit {self.last_exit}"
        if self.why:
            text += f"; {self.why}"
        return text + f"; node {self.node}; age {self.age}"


def pod_state(pod: dict[str, Any]) -> PodState:
    status = pod.get("status")
    status = status if isinstance(status, dict) else {}
    spec_containers = field(pod, "spec", "containers") or []
    statuses = [s for s in status.get("containerStatuses") or [] if isinstance(s, dict)]
    init_statuses = [s for s in status.get("initContainerStatuses") or [] if isinstance(s, dict)]
    phase = str(status.get("phase") or "Unknown")
    shown, why = _status_word(pod, phase, statuses, init_statuses)
    ready = sum(1 for s in statuses if s.get("ready"))
    containers = max(len(spec_containers), len(statuses))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses + init_statuses)
    last_exit = _last_exit(statuses + init_statuses)
    if why is None and phase == "Pending":
        why = _unscheduled(status)
    problem = (
        shown not in _FINE
        or (phase == "Running" and ready < containers)
        or restarts > 0
        or last_exit is not None
    )
    return PodState(
        name=str(meta(pod).get("name") or "?"),
        status=shown,
        ready=ready,
        containers=containers,
        restarts=restarts,
        node=str(field(pod, "spec", "nodeName") or "-"),
        age=age(meta(pod).get("creationTimestamp")),
        last_exit=last_exit,
        why=why,
        problem=problem,
    )


def _status_word(
    pod: dict[str, Any],
    phase: str,
    statuses: list[dict[str, Any]],
    init_statuses: list[dict[str, Any]],
) -> tuple[str, str | None]:
    """The STATUS kubectl would show, and the message behind it when it says more."""
    if meta(pod).get("deletionTimestamp"):
        return "Terminating", None
    status = pod.get("status") or {}
    if status.get("reason"):  # Evicted, NodeLost, UnexpectedAdmissionError
        return str(status["reason"]), one_line(status.get("message"), 200) or None
    for init in init_statuses:
        terminated = field(init, "state", "terminated")
        if isinstance(terminated, dict) and int(terminated.get("exitCode") or 0) != 0:
            return f"Init:{terminated.get('reason') or 'Error'}", None
        waiting = field(init, "state", "waiting")
        if isinstance(waiting, dict) and waiting.get("reason") not in (None, "PodInitializing"):
            return f"Init:{waiting['reason']}", _waiting_message(waiting)
    for container in statuses:
        waiting = field(container, "state", "waiting")
        if isinstance(waiting, dict) and waiting.get("reason"):
            return str(waiting["reason"]), _waiting_message(waiting)
    for container in statuses:
        terminated = field(container, "state", "terminated")
        if isinstance(terminated, dict) and terminated.get("reason"):
            return str(terminated["reason"]), None
    return phase, None


def _waiting_message(waiting: dict[str, Any]) -> str | None:
    if waiting.get("reason") in _QUIET_WAITING or not waiting.get("message"):
        return None
    return one_line(waiting["message"], 200)


def _last_exit(statuses: list[dict[str, Any]]) -> str | None:
    """The most telling termination: a past instance's (lastState), else a current one that
    failed; OOMKilled and non-zero codes over clean exits."""
    found: list[tuple[int, str]] = []
    for container in statuses:
        for where in ("lastState", "state"):
            terminated = field(container, where, "terminated")
            if not isinstance(terminated, dict):
                continue
            code = int(terminated.get("exitCode") or 0)
            reason = str(terminated.get("reason") or ("Error" if code else "Completed"))
            if where == "state" and code == 0:
                continue  # a job's container that finished well
            when = terminated.get("finishedAt")
            text = f"{reason}, exit code {code} ({container.get('name') or '?'}"
            text += f", {age(when)} ago)" if when else ")"
            weight = 2 if reason == "OOMKilled" else 1 if code else 0
            found.append((weight, text))
            break
    if not found:
        return None
    return max(found, key=lambda pair: pair[0])[1]


def _unscheduled(status: dict[str, Any]) -> str | None:
    for condition in status.get("conditions") or []:
        if (
            isinstance(condition, dict)
            and condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
        ):
            said = one_line(condition.get("message"), 200)
            return f"not scheduled: {said}" if said else "not scheduled"
    return None


def pods_text(namespace: str, selector: str | None, pods: list[dict[str, Any]]) -> str:
    states = [pod_state(pod) for pod in pods]
    where = f"namespace {namespace}" + (f" with labels {selector}" if selector else "")
    if not states:
        return f"no pods in {where}"
    problems = sorted(
        (s for s in states if s.problem),
        key=lambda s: (s.status in _FINE and s.ready == s.containers, -s.restarts, s.name),
    )
    healthy = sorted((s for s in states if not s.problem), key=lambda s: s.name)
    lines = [f"{counted(len(states), 'pod')} in {where}; {len(problems)} with problems"]
    if problems:
        lines.append("Problems:")
        lines += [f"- {s.line()}" for s in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            lines.append(f"… and {len(problems) - MAX_PROBLEMS} more with problems")
    if healthy:
        lines.append("Healthy:")
        lines += [f"- {s.line()}" for s in healthy[:MAX_HEALTHY]]
        if len(healthy) > MAX_HEALTHY:
            lines.append(f"… and {len(healthy) - MAX_HEALTHY} more healthy")
    return "\n".join(lines)


class PodsParameters(BaseModel):
    source: str | None = Field(default=None, description="kubernetes source; the only one if unset")
    namespace: str | None = Field(
        default=None, pattern=NAMESPACE_PATTERN, description="the source's default if unset"
    )
    label_selector: str | None = Field(
        default=None, pattern=LABEL_SELECTOR_PATTERN, description="e.g. app=checkout,tier!=db"
    )


class K8sPods:
    name: ClassVar[str] = "k8s_pods"
    description: ClassVar[str] = (
        "Kubernetes pods of a namespace (optionally by label selector), those in trouble "
        "first: status (CrashLoopBackOff, OOMKilled…), ready containers, restarts, the last "
        "termination's reason and exit code, node, age, why a pending pod is not scheduled."
    )
    parameters: ClassVar[type[BaseModel]] = PodsParameters

    def __init__(self, clusters: Clusters) -> None:
        self.clusters = clusters

    async def answer(self, arguments: PodsParameters) -> ToolAnswer:
        cluster = self.clusters.pick(arguments.source)
        namespace = cluster.namespace(arguments.namespace)
        selector = arguments.label_selector

        def call(api: k8s.ApiClient, timeout: float) -> Any:
            return k8s.CoreV1Api(api).list_namespaced_pod(
                namespace,
                label_selector=selector,
                _preload_content=False,
                _request_timeout=timeout,
            )

        listing = await cluster.get_json(call, f"listing pods in namespace {namespace}")
        kubectl = ["get", "pods", "-o", "wide"] + (["-l", selector] if selector else [])
        return ToolAnswer(
            text=pods_text(namespace, selector, items(listing)),
            query=cluster.kubectl(namespace, *kubectl),
        )
