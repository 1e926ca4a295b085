"""Metrics of a scenario: sampled once a minute from the simulated traffic (what a dashboard
would show of the same requests the logs and traces come from), or measured gauges (a shape
plus noise).

A scenario lists its columns as (name, source) pairs; the renderer evaluates the sources in
that order, which is the order their random draws happen in.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from tests.scenarios.sim import Sim
from tests.scenarios.stage import Shape, Stage, curve
from tests.scenarios.timeline import Window

STEP = 60.0  # seconds between samples
MIB = 1024 * 1024

Source = Callable[[Stage], list[float]]  # one value per sample time
Columns = Callable[[Stage], list[tuple[Any, list[float]]]]  # several named columns at once
Metric = tuple[Any, Source] | Columns  # (a CSV title or Prometheus labels, its source)


def grid(win: Window, step: float = STEP) -> list[float]:
    first = math.floor(win.start / step) * step
    return [first + i * step for i in range(int((win.end - first) // step))]


def server_stats(
    sim: Sim,
    service: str,
    times: Sequence[float],
    step: float = STEP,
    *,
    route: str | None = None,
) -> dict[str, list[float]]:
    """Per bucket: requests/s, 5xx %, p50 and p99 (ms) of `service`'s server spans."""
    buckets: list[list[tuple[float, int]]] = [[] for _ in times]
    first = times[0]
    for trace in sim.traces:
        for s in trace.spans:
            if s.service != service or s.kind != "server" or (route and route not in s.name):
                continue
            i = int((s.start - first) // step)
            if 0 <= i < len(times):
                buckets[i].append((s.dur_ms, s.status or 200))
    out: dict[str, list[float]] = {"rps": [], "err_pct": [], "p50": [], "p99": []}
    for items in buckets:
        durs = sorted(d for d, _ in items)
        n = len(durs)
        out["rps"].append(n / step)
        out["err_pct"].append(100.0 * sum(1 for _, s in items if s >= 500) / n if n else 0.0)
        out["p50"].append(durs[n // 2] if n else math.nan)
        out["p99"].append(durs[min(n - 1, math.ceil(0.99 * n) - 1)] if n else math.nan)
    return out


def edge_stats(sim: Sim, times: Sequence[float], step: float = STEP) -> dict[str, list[float]]:
    """Ingress view: requests/s and 5xx/s per bucket."""
    total = [0.0 for _ in times]
    errors = [0.0 for _ in times]
    for e in sim.access:
        i = int((float(e["t"]) - times[0]) // step)
        if 0 <= i < len(times):
            total[i] += 1 / step
            if int(e["status"]) >= 500:
                errors[i] += 1 / step
    return {"rps": total, "5xx_rps": errors}


def gauge(
    rng: random.Random,
    times: Sequence[float],
    level: Callable[[float], float],
    noise: float = 0.03,
    *,
    floor: float = 0.0,
    ceiling: float = math.inf,
    digits: int = 2,
) -> list[float]:
    """A measured gauge: `level(t)` with multiplicative noise, clipped."""
    out = []
    for t in times:
        value = level(t) * (1 + rng.gauss(0, noise))
        out.append(round(min(ceiling, max(floor, value)), digits))
    return out


def rounded(values: Sequence[float], digits: int = 1) -> list[float]:
    return [v if v != v else round(v, digits) for v in values]


def bucket(times: Sequence[float], t: float, step: float = STEP) -> int | None:
    """The index of the sample `t` falls in, None if outside."""
    i = int((t - times[0]) // step)
    return i if 0 <= i < len(times) else None


# -- sources ------------------------------------------------------------------------------


def served(
    service: str, stat: str, digits: int = 1, *, route: str | None = None, unit: float = 1.0
) -> Source:
    """`stat` (rps, err_pct, p50, p99) of the requests `service` served, divided by `unit`."""

    def source(stage: Stage) -> list[float]:
        values = server_stats(stage.sim, service, stage.times, route=route)[stat]
        return rounded([v / unit for v in values], digits)

    return source


def at_edge(stat: str, digits: int = 3) -> Source:
    """`stat` (rps, 5xx_rps) of the requests ingress-nginx saw."""
    return lambda stage: rounded(edge_stats(stage.sim, stage.times)[stat], digits)


def exact(shape: Shape) -> Source:
    """A value that is known, not measured: a constant, a flag that switches."""

    def source(stage: Stage) -> list[float]:
        level = curve(shape, stage)
        return [level(t) for t in stage.times]

    return source


def measured(
    shape: Shape,
    noise: float,
    *,
    floor: float = 0.0,
    ceiling: float = math.inf,
    digits: int = 2,
) -> Source:
    """A gauge that follows `shape` with multiplicative noise."""

    def source(stage: Stage) -> list[float]:
        level = curve(shape, stage)
        return gauge(
            stage.rng, stage.times, level, noise, floor=floor, ceiling=ceiling, digits=digits
        )

    return source


def while_up(value: Callable[[random.Random], float], down: str) -> Source:
    """`value` drawn for every sample before the time noted as `down`; no sample after."""

    def source(stage: Stage) -> list[float]:
        gone = stage.marks[down]
        return [value(stage.rng) if t < gone else math.nan for t in stage.times]

    return source
