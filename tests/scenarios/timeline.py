"""Time in a scenario: its window (baseline, then incident), smooth changes, crash loops."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class Window:
    """A healthy baseline from `start`, the incident from `incident` (None: healthy) to `end`."""

    start: float
    incident: float | None
    end: float

    @classmethod
    def of(
        cls, when: str, baseline_min: float, after_min: float, *, healthy: bool = False
    ) -> Window:
        """`when` ('2026-10-08 14:05:17', UTC) is the incident start; a healthy window has no
        incident (its pivot is its middle), `when` only places it."""
        pivot = datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
        return cls(pivot - baseline_min * 60, None if healthy else pivot, pivot + after_min * 60)

    @property
    def pivot(self) -> float:
        return self.incident if self.incident is not None else (self.start + self.end) / 2


def smooth_step(start: float, width: float) -> Callable[[float], float]:
    """0 before `start`, 1 after `start + width`, smooth in between."""

    def f(t: float) -> float:
        if t <= start:
            return 0.0
        if t >= start + width:
            return 1.0
        x = (t - start) / width
        return x * x * (3 - 2 * x)

    return f


# -- crash loops --------------------------------------------------------------------------

Cycle = tuple[float, float, int]  # (down from, back up at, restart count after it)


def crash_cycles(
    rng: random.Random,
    first: float,
    end: float,
    uptime: Callable[[random.Random, int], float],
    boot: tuple[float, float] = (1.5, 3.0),
) -> list[Cycle]:
    """When a container that dies `uptime(rng, n)` seconds after its n-th start is down:
    kubelet restarts it at once the first time, then backs off 10 s, 20 s, 40 s ... 300 s."""
    out: list[Cycle] = []
    t, n = first, 0
    while t < end:
        backoff = 0.0 if n == 0 else min(300.0, 10.0 * 2 ** (n - 1))
        up = t + backoff + rng.uniform(*boot)
        n += 1
        out.append((t, up, n))
        t = up + uptime(rng, n)
    return out


def down_count(cycles: Sequence[Sequence[Cycle]], t: float) -> int:
    """How many of the pods (a list of cycles each) are down at t."""
    return sum(1 for pod in cycles if any(a <= t < b for a, b, _ in pod))
