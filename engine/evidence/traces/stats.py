"""Trace trees -> per-service, per-operation and per-call-edge figures, and the slowest traces.

Everything is collected in one pass over the trees (`Tally.add`); the suspects module reads
the same tally, so error origins and critical-path times are worked out once.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.evidence.traces.graph import TraceTree, error_origin
from engine.evidence.traces.report import CallEdge, OperationStats, ServiceStats, SlowTrace

MAX_OPERATIONS = 20
MAX_SLOWEST = 5
# A path through a deeply nested trace is cut in the middle: its top says which request,
# its end where the time goes.
MAX_PATH = 12
PATH_HEAD = 3


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: always a value that was really observed."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(us: float) -> float:
    return round(us / 1000, 3)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass
class ServiceTally:
    durations: list[float] = field(default_factory=list)
    self_times: list[float] = field(default_factory=list)
    errors: int = 0
    own_errors: int = 0  # errors no callee explains: they start here
    passed_from: Counter[str] = field(default_factory=Counter)  # where the others start
    caused: int = 0  # caller spans (in other services) failing because of this service
    caused_while_ok: int = 0  # ...of which this service's own span had not errored (slow)
    failed_callers: dict[str, int] = field(default_factory=dict)  # caller -> its least depth
    depth: int = 0  # deepest position seen in any trace


@dataclass
class TraceFigures:
    """What the latency part of the suspect ranking needs from one trace."""

    root: str
    duration_us: float
    critical_us: dict[str, float]  # service -> time it holds up the root (self on the path)


@dataclass
class _Operation:
    durations: list[float] = field(default_factory=list)
    self_times: list[float] = field(default_factory=list)
    errors: int = 0


class Tally:
    def __init__(self) -> None:
        self.services: defaultdict[str, ServiceTally] = defaultdict(ServiceTally)
        self.operations: defaultdict[tuple[str, str], _Operation] = defaultdict(_Operation)
        self.edges: defaultdict[tuple[str, str], list[tuple[float, bool]]] = defaultdict(list)
        self.traces: list[TraceFigures] = []
        self.slowest: list[tuple[float, str, TraceTree]] = []

    def add(self, trace_id: str, tree: TraceTree) -> None:
        spans = tree.spans
        origins: dict[int, int] = {}
        for i, span in enumerate(spans):
            service = self.services[span.service]
            service.durations.append(span.duration_us)
            service.self_times.append(tree.self_us[i])
            service.depth = max(service.depth, tree.depth[i])
            operation = self.operations[(span.service, span.operation)]
            operation.durations.append(span.duration_us)
            operation.self_times.append(tree.self_us[i])
            p = tree.parent[i]
            if p is not None and spans[p].service != span.service:
                self.edges[(spans[p].service, span.service)].append((span.duration_us, span.error))
            if span.error:
                service.errors += 1
                operation.errors += 1
                self._add_error(tree, i, origins)
        critical: defaultdict[str, float] = defaultdict(float)
        for i, us in tree.critical_us.items():
            critical[spans[i].service] += us
        self.traces.append(TraceFigures(tree.label(tree.root), tree.duration_us, critical))
        self.slowest.append((tree.duration_us, trace_id, tree))
        self.slowest.sort(key=lambda item: (-item[0], item[1]))
        del self.slowest[MAX_SLOWEST:]

    def _add_error(self, tree: TraceTree, i: int, origins: dict[int, int]) -> None:
        if i not in origins:
            origin, above = error_origin(tree, i)
            origins.update(dict.fromkeys([*above, origin], origin))
        origin = origins[i]
        span, source = tree.spans[i], tree.spans[origin]
        if origin == i:
            self.services[span.service].own_errors += 1
            return
        self.services[span.service].passed_from[source.service] += 1
        if source.service != span.service:
            culprit = self.services[source.service]
            culprit.caused += 1
            culprit.caused_while_ok += not source.error
            depth = culprit.failed_callers.get(span.service, tree.depth[i])
            culprit.failed_callers[span.service] = min(depth, tree.depth[i])


def service_stats(tally: Tally) -> list[ServiceStats]:
    stats = []
    for name, service in tally.services.items():
        passed = sum(service.passed_from.values())
        source = service.passed_from.most_common(1)
        stats.append(
            ServiceStats(
                service=name,
                spans=len(service.durations),
                errors=service.errors,
                error_rate=_rate(service.errors, len(service.durations)),
                p50_ms=ms(percentile(service.durations, 0.50)),
                p95_ms=ms(percentile(service.durations, 0.95)),
                p99_ms=ms(percentile(service.durations, 0.99)),
                self_time_p95_ms=ms(percentile(service.self_times, 0.95)),
                errors_from=source[0][0]
                if passed > service.own_errors and source[0][0] != name
                else None,
            )
        )
    return sorted(stats, key=lambda s: (-s.errors, -s.spans, s.service))


def operation_stats(tally: Tally) -> list[OperationStats]:
    """The operations that take the most time of their own (where the time really goes)."""
    stats = [
        OperationStats(
            service=service,
            operation=operation,
            spans=len(op.durations),
            errors=op.errors,
            error_rate=_rate(op.errors, len(op.durations)),
            p50_ms=ms(percentile(op.durations, 0.50)),
            p95_ms=ms(percentile(op.durations, 0.95)),
            self_time_p95_ms=ms(percentile(op.self_times, 0.95)),
            total_self_ms=ms(sum(op.self_times)),
        )
        for (service, operation), op in tally.operations.items()
    ]
    stats.sort(key=lambda s: (-s.total_self_ms, -s.errors, s.service, s.operation))
    return stats[:MAX_OPERATIONS]


def call_edges(tally: Tally) -> list[CallEdge]:
    edges = [
        CallEdge(
            caller=caller,
            callee=callee,
            calls=len(calls),
            errors=sum(error for _, error in calls),
            p95_ms=ms(percentile([duration for duration, _ in calls], 0.95)),
        )
        for (caller, callee), calls in tally.edges.items()
    ]
    return sorted(edges, key=lambda e: (-e.errors, -e.calls, e.caller, e.callee))


def _path_to(tree: TraceTree, i: int) -> list[str]:
    """Labels from the root down to span `i`, at most MAX_PATH of them ("…" for the cut)."""
    path = [i]
    while (p := tree.parent[path[-1]]) is not None:
        path.append(p)
    labels = [tree.label(j) for j in reversed(path)]
    if len(labels) <= MAX_PATH:
        return labels
    return [*labels[:PATH_HEAD], "…", *labels[len(labels) - (MAX_PATH - PATH_HEAD - 1) :]]


def slow_traces(tally: Tally) -> list[SlowTrace]:
    slow = []
    for duration, trace_id, tree in tally.slowest:
        bottleneck = max(tree.critical_us, key=lambda i: (tree.critical_us[i], tree.depth[i]))
        slow.append(
            SlowTrace(
                trace_id=trace_id,
                duration_ms=ms(duration),
                root=tree.label(tree.root),
                critical_path=_path_to(tree, bottleneck),
                bottleneck=tree.label(bottleneck),
                bottleneck_ms=ms(tree.critical_us[bottleneck]),
            )
        )
    return slow


def attribute_peers(trees: Iterable[TraceTree]) -> tuple[set[str], set[str]]:
    """Give leaf client spans to the service they call (peer.service, Zipkin's
    remoteEndpoint): a database emits no spans, yet its time and errors are its own; and a
    call whose callee's span is missing from the trace (it never finished, or was not
    exported: the usual sight in a timeout) waited on the callee, not on the caller.
    Returns the peers named this way: uninstrumented ones, and instrumented ones."""
    trees = list(trees)
    instrumented = {span.service for tree in trees for span in tree.spans}
    uninstrumented: set[str] = set()
    unanswered: set[str] = set()
    for tree in trees:
        for i, span in enumerate(tree.spans):
            peer = span.peer
            calls_out = span.kind in ("client", "producer", "")
            if peer and peer != span.service and calls_out and not tree.children[i]:
                (unanswered if peer in instrumented else uninstrumented).add(peer)
                span.service = peer
    return uninstrumented, unanswered
