"""The one renderer: a `Scenario` (data) and a seeded random generator in, a `Case` (evidence
files and the answer key) out.

Every scenario goes through the same steps, in this order, which is also the order of its
random draws: the shop and its customers, the standard deployments, the release, the story,
the background noise, the traffic, the touch-ups, the metrics, then the files in the order
the scenario lists them (sampling traces draws too).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from tests.scenarios import chatter
from tests.scenarios.k8s import rollout, standard
from tests.scenarios.metrics import Metric, grid
from tests.scenarios.shop import Shop
from tests.scenarios.spec import NEW_PODS, Answer, Release, Scenario, pods_of
from tests.scenarios.stage import Stage, curve
from tests.scenarios.timeline import Window


@dataclass
class Case:
    """A rendered scenario: what goes into cases/<name>/."""

    name: str
    window: Window
    answer: Answer  # the pods it names are filled in
    files: dict[str, bytes] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # file name -> log, metrics...


def render(scenario: Scenario, rng: random.Random) -> Case:
    stage = open_shop(scenario, rng)
    deploy(stage, scenario.release)
    for step in scenario.story:
        step(stage)
    if scenario.cluster_noise:
        chatter.k8s_background(stage.sim)
    chatter.everyday(stage.sim, scenario.everyday)
    stage.sim.run()
    for step in scenario.aftermath:
        step(stage)
    measure(stage, scenario.metrics)

    answer = scenario.answer
    case = Case(
        scenario.name, stage.win, replace(answer, acceptable=named(answer.acceptable, stage))
    )
    for file_name, writer in scenario.evidence.items():
        case.files[file_name] = writer.write(stage)
        case.kinds[file_name] = writer.kind
    return case


def open_shop(scenario: Scenario, rng: random.Random) -> Stage:
    """The window and the shop with its traffic, nothing deployed yet."""
    healthy = scenario.answer.kind == "healthy"
    win = Window.of(scenario.when, scenario.baseline_min, scenario.after_min, healthy=healthy)
    traffic = scenario.traffic
    sim = Shop(rng, win.start, win.end, rates=dict(traffic.rates))
    sim.gateway_info_every = traffic.gateway_info_every
    sim.timeouts.update(traffic.timeouts)
    stage = Stage(rng, win, sim, pods={})
    if traffic.surge is not None:  # a shape needs the stage to know its times
        sim.surge = curve(traffic.surge, stage)
    return stage


def deploy(stage: Stage, release: Release | None) -> None:
    """The standard deployments, and the release rolled out in the window."""
    sim, win = stage.sim, stage.win
    stage.pods = standard(sim, skip=(release.service,) if release else ())
    if release is None:
        return
    stage.released = win.pivot + release.at
    stage.old, stage.new = rollout(
        sim,
        release.service,
        release.old,
        release.new,
        stage.released,
        release.replicas,
        gap=release.gap,
    )
    if release.starts_incident:  # the first new pod to serve traffic starts it
        replicas = sim.replicas[release.service]
        win.incident = round(min(r.start for r in replicas if r.version == release.new))


def measure(stage: Stage, metrics: tuple[Metric, ...]) -> None:
    """The metric columns, once a minute over the window, in the order listed."""
    stage.times = grid(stage.win)
    for metric in metrics:
        if isinstance(metric, tuple):
            name, source = metric
            stage.columns.append((name, source(stage)))
        else:
            stage.columns.extend(metric(stage))


def named(names: tuple[str, ...], stage: Stage) -> tuple[str, ...]:
    """`names` with NEW_PODS and pods_of(...) replaced by the pods they stand for."""
    out: list[str] = []
    for name in names:
        if name == NEW_PODS:
            out += stage.new
            continue
        service = next((s for s in stage.pods if pods_of(s) == name), None)
        out += stage.pods[service] if service else [name]
    return tuple(out)
