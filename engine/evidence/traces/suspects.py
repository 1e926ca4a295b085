"""Rank services by how likely the trouble starts there.

Two signals, each worked out so that blame sinks to the deepest callee that explains it:
- errors: a span's error counts fully only where it starts (no failing or timed-out callee
  explains it); errors passed up from a callee count a little, and the callee is credited
  with the caller failures it causes;
- latency: self time on the critical path, compared between a root operation's slow traces
  (at least twice its lower quartile) and its usual ones. A caller that waits on a slow
  callee has little self time, so the extra time lands on the callee.
"""

from __future__ import annotations

from collections import defaultdict

from engine.evidence.traces.report import TraceSuspect
from engine.evidence.traces.stats import ServiceTally, Tally, TraceFigures, percentile
from engine.evidence.traces.summary import say_ms

ERROR_WEIGHT = 0.6
LATENCY_WEIGHT = 0.4
# An error passed up from a callee says little about the service itself...
PASSED_WEIGHT = 0.25
# ...and caused caller failures add to a service's own evidence, capped by its own rate.
CAUSE_WEIGHT = 0.5
SLOW_FACTOR = 2.0
MIN_EXTRA_US = 1000.0  # microsecond jitter on a tiny trace is not "twice as slow"
# A few percent of the extra time is what any caller's own overhead adds; below this it is
# noise, and counting it would rank callers by their bookkeeping instead of by depth.
MIN_LATENCY_SHARE = 0.1
MIN_SCORE = 0.02  # low: callers failing only because of a callee still make the list
MAX_SUSPECTS = 10


class Latency:
    """Which services the extra time of slow traces is spent in."""

    def __init__(self, traces: list[TraceFigures]) -> None:
        groups: defaultdict[str, list[TraceFigures]] = defaultdict(list)
        for trace in traces:
            groups[trace.root].append(trace)
        self.extra: defaultdict[str, float] = defaultdict(float)
        self.total_extra = 0.0
        self.slow_traces = 0
        for group in groups.values():
            self._add_group(group)

    def _add_group(self, group: list[TraceFigures]) -> None:
        usual = percentile([trace.duration_us for trace in group], 0.25)
        limit = max(SLOW_FACTOR * usual, usual + MIN_EXTRA_US)
        slow = [trace for trace in group if trace.duration_us >= limit]
        normal = [trace for trace in group if trace.duration_us < limit]
        if not slow or not normal:
            return
        baseline: defaultdict[str, float] = defaultdict(float)
        for trace in normal:
            for service, us in trace.critical_us.items():
                baseline[service] += us
        base_duration = sum(trace.duration_us for trace in normal) / len(normal)
        for trace in slow:
            self.slow_traces += 1
            self.total_extra += max(0.0, trace.duration_us - base_duration)
            for service, us in trace.critical_us.items():
                self.extra[service] += max(0.0, us - baseline[service] / len(normal))

    def share(self, service: str) -> float:
        if self.total_extra <= 0:
            return 0.0
        share = min(1.0, self.extra[service] / self.total_extra)
        return share if share >= MIN_LATENCY_SHARE else 0.0


def _callers(service: ServiceTally) -> str:
    ranked = sorted(service.failed_callers.items(), key=lambda item: (item[1], item[0]))
    return ", ".join(name for name, _ in ranked)


def _reasons(name: str, service: ServiceTally, latency: Latency) -> list[str]:
    spans = len(service.durations)
    reasons = []
    if service.errors:
        reasons.append(f"{service.errors / spans:.0%} of its spans error")
        passed = sum(service.passed_from.values())
        if passed:
            sources = ", ".join(s for s, _ in service.passed_from.most_common(3) if s != name)
            if sources:
                errors = f"{service.errors:,}"
                which = (
                    f"all {errors} of its"
                    if passed == service.errors
                    else f"{passed:,} of its {errors}"
                )
                reasons.append(f"{which} errors come from {sources}")
    if service.caused:
        how = "is slow" if service.caused_while_ok > service.caused / 2 else "fails"
        reasons.append(f"callers {_callers(service)} fail when it {how}")
    share = latency.share(name)
    if share:
        reasons.append(
            f"{share:.0%} of the extra time in {latency.slow_traces:,} slow traces is its own "
            f"(self time p95 {say_ms(percentile(service.self_times, 0.95) / 1000)})"
        )
    return reasons


def score(name: str, service: ServiceTally, latency: Latency) -> float:
    spans = len(service.durations)
    own = service.own_errors / spans
    passed = sum(service.passed_from.values()) / spans
    caused = min(1.0, service.caused / spans)
    errors = min(1.0, max(own, CAUSE_WEIGHT * caused) + PASSED_WEIGHT * passed)
    return round(ERROR_WEIGHT * errors + LATENCY_WEIGHT * latency.share(name), 3)


def rank_suspects(tally: Tally) -> list[TraceSuspect]:
    """Services worth a look, most likely first; ties go to the deeper service."""
    latency = Latency(tally.traces)
    ranked = []
    for name, service in tally.services.items():
        points = score(name, service, latency)
        if points >= MIN_SCORE:
            reasons = _reasons(name, service, latency)
            ranked.append((points, service.depth, name, reasons))
    ranked.sort(key=lambda item: (-item[0], -item[1], item[2]))
    return [
        TraceSuspect(service=name, score=points, reasons=reasons)
        for points, _, name, reasons in ranked[:MAX_SUSPECTS]
    ]
