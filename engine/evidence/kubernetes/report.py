"""What Kubernetes state evidence gives: objects with their state, events, and findings.

Models only. The names and fields are a contract with the suspects and hypotheses code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

KubeFormat = Literal["describe", "get", "events", "yaml", "json", "top", "error"]


class KubeEvent(BaseModel):
    type: str | None = None  # Normal / Warning
    reason: str  # BackOff, FailedScheduling, OOMKilling, Unhealthy...
    object: str | None = None  # "pod/nginx-6958c5bdd8-69gtn" when known
    message: str
    count: int | None = None
    age: str | None = None  # as written ("4m28s", "<unknown>")
    line: int | None = None  # 1-based line in the file
    source: str | None = Field(default=None, description="FROM / SOURCE: kubelet, scheduler")
    ts: datetime | None = Field(default=None, description="last time, when written absolutely")


class KubeObject(BaseModel):
    kind: str  # Pod, Deployment, ReplicaSet, StatefulSet, Job, Node, Service, Ingress...
    name: str
    namespace: str | None = None
    status: str | None = None  # Running, CrashLoopBackOff, Pending, Completed, OOMKilled...
    ready: str | None = None  # "0/1"
    restarts: int | None = None
    reasons: list[str] = Field(default_factory=list)  # waiting/terminated/last state reasons
    exit_codes: list[int] = Field(default_factory=list)
    conditions: dict[str, str] = Field(default_factory=dict)  # "Ready": "False"
    images: list[str] = Field(default_factory=list)
    limits: dict[str, str] = Field(default_factory=dict)  # "memory": "128Mi"
    owner: str | None = None  # "ReplicaSet/nginx-6958c5bdd8"
    workload: str  # the component the object belongs to (see workload.py)
    events: list[KubeEvent] = Field(default_factory=list)
    line: int | None = None
    # Added beyond the contract: what the findings need to say why.
    node: str | None = None
    usage: dict[str, str] = Field(
        default_factory=dict, description="kubectl top: 'cpu': '250m', 'memory': '128Mi'"
    )
    probes: list[str] = Field(
        default_factory=list, description="'liveness http-get http://:8080/healthz ...'"
    )
    details: dict[str, str] = Field(
        default_factory=dict,
        description="kind-specific state: 'endpoints', 'storage_class', 'ingress_class', "
        "'taints', 'pods_statuses', 'condition_messages'...",
    )
    evidence: list[str] = Field(
        default_factory=list, description="verbatim lines that show the state, for citation"
    )


class KubeFinding(BaseModel):
    signature: str  # ids of engine/investigate/signatures.py, or image-pull, scheduling...
    component: str  # the workload (never the command name)
    object: str  # "pod/checkout-7d9f8c6b5-x2k4p"
    namespace: str | None = None
    summary: str  # one line a person reads first
    lines: list[str] = Field(default_factory=list)  # the file's lines that show it, verbatim
    severity: float  # 0..1: how strongly this explains an incident


class KubeMissing(BaseModel):
    """Something kubectl looked for and did not find: an object (NotFound), anything in a
    namespace (No resources found), a name a `| grep` did not match, or a resource type."""

    what: Literal["object", "listing", "match", "type"]
    kind: str | None = None  # "pod", "deployment"; for "type", the missing resource type
    name: str | None = None  # the object's name, or the grep pattern
    namespace: str | None = None
    line: str  # kubectl's words, verbatim


class KubeReport(BaseModel):
    kind: Literal["kubernetes"] = "kubernetes"
    name: str
    size_bytes: int
    sha256: str
    format: str  # "describe", "get", "events", "yaml", "json", "top"
    objects: list[KubeObject] = Field(default_factory=list)
    events: list[KubeEvent] = Field(default_factory=list)
    findings: list[KubeFinding] = Field(default_factory=list)
    missing: list[KubeMissing] = Field(
        default_factory=list, description="what kubectl said does not exist (format 'error')"
    )
    first_ts: datetime | None = None  # only from absolute times; ages are relative
    last_ts: datetime | None = None
    notes: list[str] = Field(default_factory=list)
