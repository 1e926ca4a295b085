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

    @property
    def error_count(self) -> int:
        return self.level_counts.get("FATAL", 0) + self.level_counts.get("ERROR", 0)
