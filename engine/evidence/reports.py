"""What analysing one file gives, for every kind, and the stored evidence row that holds it.

Models only: importing this loads the report models of each kind, never their analysers, so
the store and the investigation can read reports without the readers' start-up cost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from engine.evidence.alerts.report import AlertReport
from engine.evidence.cli_state.report import CliStateReport
from engine.evidence.configs.report import ConfigReport
from engine.evidence.kubernetes.report import KubeReport
from engine.evidence.logs.report import LogReport
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.topology.report import CallGraphReport
from engine.evidence.traces.report import TraceReport

AnyReport = (
    LogReport
    | TraceReport
    | MetricsReport
    | ConfigReport
    | CallGraphReport
    | KubeReport
    | AlertReport
    | CliStateReport
)
EvidenceReport = Annotated[AnyReport, Field(discriminator="kind")]

EvidenceStatus = Literal["analysed", "rejected"]


class Evidence(BaseModel):
    """One file of a case as stored: what it was, and its report when it could be read."""

    id: int
    case_id: int
    source_id: str
    name: str
    kind: str
    size_bytes: int
    sha256: str | None
    status: EvidenceStatus
    summary: str
    report: EvidenceReport | None = None
    created_at: datetime
