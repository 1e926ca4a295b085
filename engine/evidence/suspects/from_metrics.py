"""What metric series say about a case's suspects, weighed against the incident window.

An SRE reading dashboards asks of every series that names a component: is it worse in the
incident window than it was before? So each series' values from just before the incident
start to WINDOW after it are compared with its own values before (median and spread), and
only a change in the direction that hurts counts: success or availability falling; errors,
latency, CPU or memory rising (a series whose name says neither may hurt either way). A
series whose window level it already reached before (noisy all day) is not a suspect.

- A pod that did not exist before the window (a rollout's new pod) has no past of its own:
  the other pods of its workload before the window are its baseline.
- A series about a call (a column or file named after a caller and callee that the call
  graph links, `frontend_cart`) blames the callee when the call fails or slows, as an
  error naming its callee does in logs.
- Pods that came and went near the window (a rollout, a restart: `pod_changes`) make their
  workload a suspect on its own: the change nearest the trouble.
- CPU pinned at its limit (≥ 90 % for half the window or more, or of the file when nobody said
  when the trouble started) is saturation, whatever it was before.
Per component only the strongest series of each measure counts (ten pods of one workload are
one signal, not ten), and measures add up.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from engine.core.wording import clip
from engine.evidence.components import canonical, from_series
from engine.evidence.metrics.report import MetricsReport, SeriesStats
from engine.evidence.suspects.from_signals import DOWN_WEIGHT
from engine.evidence.suspects.pod_changes import pod_changes
from engine.evidence.suspects.state import CaseEvidence, hhmm

WINDOW = timedelta(minutes=15)  # judged after the stated start
LEAD = timedelta(minutes=2)  # and this much before it: people notice late
MIN_BASELINE = 3
MIN_Z = 5.0  # the change against the baseline's own noise (robust sigmas)
MIN_RELATIVE = 0.1  # of the baseline level: 100 % -> 95 % success is not an incident
FULL_RELATIVE = 0.5  # a change of half the level (or more) is as strong as it gets
SATURATED = 90.0  # percent of a CPU
SATURATED_SHARE = 0.5  # of the window: at its limit half the time or more
SATURATION_WEIGHT = 0.8
CHRONIC_WEIGHT = 0.25  # saturated before the window too: a standing condition
POD_CHANGE_WEIGHT = 0.3  # a rollout or restart near the window
MAX_COMPONENT_WEIGHT = 1.6
# A new pod against the old ones: another process, warming up, on another node; it says less
# than the same pod against its own past.
PEER_TRUST = 0.6
WIDESPREAD_SHARE = 0.5  # of the components, worse in the same measure at once...
WIDESPREAD_MIN = 3
WIDESPREAD_FACTOR = 0.3  # ...says little about each of them

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_LOWER_IS_WORSE = frozenset(
    {"success", "successful", "availability", "available", "up", "ok", "healthy", "ready"}
)
_ERRORS = frozenset(
    {"error", "errors", "err", "fail", "failed", "failure", "failures", "5xx", "timeout"}
)
_LATENCY = frozenset({"latency", "lat", "duration", "rt", "response", "p99", "p95", "p90"})
# What a call's own numbers are; a pod's CPU or memory stays the pod's whatever file it is in.
_CALL_MEASURES = frozenset({"success", "errors", "latency"})
_RESOURCES = frozenset({"cpu", "mem", "memory", "heap", "rss", "gc", "restarts", "throttled"})


def _words(name: str) -> list[str]:
    metric = name.split("{", 1)[0]
    return [w.lower() for w in _WORDS.findall(metric)]


class Measure(NamedTuple):
    family: str  # 'success', 'errors', 'latency', 'cpu', 'memory', 'node', 'other'
    direction: int  # -1 when lower is worse, +1 when higher is, 0 either way
    weight: float  # how much a full change of it says about its component


def series_measure(series_name: str, file_name: str) -> Measure:
    """What a series measures, from its name, else from its file's ('success.csv' holding
    columns named only by the calls they measure)."""
    measure = measure_of(series_name)
    if measure.family == "other":
        stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        return measure_of(stem)
    return measure


def measure_of(name: str) -> Measure:
    """What a series measures, from the words of its metric name."""
    ordered = _words(name)
    words = set(ordered)
    if ordered[-1:] == ["up"]:  # `up`, `redis_up`: 1 while the target answers
        return Measure("up", -1, DOWN_WEIGHT)
    if words & _LOWER_IS_WORSE:
        return Measure("success", -1, 1.0)
    if words & _ERRORS:
        return Measure("errors", 1, 1.0)
    if "node" in words or "host" in words:
        return Measure("node", 1, 0.0)  # the machine under the pod: it names no component
    if words & _LATENCY:
        return Measure("latency", 1, 0.8)
    if words & _RESOURCES:
        return Measure("cpu" if "cpu" in words else "memory", 1, 0.3)
    return Measure("other", 0, 0.4)


@dataclass
class Judged:
    weight: float
    text: str
    at: datetime | None


@dataclass
class _Points:
    times: list[float]
    values: list[float]

    def before(self, t: float) -> list[float]:
        return [v for s, v in zip(self.times, self.values, strict=True) if s < t]

    def between(self, a: float, b: float) -> list[float]:
        return [v for s, v in zip(self.times, self.values, strict=True) if a <= s <= b]


def _points(series: SeriesStats) -> _Points:
    return _Points([t for t, _ in series.samples], [v for _, v in series.samples])


def _mad_sigma(values: list[float]) -> float:
    centre = statistics.median(values)
    return 1.4826 * statistics.median(abs(v - centre) for v in values)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def judge_shift(
    direction: int, inside: list[float], before: list[float], fmt: str = "{:.3g}"
) -> tuple[float, str] | None:
    """(strength 0..1, '100 → 28') when the window is worse than before; None otherwise."""
    if not inside or len(before) < MIN_BASELINE:
        return None
    level, now = statistics.median(before), statistics.median(inside)
    change = now - level if direction >= 0 else level - now
    if direction == 0:
        change = abs(change)
    scale = max(abs(level), 1e-9)
    noise = max(_mad_sigma(before), 0.02 * scale)
    if change <= 0 or change / scale < MIN_RELATIVE or change / noise < MIN_Z:
        return None
    seen = _quantile(before, 0.98) if now > level else _quantile(before, 0.02)
    if (now > level and now <= seen) or (now < level and now >= seen):
        return None  # the window's level was reached before: noise, not the incident
    strength = min(1.0, change / scale / FULL_RELATIVE)
    return strength, f"{fmt.format(level)} → {fmt.format(now)}"


@dataclass
class MetricView:
    """The case's metric series with what each is about, for judging against one window."""

    start: datetime | None
    end: datetime | None = None  # the window's end; WINDOW after the start unless given
    series: list[tuple[MetricsReport, SeriesStats, str]] = field(default_factory=list)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def window_end(self) -> float:
        assert self.start is not None
        return (self.end or self.start + WINDOW).timestamp()

    def peers_before(self, series: SeriesStats, component: str, t: float) -> list[float]:
        """The same measure of the other pods of its workload, before `t`."""
        metric = series.name.split("{", 1)[0]
        pooled: list[float] = []
        for _, other, owner in self.series:
            if other is not series and owner == component and other.name.startswith(metric):
                pooled.extend(_points(other).before(t))
        return pooled


def _call_of(text: str, edges: set[tuple[str, str]]) -> tuple[str, str] | None:
    """A caller and callee the call graph links, named side by side in `text`."""
    stem = re.sub(r"\.[a-z]{2,5}$", "", text.split("{", 1)[0])  # 'a_b.csv': a file name
    words = [canonical(w) for w in re.split(r"[_\s]+|->|→", stem) if w]
    for a, b in itertools.pairwise(words):
        if (a, b) in edges:
            return a, b
    return None


def _saturation(series: SeriesStats, measure: Measure, view: MetricView) -> Judged | None:
    if measure.family != "cpu" or series.max > 105 or not series.samples:
        return None
    points = _points(series)
    if view.start is not None:
        start = (view.start - LEAD).timestamp()
        inside = points.between(start, view.window_end())
        before = points.before(start)
    else:
        inside, before = points.values, []
    if not inside or sum(v >= SATURATED for v in inside) < SATURATED_SHARE * len(inside):
        return None
    chronic = len(before) >= MIN_BASELINE and _quantile(before, 0.5) >= SATURATED
    weight = CHRONIC_WEIGHT if chronic else SATURATION_WEIGHT
    what = "already at its limit before" if chronic else "saturated"
    text = f"`{clip(series.name, 60)}` at {statistics.median(inside):.0f}% ({what})"
    return Judged(weight, text, None)


def _shift(
    series: SeriesStats, measure: Measure, component: str, view: MetricView
) -> Judged | None:
    if view.start is None or not series.samples:
        return None
    points = _points(series)
    start = (view.start - LEAD).timestamp()
    inside = points.between(start, view.window_end())
    before = points.before(start)
    baseline, trust = "before", 1.0
    if len(before) < MIN_BASELINE:
        before = view.peers_before(series, component, start)
        baseline, trust = "its workload's other pods before", PEER_TRUST
    judged = judge_shift(measure.direction, inside, before) if measure.weight > 0 else None
    if judged is None:
        return None
    strength, change = judged
    where = f" on {series.component}" if series.component else ""
    text = f"`{clip(series.name, 60)}`{where} {change} from {hhmm(view.start)} (vs {baseline})"
    if measure.family == "up" and statistics.median(inside) <= 0.5 <= statistics.median(before):
        text += ": down"
    return Judged(measure.weight * strength * trust, text, view.start)


def metric_view(
    case: CaseEvidence,
    reports: list[MetricsReport],
    start: datetime | None,
    end: datetime | None = None,
) -> MetricView:
    edges = {(a, b) for a, callees in case.depends_on.items() for b in callees}
    view = MetricView(start, end, edges=edges)
    for report in reports:
        for series in report.series:
            named = series.component or from_series(series.name, case.known)
            if named is not None:
                view.series.append((report, series, canonical(named)))
    return view


_Fingerprint = tuple[str, tuple[float, ...]]


def _fingerprint(series: SeriesStats) -> _Fingerprint:
    """The name and values (not times: each copy was scraped a second apart)."""
    return series.name, tuple(value for _, value in series.samples)


def _shared_numbers(view: MetricView) -> dict[_Fingerprint, tuple[set[str], set[str]]]:
    """Per (name, samples): the components and the files that hold exactly these numbers.

    Exports copy numbers around: a pod's own latency written into each of its per-call
    files is the pod's, not each call's; one node's memory written under every pod on it is
    nobody's in particular.
    """
    shared: dict[_Fingerprint, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for report, series, component in view.series:
        if len(series.samples) >= MIN_BASELINE:  # two equal points are a coincidence
            components, files = shared[_fingerprint(series)]
            components.add(component)
            files.add(report.name)
    return shared


def _discount_widespread(
    best: dict[tuple[str, str], tuple[Judged, str]], components: set[str]
) -> None:
    """A measure that worsened on most components at once (latency everywhere, memory on
    every pod) tells of load or shared infrastructure, not of any one of them."""
    by_measure: dict[str, list[Judged]] = defaultdict(list)
    for (_, family), (judged, _) in best.items():
        if family not in ("pods", "saturation"):
            by_measure[family.removeprefix("calls ")].append(judged)
    for group in by_measure.values():
        if len(group) >= WIDESPREAD_MIN and len(group) >= WIDESPREAD_SHARE * len(components):
            for item in group:
                item.weight *= WIDESPREAD_FACTOR
                item.text += f" (as on {len(group)} of {len(components)} components)"


def metric_window_signals(case: CaseEvidence, view: MetricView) -> None:
    """Add each component's strongest judged change per measure to its evidence."""
    best: dict[tuple[str, str], tuple[Judged, str]] = {}

    def keep(component: str, family: str, judged: Judged, source: str) -> None:
        current = best.get((component, family))
        if current is None or judged.weight > current[0].weight:
            best[(component, family)] = (judged, source)

    shared = _shared_numbers(view)
    for report, series, component in view.series:
        key = _fingerprint(series)
        if len(shared[key][0]) > 1:
            continue  # the same numbers under several components: none of theirs alone
        measure = series_measure(series.name, report.name)
        saturated = _saturation(series, measure, view)
        if saturated is not None:
            keep(component, "saturation", saturated, report.name)
        judged = _shift(series, measure, component, view)
        if judged is None:
            continue
        call = _call_of(series.name, view.edges) or _call_of(report.name, view.edges)
        per_call = len(shared[key][1]) <= 1  # not the pod's own number, copied per call
        if call is not None and per_call and measure.family in _CALL_MEASURES:
            caller, callee = call
            judged.text = f"calls {caller} → {callee}: {judged.text}"
            keep(callee, f"calls {measure.family}", judged, report.name)
            continue
        keep(component, measure.family, judged, report.name)
    if view.start is not None:
        lives = [(series, component) for _, series, component in view.series]
        for component, change in pod_changes(lives, view.start).items():
            keep(component, "pods", Judged(POD_CHANGE_WEIGHT, change.text, change.at), "pods")
    _discount_widespread(best, {component for _, _, component in view.series})
    totals: dict[str, float] = defaultdict(float)
    for (component, family), (judged, source) in sorted(
        best.items(), key=lambda item: -item[1][0].weight
    ):
        weight = min(judged.weight, MAX_COMPONENT_WEIGHT - totals[component])
        if weight <= 0:
            continue
        totals[component] += weight
        case.components[component].add(
            weight, f"metrics: {judged.text} ({source})", source, judged.at
        )
        if family.startswith("calls"):  # callers' failures: blame a victim passes on
            case.components[component].blame += weight
