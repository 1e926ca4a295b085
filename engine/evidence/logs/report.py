"""What the evidence pipeline returns for one file: pydantic models, no logic beyond wording."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ErrorGroup(BaseModel):
    """Error records that share one message once variable parts (ids, numbers...) are masked."""

    message: str = Field(description="normalised message, e.g. 'connection to <*> refused'")
    example: str = Field(description="the first raw message of the group, trimmed")
    level: str = Field(description="the most severe canonical level seen: FATAL or ERROR")
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    first_line: int = Field(description="1-based line number of the first record of the group")


class MinuteCount(BaseModel):
    minute: datetime
    count: int


class TemplateStats(BaseModel):
    """One log template (records that differ only in values) with its counts."""

    template: str = Field(description="the event with <*> where values go, secrets masked")
    level: str | None = Field(default=None, description="the most severe level seen")
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    first_line: int
    example: str = Field(description="the first record of the template, trimmed, masked")
    component: str | None = Field(default=None, description="who logs it most")
    in_window: int = Field(default=0, description="records inside the incident window")


class LogAnomaly(BaseModel):
    """Something that changed at a time: the error rate, or one template's rate."""

    kind: Literal["error-rate", "new", "surge", "vanished"]
    at: datetime
    until: datetime | None = Field(default=None, description="None: lasts to the end of the log")
    template: str | None = None
    component: str | None = None
    before_per_min: float
    during_per_min: float
    count: int = Field(description="records in the window (for 'vanished': before it)")
    level: str | None = None


class ComponentStats(BaseModel):
    """A service, program, pod or host named in the records, against its own baseline."""

    name: str
    hosts: list[str] = Field(default_factory=list)
    records: int
    errors: int
    first_error: datetime | None = None
    errors_before_per_min: float = 0.0
    errors_during_per_min: float = 0.0
    onset: datetime | None = Field(default=None, description="when its own error rate rose")
    error_peers: dict[str, int] = Field(
        default_factory=dict, description="services its failing requests went to (upstream=...)"
    )


class LogReport(BaseModel):
    """Analysis of one log (or plain text) file."""

    kind: Literal["log", "text"] = "log"
    name: str
    size_bytes: int
    sha256: str
    line_count: int
    record_count: int
    formats: list[str] = Field(default_factory=list)
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    level_counts: dict[str, int] = Field(default_factory=dict)
    error_groups: list[ErrorGroup] = Field(default_factory=list)
    error_group_count: int = Field(
        default=0, description="distinct error messages, before error_groups keeps the top ones"
    )
    first_error_ts: datetime | None = None
    busiest_error_minute: MinuteCount | None = None
    error_timeline: list[MinuteCount] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    redactions: dict[str, int] = Field(
        default_factory=dict, description="secrets masked in the derived text, by kind"
    )
    error_peers: dict[str, int] = Field(
        default_factory=dict, description="services the failing requests went to, all errors"
    )
    language: str | None = Field(
        default=None, description="for text: 'Markdown', 'Python', 'shell'... when it is known"
    )
    headings: list[str] = Field(default_factory=list, description="for Markdown: its outline")
    template_count: int = 0
    templates: list[TemplateStats] = Field(
        default_factory=list, description="error templates and changed templates first"
    )
    components: list[ComponentStats] = Field(default_factory=list)
    incident_start: datetime | None = Field(
        default=None, description="where the error rate rose against the file's own baseline"
    )
    incident_end: datetime | None = None
    anomalies: list[LogAnomaly] = Field(default_factory=list)

    @property
    def error_count(self) -> int:
        return self.level_counts.get("FATAL", 0) + self.level_counts.get("ERROR", 0)
