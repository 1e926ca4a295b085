"""Suspects of a case: components ranked by how likely the trouble starts there, all evidence.

Each file contributes signals about components (`components.canonical` names):
- logs: a component's errors against its own baseline (the same file before the incident
  window), error templates new in the window, and components that others' errors name
  ("upstream payments returned 503", "dial tcp payments-db:5432") — a dependency;
- traces: the trace suspects (which already prefer the deepest failing callee) and the call
  graph's edges;
- metrics: series with level shifts or spikes near the incident, by label, metric name or a
  dashboard column's first word; `up` / `*_up` falling to 0 says the target is down. When the
  logs show no incident at all, metric wiggles (a peak, a scale-out) are not suspicion;
- configs: a changed version of a component's config.
A failed DNS lookup names the resolver (coredns, else "dns"), not the name looked up.
Signals add up per component. One StatefulSet replica ("payments-db-1") is its service when
the service is named elsewhere; several replicas stay apart. "<service>-db", "-cache"... are
dependencies of <service>. A callee named by a caller's new errors (or connection
warnings) gains more the larger the share of the caller's errors that name it; one that
rejects a bad request (400, 422) is working, so it gains nothing. Then the dependency edges
(from traces and from error texts) are used the way an SRE reads them: when a component and
something it depends on (directly or further down) are both suspect, and that dependency is
suspect enough to explain it, the caller is most likely a victim, so its weight is cut to
about a third, and half of the blame its own callers put on it moves on to the culprit
below. Scores are 1 - e^-weight, 0..1, and every part of a score has a reason a person can
check.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from engine.evidence.components import (
    canonical,
    dns_failure,
    from_file_name,
    from_series,
    hosts_in,
    mentioned_in,
    replica_base,
    resolver,
)
from engine.evidence.configs_models import ConfigReport
from engine.evidence.metrics_models import MetricsReport
from engine.evidence.report import LogReport
from engine.evidence.summary import rate
from engine.evidence.traces_models import TraceReport
from engine.wording import clip, clock

AnyReport = LogReport | TraceReport | MetricsReport | ConfigReport

MAX_SUSPECTS = 5
MIN_SCORE = 0.15
VICTIM_FACTOR = 0.35  # a caller whose dependency is suspect: mostly an echo of it
MIN_SUSPECT_WEIGHT = 0.3  # a dependency this suspect makes its callers victims...
EXPLAINS = 0.25  # ...when it is also at least this fraction as suspect as the caller
MAX_REASONS = 4
PEER_SHARE = 0.2  # of a component's errors that must name one upstream to blame it
NAMED_BASE = 0.3  # a callee named by new errors of another component...
NAMED_SHARE = 0.5  # ...plus this times the share of that component's errors naming it
WARN_NAMING = 0.6  # connection failures a client logs as warnings name its callee too
_NAMING_LEVELS = ("ERROR", "FATAL", "WARN")
BLAME_PASSED = 0.5  # of a victim's blame (callers' failures) that moves on to its culprit
DOWN_WEIGHT = 0.8  # `up` / `redis_up`... falling to 0: the target itself is down
METRIC_NEAR = timedelta(minutes=15)  # a metric change this close to an incident start counts
# '<service>-db', '<service>-cache'...: by convention the service's own datastore.
_DATASTORE = re.compile(
    r"^(.+)-(?:db|database|cache|redis|memcached?|postgres|postgresql|pg|mysql|mariadb|mongo"
    r"|mongodb|kafka|queue|mq|rabbitmq|es|elasticsearch|store|storage)$"
)
_CLIENT_REJECTION = re.compile(
    r"bad request|unprocessable entity|method not allowed|precondition failed"
    r"|unsupported media type|request entity too large|\b404 not found",
    re.IGNORECASE,
)
_TEMPLATE_CHARS = 70
_FAR_RATE = 0.1  # errors/min added to both sides of a ratio: 0 -> 0.3/min is not "infinite"


class Suspect(BaseModel):
    component: str
    score: float = Field(description="0..1; higher means more likely where the trouble starts")
    reasons: list[str] = Field(default_factory=list)
    first_signal: datetime | None = Field(default=None, description="its earliest anomaly")
    sources: list[str] = Field(default_factory=list, description="evidence it was seen in")


@dataclass
class _Evidence:
    """What is known about one component so far."""

    weight: float = 0.0
    blame: float = 0.0  # the part of weight that callers' failures put on it
    reasons: list[tuple[float, str]] = field(default_factory=list)
    first: datetime | None = None
    sources: set[str] = field(default_factory=set)

    def add(self, weight: float, reason: str, source: str, at: datetime | None = None) -> None:
        self.weight += weight
        self.reasons.append((weight, reason))
        self.sources.add(source)
        if at is not None and (self.first is None or at < self.first):
            self.first = at


def _hhmm(ts: datetime | None) -> str:
    return clock(ts, with_date=False) if ts is not None else "?"


class _Collector:
    def __init__(self) -> None:
        self.components: dict[str, _Evidence] = defaultdict(_Evidence)
        self.depends_on: dict[str, set[str]] = defaultdict(set)  # caller -> callees
        self.known: set[str] = set()
        self.saw_logs = False
        self.incidents: list[datetime] = []  # where the logs' error rates rose

    # --- logs ---------------------------------------------------------------------------

    def log_names(self, report: LogReport) -> None:
        self.known.update(canonical(c.name) for c in report.components)
        own = from_file_name(report.name)
        if own and not report.components:
            self.known.add(own)

    def log(self, report: LogReport) -> None:
        own = from_file_name(report.name)
        self.saw_logs = True
        if report.incident_start is not None:
            self.incidents.append(report.incident_start)
        if report.components:
            for stats in report.components:
                self._peers(report, canonical(stats.name), stats.error_peers, stats.errors)
                self._log_component(
                    report,
                    canonical(stats.name),
                    stats.errors_before_per_min,
                    stats.errors_during_per_min,
                    stats.onset or stats.first_error,
                    stats.errors,
                )
        elif own is not None:
            self._peers(report, own, report.error_peers, report.error_count)
            rate = next((a for a in report.anomalies if a.kind == "error-rate"), None)
            self._log_component(
                report,
                own,
                rate.before_per_min if rate else 0.0,
                rate.during_per_min if rate else 0.0,
                report.incident_start or report.first_error_ts,
                report.error_count,
            )
        self._log_templates(report, own)

    def _peers(self, report: LogReport, name: str, peers: dict[str, int], errors: int) -> None:
        """Where a component's failing requests went (upstream=cart): its dependencies."""
        if report.incident_start is None or not errors:
            return
        for peer, count in peers.items():
            callee = canonical(peer)
            if callee == name or count < PEER_SHARE * errors:
                continue
            self.depends_on[name].add(callee)
            # When all of a caller's failures go to one place, that place is the lead.
            weight = NAMED_BASE + NAMED_SHARE * min(1.0, count / errors)
            self.components[callee].blame += weight
            self.components[callee].add(
                weight,
                f"the upstream of {count:,} failing requests of {name} ({report.name})",
                report.name,
                report.incident_start,
            )

    def _log_component(
        self,
        report: LogReport,
        name: str,
        before: float,
        during: float,
        onset: datetime | None,
        errors: int,
    ) -> None:
        if report.incident_start is None:
            if errors:  # errors with no change: steady noise, a weak lead at most
                self.components[name].add(
                    0.05, f"{errors:,} errors, steady ({report.name})", report.name
                )
            return
        weight = error_rise(before, during)
        if not weight:
            return
        self.components[name].add(
            weight,
            f"errors {rate(before)} → {rate(during)} from {_hhmm(onset)} ({report.name})",
            report.name,
            onset,
        )

    def _log_templates(self, report: LogReport, own: str | None) -> None:
        examples = {t.template: t.example for t in report.templates}
        errors_of = {canonical(c.name): c.errors for c in report.components}
        for anomaly in report.anomalies:
            if anomaly.kind not in ("new", "surge") or anomaly.level not in _NAMING_LEVELS:
                continue
            text = anomaly.template or ""
            author = canonical(anomaly.component) if anomaly.component else own
            is_error = anomaly.level in ("ERROR", "FATAL")
            if author is not None and is_error:
                self.components[author].add(
                    0.25,
                    f"{anomaly.kind} error from {_hhmm(anomaly.at)}: "
                    f"`{clip(text, _TEMPLATE_CHARS)}`",
                    report.name,
                    anomaly.at,
                )
            # The masked template hides names in variable places: read the raw example too.
            raw = f"{text}\n{examples.get(text, '')}"
            named = names_in(raw, self.known) - {author}
            if author is not None:
                self.depends_on[author].update(named)
            # A callee that rejects a bad request (400, 422...) is working: the caller is at fault.
            if not named or _CLIENT_REJECTION.search(raw):
                continue
            # The more of the author's errors name one callee, the more it explains them.
            errors = errors_of.get(author or "", report.error_count) or anomaly.count
            share = min(1.0, anomaly.count / errors)
            weight = (NAMED_BASE + NAMED_SHARE * share) * (1.0 if is_error else WARN_NAMING)
            what = "errors" if is_error else "warnings"
            for name in named:
                self.components[name].blame += weight
                self.components[name].add(
                    weight,
                    f"named in {anomaly.count:,} {anomaly.kind} {what} of "
                    f"{author or report.name}: `{clip(text, _TEMPLATE_CHARS)}`",
                    report.name,
                    anomaly.at,
                )

    # --- traces, metrics, configs ---------------------------------------------------------

    def traces(self, report: TraceReport) -> None:
        for edge in report.edges:
            self.depends_on[canonical(edge.caller)].add(canonical(edge.callee))
        for suspect in report.suspects:
            reason = "; ".join(suspect.reasons[:2]) or "trace suspect"
            self.components[canonical(suspect.service)].add(
                suspect.score, f"traces: {reason} ({report.name})", report.name
            )

    def _near_incident(self, at: datetime | None) -> bool:
        """Whether a metric change can be part of the incident: logs that show no incident
        leave metric wiggles (an evening peak, a scale-out) as context, not suspicion."""
        if not self.saw_logs or at is None:
            return True
        if not self.incidents:
            return False
        return min(self.incidents) - METRIC_NEAR <= at <= max(self.incidents) + METRIC_NEAR

    def metrics(self, report: MetricsReport) -> None:
        for series in report.series:
            if not series.shifts and not series.spikes:
                continue
            name = from_series(series.name, self.known)
            if name is None:
                continue
            weight = 0.2
            if series.shifts:
                shift = series.shifts[0]
                what = (
                    f"`{clip(series.name, 60)}` {shift.before:g} → {shift.after:g} "
                    f"at {_hhmm(shift.at)}"
                )
                at = shift.at
                metric = series.name.split("{", 1)[0].strip()
                if (
                    metric == "up" or metric.endswith("_up")
                ) and shift.before >= 0.5 >= shift.after:
                    weight, what = DOWN_WEIGHT, f"{what}: down"
            else:
                spike = series.spikes[0]
                what = f"`{clip(series.name, 60)}` spiked to {spike.value:g} at {_hhmm(spike.at)}"
                at = spike.at
            if not self._near_incident(at):
                continue
            self.components[name].add(weight, f"metrics: {what} ({report.name})", report.name, at)

    def config(self, report: ConfigReport) -> None:
        if report.changes is None or not report.changes.changes:
            return
        names = {canonical(o.name) for o in report.objects}
        own = from_file_name(report.name)
        if not names and own is not None:
            names.add(own)
        first = report.changes.changes[0]
        what = f"{first.path or first.object}: {first.before} → {first.after}"
        for name in names:
            self.components[name].add(
                0.2, f"config changed ({clip(what, 80)}) ({report.name})", report.name
            )

    # --- ranking ----------------------------------------------------------------------------

    def _downstream(self, name: str) -> set[str]:
        """Everything `name` depends on, directly or through others."""
        seen: set[str] = set()
        todo = list(self.depends_on.get(name, ()))
        while todo:
            current = todo.pop()
            if current in seen or current == name:
                continue
            seen.add(current)
            todo.extend(self.depends_on.get(current, ()))
        return seen

    def _deeper(self, name: str, raw: dict[str, float]) -> list[str]:
        """Its dependencies suspect enough to explain its trouble: a faint anomaly downstream
        does not make a loudly failing caller its victim."""
        floor = max(MIN_SUSPECT_WEIGHT, EXPLAINS * raw.get(name, 0))
        return sorted(d for d in self._downstream(name) if raw.get(d, 0) >= floor)

    def _culprits(self, raw: dict[str, float]) -> dict[str, list[str]]:
        """For each victim, its suspect dependencies that are not victims themselves."""
        deeper = {name: self._deeper(name, raw) for name in self.components}
        return {
            name: [d for d in below if not deeper.get(d)]
            for name, below in deeper.items()
            if below and raw[name] > 0
        }

    def _reconcile(self) -> None:
        """One StatefulSet replica ('payments-db-1') is its service ('payments-db') when the
        service is named elsewhere; several replicas stay apart (one broker can be the one
        down) and the service depends on each. '<service>-db' is a dependency of <service>."""
        present = set(self.components) | self.known | set(self.depends_on)
        present |= {c for callees in self.depends_on.values() for c in callees}
        replicas: dict[str, list[str]] = defaultdict(list)
        for name in sorted(self.components):
            base = replica_base(name)
            if base is not None and base in present:
                replicas[base].append(name)
        for base, names in replicas.items():
            if len(names) > 1:
                self.depends_on[base].update(names)
                continue
            [replica] = names
            self._merge(replica, base)
            present.discard(replica)
        for name in present:
            service = _DATASTORE.match(replica_base(name) or name)
            if service and service.group(1) in present and service.group(1) != name:
                self.depends_on[service.group(1)].add(name)

    def _merge(self, replica: str, base: str) -> None:
        ev = self.components.pop(replica)
        into = self.components[base]
        into.weight += ev.weight
        into.blame += ev.blame
        into.reasons.extend((w, f"{replica}: {text}") for w, text in ev.reasons)
        into.sources |= ev.sources
        if ev.first is not None and (into.first is None or ev.first < into.first):
            into.first = ev.first
        for callees in self.depends_on.values():
            if replica in callees:
                callees.discard(replica)
                callees.add(base)
        self.depends_on[base] |= self.depends_on.pop(replica, set()) - {base}

    def rank(self) -> list[Suspect]:
        self._reconcile()
        raw = {name: ev.weight for name, ev in self.components.items()}
        culprits = self._culprits(raw)
        # Callers' failures that went through a victim point further down, at its culprit.
        passed: dict[str, float] = defaultdict(float)
        passed_from: dict[str, list[str]] = defaultdict(list)
        for victim, ends in culprits.items():
            blame = self.components[victim].blame
            if blame <= 0 or not ends:
                continue
            for end in ends:
                passed[end] += BLAME_PASSED * blame / len(ends)
                passed_from[end].append(victim)
        suspects = []
        for name, ev in self.components.items():
            weight = ev.weight
            reasons = [text for _, text in sorted(ev.reasons, key=lambda r: -r[0])]
            deeper = self._deeper(name, raw)
            if deeper and weight > 0:
                weight *= VICTIM_FACTOR
                reasons.insert(0, f"depends on {', '.join(deeper)}, also suspect: likely a victim")
            if passed.get(name):
                weight += passed[name]
                reasons.insert(
                    0,
                    f"the failures of {', '.join(sorted(passed_from[name]))} "
                    "(and of their callers) lead here",
                )
            score = round(1 - math.exp(-weight), 3)
            if score < MIN_SCORE:
                continue
            suspects.append(
                Suspect(
                    component=name,
                    score=score,
                    reasons=reasons[:MAX_REASONS],
                    first_signal=ev.first,
                    sources=sorted(ev.sources),
                )
            )
        # Ties: the earlier signal first (trouble starts before its echoes).
        suspects.sort(
            key=lambda s: (
                -s.score,
                s.first_signal.timestamp() if s.first_signal else math.inf,
                s.component,
            )
        )
        return suspects[:MAX_SUSPECTS]


def error_rise(before: float, during: float) -> float:
    """The weight of an error rate rising against its own baseline (0 when it did not)."""
    ratio = (during + _FAR_RATE) / (before + _FAR_RATE)
    if ratio < 2 or during < 0.2:
        return 0.0
    return min(1.0, math.log10(ratio) / 2)


def names_in(text: str, known: set[str]) -> set[str]:
    """Components a message blames: those it names, or the resolver for a failed lookup
    (the name that failed to resolve is not to blame)."""
    if dns_failure(text):
        return {resolver(known)}
    return mentioned_in(text, known) | hosts_in(text)


def unnamed_writer_score(report: LogReport) -> float:
    """How suspect the writer of a log that names no component is, measured as a named one
    would be: its error rate against its own baseline and its new or surging errors."""
    rise = next((a for a in report.anomalies if a.kind == "error-rate"), None)
    if rise is None:
        return 0.0
    weight = error_rise(rise.before_per_min, rise.during_per_min)
    weight += 0.25 * sum(
        1
        for a in report.anomalies
        if a.kind in ("new", "surge") and a.level in ("ERROR", "FATAL") and not a.component
    )
    return round(1 - math.exp(-weight), 3)


def describe_suspect(suspect: Suspect, reasons: int = 2) -> str:
    """'payments (0.80): errors 0.0/min → 15/min from 14:05 (checkout.log); …'"""
    why = "; ".join(suspect.reasons[:reasons])
    return f"{suspect.component} ({suspect.score:.2f}): {why}"


def rank_case_suspects(reports: list[AnyReport]) -> list[Suspect]:
    """The case's suspects, best first (at most MAX_SUSPECTS, none below MIN_SCORE)."""
    collector = _Collector()
    logs = [r for r in reports if isinstance(r, LogReport) and r.kind == "log"]
    for log in logs:
        collector.log_names(log)
    for report in reports:
        if isinstance(report, TraceReport):
            collector.known.update(canonical(s.service) for s in report.services)
    for log in logs:
        collector.log(log)
    for report in reports:
        if isinstance(report, TraceReport):
            collector.traces(report)
        elif isinstance(report, MetricsReport):
            collector.metrics(report)
        elif isinstance(report, ConfigReport):
            collector.config(report)
    return collector.rank()
