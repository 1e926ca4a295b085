"""What reading an alert or incident payload gives: pydantic models, no logic but `active`.

Every tool's words for an alert's state are mapped to a few statuses: firing, pending,
triggered (still a problem), acknowledged, suppressed (silenced), resolved, inactive (a rule
that is not firing), no data. Only the active ones are incidents; the rest are listed, marked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

# Statuses that make an alert an incident now. Acknowledged and silenced alerts are still
# listed, but someone has already taken them, so they are not counted as firing.
ACTIVE_STATUSES = frozenset({"firing", "pending", "triggered"})


class Alert(BaseModel):
    title: str = Field(description="alertname / title / summary")
    status: str | None = Field(
        default=None,
        description="firing, pending, triggered, acknowledged, suppressed, resolved, inactive",
    )
    severity: str | None = None
    component: str | None = Field(
        default=None, description="the workload the labels or tags name, reduced by canonical()"
    )
    namespace: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    description: str | None = Field(
        default=None, description="annotations.description / summary / message, or the body"
    )
    starts_at: datetime | None = None
    ends_at: datetime | None = Field(default=None, description="only when it has ended")
    source: str | None = Field(
        default=None,
        description="alertmanager, prometheus, pagerduty, datadog, opsgenie, grafana, robusta",
    )
    query: str | None = Field(default=None, description="the rule's expression or query")
    line: int | None = Field(default=None, description="line of the file where it appears")

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class AlertReport(BaseModel):
    """One alert or incident payload: the alerts it holds, active first in the words."""

    kind: Literal["alerts"] = "alerts"
    name: str
    size_bytes: int
    sha256: str
    format: str = Field(description="the source tool, as Alert.source")
    alerts: list[Alert] = Field(default_factory=list)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    notes: list[str] = Field(default_factory=list)
    redactions: dict[str, int] = Field(
        default_factory=dict, description="secret values masked before parsing, by kind"
    )
