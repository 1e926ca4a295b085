"""What the metrics pipeline returns for one file: pydantic models, no logic."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class LevelShift(BaseModel):
    """A lasting change of level: `before` and `after` are medians of the two segments."""

    at: datetime | None = Field(description="first point at the new level; None without times")
    index: int = Field(description="0-based position of that point in the series")
    before: float
    after: float


class Spike(BaseModel):
    """A short burst far above the rolling median; `value` is the highest point of the burst."""

    at: datetime | None = None
    index: int
    value: float
    baseline: float = Field(description="rolling median around the spike")


class SeriesStats(BaseModel):
    """One series: metric name and labels, e.g. `http_requests_total{code=500,job=api}`."""

    name: str
    points: int
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    min: float
    max: float
    mean: float
    p50: float
    p95: float
    p99: float
    unit_hint: str | None = Field(default=None, description="'ms', 's', 'bytes', '%', '/s', ...")
    shifts: list[LevelShift] = Field(default_factory=list)
    spikes: list[Spike] = Field(default_factory=list)
    component: str | None = Field(
        default=None,
        description="what the file's layout says the series is about, as written (a pod in "
        "the file name, the entity of a wide column `cart-db_cpu`); labels say it otherwise",
    )
    samples: list[tuple[float, float]] = Field(
        default_factory=list,
        description="(epoch seconds, value), at most MAX_SAMPLES bucket medians in time "
        "order: enough to weigh any incident window against the time before it",
    )


class MetricsReport(BaseModel):
    """Analysis of one metrics file (Prometheus text, CSV/TSV time series, query JSON)."""

    kind: Literal["metrics"] = "metrics"
    name: str
    size_bytes: int
    sha256: str
    format: str = Field(description="e.g. 'prometheus-text', 'csv-wide', 'prometheus-json-matrix'")
    series: list[SeriesStats] = Field(default_factory=list)
    series_count: int = Field(default=0, description="series found, before `series` was capped")
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    notes: list[str] = Field(default_factory=list)
