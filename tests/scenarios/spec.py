"""The words a scenario is written in. A `Scenario` is data: when it happens, the traffic,
the release rolled out, the story (faults and the lines that go with them), the background
noise, the metrics, the files to write and the answer key. `render.render` turns one into
files.

A story is a sequence of steps, run in order: data steps (`Breaks`, `Repeat`) for what fits
them, plain functions of the `Stage` for what is particular to one scenario.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tests.scenarios.evidence import Writer
from tests.scenarios.lines import Repeated
from tests.scenarios.metrics import Metric
from tests.scenarios.sim import Fault, Millis, Sim, Text
from tests.scenarios.stage import END, INCIDENT, START, At, Curve, Shape, Stage

Step = Callable[[Stage], None]

# failure signature -> category (engine/investigate/signatures.py)
SIGNATURES = {
    "db-pool-exhausted": "resource-exhaustion",
    "oom": "resource-exhaustion",
    "disk-full": "resource-exhaustion",
    "dns": "network",
    "tls": "security",
    "conn-refused": "network",
    "timeout": "latency",
    "http-5xx": "availability",
    "rate-limit": "capacity",
    "deadlock": "concurrency",
    "crash-loop": "availability",
    "auth": "security",
    "null-deref": "code",
    "config": "configuration",
}
NEW_PODS = "<the release's new pods>"  # in `acceptable`: stands for the new pods' names


def pods_of(service: str) -> str:
    """In `acceptable`: stands for the names of the service's (standard) pods."""
    return f"<pods of {service}>"


@dataclass(frozen=True)
class Answer:
    """The answer key (answer.yaml); the category follows from the signature."""

    title: str
    question: str
    kind: str = "failure"  # failure | healthy | red-herring
    component: str | None = None
    signature: str | None = None
    acceptable: tuple[str, ...] = ()  # may hold NEW_PODS and pods_of(...)
    forbidden: tuple[str, ...] = ()
    forbidden_signatures: tuple[str, ...] = ()
    notes: str = ""

    @property
    def category(self) -> str | None:
        return SIGNATURES[self.signature] if self.signature else None


@dataclass(frozen=True)
class Traffic:
    """Requests per second of each flow (sim.DEFAULT_RATES for the others), a surge factor
    over time, how often the gateway logs a success, and call timeouts that differ."""

    rates: Mapping[str, float] = field(default_factory=dict)
    surge: Shape | None = None
    gateway_info_every: int = 1
    timeouts: Mapping[tuple[str, str], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Release:
    """`service` is rolled from `old` to `new`, starting `at` seconds after the incident
    start; with `starts_incident`, the incident starts when the first new pod is ready."""

    service: str
    old: str
    new: str
    at: float
    replicas: int = 2
    gap: float = 30.0
    starts_incident: bool = False


@dataclass(frozen=True)
class Breaks:
    """A fault (sim.Fault) as data: `target` goes wrong from `start` (to `end`), for calls
    from `caller` to operations containing `op`, with probability `prob`."""

    target: str
    mode: str  # refused | client | error | status | slow | crash
    caller: str | None = None
    op: str | None = None
    start: At = INCIDENT
    end: At | None = None
    prob: float | Callable[[Stage], Curve] = 1.0  # a number, or a Ramp
    message: Text = ""
    status: int = 500
    latency_ms: Millis = 1.0
    stack: tuple[str, ...] = ()
    on_hit: Callable[[Sim, float, str], None] | None = None
    pod_version: str | None = None

    def __call__(self, stage: Stage) -> None:
        prob = self.prob(stage) if callable(self.prob) else self.prob
        stage.sim.faults.append(
            Fault(
                self.target,
                self.mode,
                self.start(stage),
                math.inf if self.end is None else self.end(stage),
                caller=self.caller,
                op=self.op,
                prob=prob,
                message=self.message,
                status=self.status,
                latency_ms=self.latency_ms,
                stack=self.stack,
                on_hit=self.on_hit,
                pod_version=self.pod_version,
            )
        )


@dataclass(frozen=True)
class Repeat(Repeated):
    """Repeated lines as a story step: between `since` and `until` (default: all along)."""

    since: At = START
    until: At = END

    def __call__(self, stage: Stage) -> None:
        self.write(stage.sim, self.since(stage), self.until(stage))


@dataclass(frozen=True)
class Scenario:
    """One incident (or a healthy period), as data."""

    name: str
    when: str  # the incident start, UTC ('2026-11-03 14:06:40'); the time asked about if healthy
    baseline_min: float  # minutes of evidence before it
    after_min: float  # and after
    answer: Answer
    evidence: Mapping[str, Writer]  # file name -> what it holds, in the order written
    traffic: Traffic = Traffic()
    release: Release | None = None
    story: tuple[Step, ...] = ()
    cluster_noise: bool = False  # CronJobs, HPA decisions, probe blips in the k8s events
    everyday: tuple[str, ...] = ()  # services whose everyday noise is in their logs
    aftermath: tuple[Step, ...] = ()  # after the traffic ran: touch up what was logged
    metrics: tuple[Metric, ...] = ()
