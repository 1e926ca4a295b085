"""One series -> SeriesStats: time order, counter rates, percentiles, shifts and spikes."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import numpy as np

from engine.evidence.metrics.changes import Floats, find_changes
from engine.evidence.metrics.report import LevelShift, SeriesStats, Spike
from engine.evidence.metrics.series import RawSeries, is_counter, unit_from_name

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_MAGNITUDE = 1e300
# Samples kept in the report: an hour at 15 s steps, a day at 6 min; more would only make
# stored reports heavy, and an incident window is never judged on finer steps than this.
MAX_SAMPLES = 240


def to_datetime(epoch: float) -> datetime | None:
    """Aware UTC, to the microsecond; None for a point without a time."""
    return None if math.isnan(epoch) else _EPOCH + timedelta(microseconds=round(epoch * 1e6))


def _counter_rate(times: Floats, values: Floats) -> tuple[Floats, Floats] | None:
    """Per-second rate of a counter, resets allowed; None when it does not behave like one."""
    steps, elapsed = np.diff(values), np.diff(times)
    if len(steps) < 2 or np.isnan(elapsed).any() or (steps < 0).sum() > 0.1 * len(steps):
        return None
    increase = np.where(steps < 0, values[1:], steps)  # after a reset the counter restarts at 0
    ok = elapsed > 0
    return times[1:][ok], increase[ok] / elapsed[ok]


def _points(raw: RawSeries) -> tuple[Floats, Floats, int]:
    """(times, values) in time order without NaN/Inf values, and how many were dropped."""
    times = np.asarray(raw.times, dtype=np.float64)
    values = np.asarray(raw.values, dtype=np.float64)
    # Past 1e300, sums and differences overflow; no real gauge or counter gets there.
    finite = np.abs(values) <= _MAX_MAGNITUDE
    if not np.isnan(times).all():
        finite &= ~np.isnan(times)
    times, values = times[finite], values[finite]
    if not np.isnan(times).all():
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
    return times, values, len(raw.values) - len(values)


def samples(times: Floats, values: Floats) -> list[tuple[float, float]]:
    """At most MAX_SAMPLES (time, value) points: medians of equal runs of points, so a spike
    inside a bucket does not become the bucket; none for points without times."""
    if not len(values) or np.isnan(times).any():
        return []
    if len(values) <= MAX_SAMPLES:
        return [(float(t), float(v)) for t, v in zip(times, values, strict=True)]
    edges = np.linspace(0, len(values), MAX_SAMPLES + 1).astype(int)
    return [
        (float(np.median(times[a:b])), float(np.median(values[a:b])))
        for a, b in itertools.pairwise(edges)
        if b > a
    ]


def analyze_series(raw: RawSeries) -> tuple[SeriesStats | None, int, bool]:
    """(stats, or None without finite points; points dropped; whether it became a rate)."""
    times, values, dropped = _points(raw)
    name, unit = raw.name, raw.unit or unit_from_name(raw.name)
    rate = _counter_rate(times, values) if is_counter(name) else None
    if rate is not None:
        times, values = rate
        name, unit = f"rate({name})", f"{unit}/s" if unit else "/s"
    if not len(values):
        return None, dropped, False

    def at(index: int) -> datetime | None:
        return to_datetime(float(times[index]))

    shifts, spikes = find_changes(values)
    p50, p95, p99 = (float(p) for p in np.percentile(values, [50, 95, 99]))
    stats = SeriesStats(
        name=name,
        points=len(values),
        first_ts=at(0),
        last_ts=at(-1),
        min=float(values.min()),
        max=float(values.max()),
        mean=float(values.mean()),
        p50=p50,
        p95=p95,
        p99=p99,
        unit_hint=unit,
        shifts=[LevelShift(at=at(i), index=i, before=b, after=a) for i, b, a in shifts],
        spikes=[Spike(at=at(i), index=i, value=v, baseline=b) for i, b, v in spikes],
        component=raw.component,
        samples=samples(times, values),
    )
    return stats, dropped, rate is not None
