"""A scenario while it is rendered (`Stage`), and how a scenario's data points into it: times
(`At`) and shapes over time (`Rise`, `Switch`, `Ramp`) that only become numbers once the
window is known."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.scenarios.shop import Shop
from tests.scenarios.sim import ramp
from tests.scenarios.timeline import Window, smooth_step


@dataclass
class Stage:
    """Everything a scenario's steps share: the random generator (one per scenario, seeded
    with its name), the window, the simulated shop, the pods deployed, and what the story
    noted down (`marks`) for the metrics and the evidence."""

    rng: random.Random
    win: Window
    sim: Shop
    pods: dict[str, list[str]]  # the pods of the services deployed before the window
    old: list[str] = field(default_factory=list)  # the release's replaced pods
    new: list[str] = field(default_factory=list)  # and its new ones
    released: float | None = None  # when the release started rolling out
    marks: dict[str, Any] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)  # when metrics were sampled
    columns: list[tuple[Any, list[float]]] = field(default_factory=list)  # (name, values)

    @property
    def inc(self) -> float:
        """When the incident started (the middle of the window for a healthy scenario)."""
        return self.win.pivot


@dataclass(frozen=True)
class At:
    """A time: `offset` seconds after `since`, which is "incident" (its start, or the middle
    of a healthy window), "start" or "end" of the window, "release" (when the rollout began)
    or the name of a time the story noted in `Stage.marks`."""

    offset: float = 0.0
    since: str = "incident"

    def __call__(self, stage: Stage) -> float:
        win = stage.win
        bases = {"incident": win.pivot, "start": win.start, "end": win.end}
        if self.since == "release":
            assert stage.released is not None, "no release in this scenario"
            return stage.released + self.offset
        base = bases[self.since] if self.since in bases else stage.marks[self.since]
        return float(base) + self.offset


START, INCIDENT, END = At(0, "start"), At(0, "incident"), At(0, "end")

Curve = Callable[[float], float]
Shape = float | Callable[[Stage], Curve]  # a constant, or a curve once the stage is known


def curve(shape: Shape, stage: Stage) -> Curve:
    if callable(shape):
        return shape(stage)
    value = shape
    return lambda t: value


@dataclass(frozen=True)
class Rise:
    """`base`, rising smoothly by `rise` between `since` and `until`."""

    base: float
    rise: float
    since: At
    until: At

    def __call__(self, stage: Stage) -> Curve:
        start = self.since(stage)
        step = smooth_step(start, self.until(stage) - start)
        return lambda t: self.base + self.rise * step(t)


@dataclass(frozen=True)
class Switch:
    """`before` until `at`, then `after`."""

    before: float
    after: float
    at: At = INCIDENT

    def __call__(self, stage: Stage) -> Curve:
        at = self.at(stage)
        return lambda t: self.before if t < at else self.after


@dataclass(frozen=True)
class Ramp:
    """A probability: `floor` before `since`, rising linearly to `top` at `until`."""

    since: At
    until: At
    top: float = 1.0
    floor: float = 0.0

    def __call__(self, stage: Stage) -> Curve:
        return ramp(self.since(stage), self.until(stage), self.top, self.floor)
