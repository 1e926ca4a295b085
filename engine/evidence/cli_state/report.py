"""What the state printed by a CLI (argocd, kafka-consumer-groups, rabbitmqctl) gives.

Models only. `CliFinding` has exactly the fields of kubernetes' `KubeFinding`, so the suspects
and the hypotheses read both alike; the two kinds are peers and may not import each other.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class CliObject(BaseModel):
    kind: str  # Application, Deployment, ConsumerGroup, Partition, Node, Queue...
    name: str
    namespace: str | None = None
    status: str | None = None  # Degraded, OutOfSync, Empty, running, stopped...
    component: str  # what it belongs to: the app's workload, the group, the broker cluster
    details: dict[str, str] = Field(default_factory=dict)  # 'lag': '22121', 'sync': 'OutOfSync'
    evidence: list[str] = Field(default_factory=list)  # verbatim lines, for citation
    line: int | None = None  # 1-based line in the file


class CliFinding(BaseModel):
    signature: str  # ids of engine/investigate/signatures.py
    component: str  # the app, group or cluster at fault (never the command name)
    object: str  # "deployment/checkout", "group/order-processor", "node/rabbit@rabbitmq-1"
    namespace: str | None = None
    summary: str  # one line a person reads first
    lines: list[str] = Field(default_factory=list)  # the file's lines that show it, verbatim
    severity: float  # 0..1: how strongly this explains an incident


class CliParse(BaseModel):
    """What one tool's reader makes of a file, before it becomes a report."""

    format: str  # "app get", "app list", "consumer-groups", "cluster_status", "list_queues"
    objects: list[CliObject] = Field(default_factory=list)
    findings: list[CliFinding] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class CliStateReport(BaseModel):
    kind: Literal["cli"] = "cli"
    name: str
    size_bytes: int
    sha256: str
    tool: str  # "argocd", "kafka", "rabbitmq"
    format: str
    objects: list[CliObject] = Field(default_factory=list)
    findings: list[CliFinding] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
