"""What trace analysis returns for one file: pydantic models, no logic.

Times are milliseconds (what people read); "self time" is a span's duration minus the time
its children cover, i.e. the time the span's own service really spent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ServiceStats(BaseModel):
    service: str
    spans: int
    errors: int
    error_rate: float = Field(description="errors / spans, 0..1")
    p50_ms: float
    p95_ms: float
    p99_ms: float
    self_time_p95_ms: float
    errors_from: str | None = Field(
        default=None,
        description="the callee most of its errors come from, when most are not its own",
    )


class OperationStats(BaseModel):
    service: str
    operation: str
    spans: int
    errors: int
    error_rate: float
    p50_ms: float
    p95_ms: float
    self_time_p95_ms: float
    total_self_ms: float = Field(description="self time summed over its spans (the ranking key)")


class CallEdge(BaseModel):
    """Calls from one service to another: parent span in `caller`, child span in `callee`."""

    caller: str
    callee: str
    calls: int
    errors: int = Field(description="calls whose callee span errored")
    p95_ms: float = Field(description="p95 of the callee spans' durations")


class SlowTrace(BaseModel):
    trace_id: str
    duration_ms: float
    root: str = Field(description="'service:operation' of the root span")
    critical_path: list[str] = Field(
        description="'service:operation' from the root down to the bottleneck span"
    )
    bottleneck: str = Field(description="'service:operation' with the most critical-path time")
    bottleneck_ms: float = Field(
        default=0.0, description="the bottleneck's own (self) time on the critical path"
    )


class TraceSuspect(BaseModel):
    service: str
    score: float = Field(description="0..1; higher means more likely where the trouble starts")
    reasons: list[str] = Field(default_factory=list)


class TraceReport(BaseModel):
    """Analysis of one trace export (Jaeger, Zipkin, OTLP JSON or a CSV span table)."""

    kind: Literal["traces"] = "traces"
    name: str
    size_bytes: int
    sha256: str
    format: str
    trace_count: int
    span_count: int
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    services: list[ServiceStats] = Field(default_factory=list)
    operations: list[OperationStats] = Field(default_factory=list)
    edges: list[CallEdge] = Field(default_factory=list)
    slowest: list[SlowTrace] = Field(default_factory=list)
    suspects: list[TraceSuspect] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    redactions: dict[str, int] = Field(
        default_factory=dict, description="secrets masked in operation names, by kind"
    )

    @property
    def error_count(self) -> int:
        return sum(service.errors for service in self.services)
