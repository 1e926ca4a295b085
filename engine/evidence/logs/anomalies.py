"""What changed in one log: the error-rate window, and templates new, surging or gone in it.

The file's own past is the baseline. The incident window is where the error rate rose most
clearly (`rate_changes`); each template and each component is then compared inside that
window with outside it:
- new: never seen before the window (given at least MIN_BASELINE_MINUTES of log before it);
- surge: logged MIN_SURGE times as often inside as outside;
- vanished: logged steadily before, silent in the window (a heartbeat or a success message
  that stopped is often the clearest sign of what broke).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from engine.evidence.logs.patterns import PatternTally, TemplateTally
from engine.evidence.logs.rate_changes import MIN_G, RateWindow, find_rate_window, g_statistic
from engine.evidence.logs.report import ComponentStats, LogAnomaly, TemplateStats
from engine.evidence.logs.timebuckets import BucketClock, Histogram

MIN_BASELINE_MINUTES = 5
MIN_NEW = 3
MIN_SURGE = 5.0
MIN_SURGE_EVENTS = 10
MIN_VANISHED_EXPECTED = 5.0
MAX_ANOMALIES = 10
MAX_TEMPLATES_KEPT = 25
MAX_COMPONENTS_KEPT = 20


@dataclass(frozen=True, slots=True)
class Window:
    """The incident window in bucket indexes of the file's clock."""

    clock: BucketClock
    buckets: range  # inside
    span: range  # the whole file

    @property
    def start(self) -> datetime:
        return self.clock.start_of(self.buckets.start)

    @property
    def end(self) -> datetime | None:
        """None when the window lasts to the end of the log."""
        return (
            None if self.buckets.stop >= self.span.stop else self.clock.start_of(self.buckets.stop)
        )

    def minutes(self, buckets: int) -> float:
        return buckets * self.clock.width / 60

    @property
    def inside_minutes(self) -> float:
        return self.minutes(len(self.buckets))

    @property
    def outside_minutes(self) -> float:
        return self.minutes(len(self.span) - len(self.buckets))

    @property
    def before(self) -> range:
        return range(self.span.start, self.buckets.start)


def incident_window(clock: BucketClock, errors: Histogram) -> Window | None:
    span = clock.span()
    found: RateWindow | None = find_rate_window(errors.dense())
    if found is None:
        return None
    return Window(clock, range(span.start + found.start, span.start + found.stop), span)


def _template_anomaly(
    window: Window, text: str, tally: TemplateTally, component: str | None
) -> LogAnomaly | None:
    inside = tally.histogram.total(window.buckets)
    timed = sum(tally.histogram.counts.values())
    outside = timed - inside
    before = tally.histogram.total(window.before)
    during = inside / max(window.inside_minutes, 1e-9)
    baseline = outside / max(window.outside_minutes, 1e-9)

    def found(kind: Literal["new", "surge", "vanished"], count: int) -> LogAnomaly:
        return LogAnomaly(
            kind=kind,
            count=count,
            at=window.start,
            until=window.end,
            template=text,
            component=component,
            before_per_min=round(baseline, 3),
            during_per_min=round(during, 3),
            level=tally.level,
        )

    strength = g_statistic(
        inside, len(window.buckets), outside, len(window.span) - len(window.buckets)
    )
    if (
        before == 0
        and inside >= MIN_NEW
        and window.minutes(len(window.before)) >= MIN_BASELINE_MINUTES
    ):
        return found("new", inside)
    if (
        outside
        and inside >= MIN_SURGE_EVENTS
        and during >= MIN_SURGE * baseline
        and strength >= MIN_G
    ):
        return found("surge", inside)
    if (
        inside == 0
        and before > 0
        and baseline * window.inside_minutes >= MIN_VANISHED_EXPECTED
        and strength >= MIN_G
    ):
        return found("vanished", before)
    return None


def _rank(anomaly: LogAnomaly) -> tuple[int, int, float]:
    is_error = anomaly.level in ("ERROR", "FATAL")
    kind_order = {"error-rate": 0, "new": 1, "surge": 2, "vanished": 3}[anomaly.kind]
    return (0 if is_error or anomaly.kind == "error-rate" else 1, kind_order, -anomaly.count)


@dataclass(frozen=True, slots=True)
class LogChanges:
    window: Window | None
    anomalies: list[LogAnomaly]
    templates: list[TemplateStats]
    components: list[ComponentStats]
    template_count: int


def find_changes(
    patterns: PatternTally,
    errors: Histogram,
    clean: Callable[[str, bool], str],
) -> LogChanges:
    """Anomalies, the templates worth showing and per-component stats of one file.

    `clean(text, already_masked)` masks secrets in the text kept; error text was masked
    before mining, so its secrets are not counted twice."""
    window = incident_window(patterns.clock, errors)
    # Masked once, here: every later step compares and keeps the masked text.
    templates = [
        (clean(text, tally.errors > 0), tally) for text, tally in patterns.final_templates()
    ]
    anomalies: list[LogAnomaly] = []
    in_window: dict[int, int] = {}
    if window is not None:
        anomalies.append(_error_rate(window, errors))
        for text, tally in templates:
            in_window[id(tally)] = tally.histogram.total(window.buckets)
            found = _template_anomaly(window, text, tally, _top_component(tally))
            if found is not None:
                anomalies.append(found)
    anomalies.sort(key=_rank)
    changed = {a.template for a in anomalies if a.template}
    kept = _kept_templates(templates, changed, clean, in_window)
    return LogChanges(
        window,
        anomalies[:MAX_ANOMALIES],
        kept,
        _components(patterns, window),
        len(templates),
    )


def _top_component(tally: TemplateTally) -> str | None:
    """The component that logs the template most."""
    top = tally.components.most_common(1)
    return top[0][0] if top else None


def _error_rate(window: Window, errors: Histogram) -> LogAnomaly:
    inside = errors.total(window.buckets)
    outside = sum(errors.counts.values()) - inside
    return LogAnomaly(
        kind="error-rate",
        at=window.start,
        until=window.end,
        before_per_min=round(outside / max(window.outside_minutes, 1e-9), 3),
        during_per_min=round(inside / max(window.inside_minutes, 1e-9), 3),
        count=inside,
        level="ERROR",
    )


def _kept_templates(
    templates: list[tuple[str, TemplateTally]],
    changed: set[str],
    clean: Callable[[str, bool], str],
    in_window: dict[int, int],
) -> list[TemplateStats]:
    def order(item: tuple[str, TemplateTally]) -> tuple[int, int, int]:
        text, tally = item
        return (0 if tally.errors else 1, 0 if text in changed else 1, -tally.count)

    ranked = sorted(templates, key=order)[:MAX_TEMPLATES_KEPT]
    kept = []
    for text, tally in ranked:
        kept.append(
            TemplateStats(
                template=text,
                level=tally.level,
                count=tally.count,
                first_seen=tally.seen.first,
                last_seen=tally.seen.last,
                first_line=tally.first_line,
                # Masked but not counted: the template already counted the same secret.
                example=clean(tally.example, True),
                component=_top_component(tally),
                in_window=in_window.get(id(tally), 0),
            )
        )
    return kept


def _components(patterns: PatternTally, window: Window | None) -> list[ComponentStats]:
    stats = []
    for name, tally in patterns.components.items():
        before = during = 0.0
        histogram = tally.errors_histogram
        timed = sum(histogram.counts.values())
        if window is not None:
            inside = histogram.total(window.buckets)
            before = (timed - inside) / max(window.outside_minutes, 1e-9)
            during = inside / max(window.inside_minutes, 1e-9)
        own = find_rate_window(histogram.dense())
        span = patterns.clock.span()
        stats.append(
            ComponentStats(
                name=name,
                hosts=sorted(tally.hosts),
                records=tally.records,
                errors=tally.errors,
                first_error=tally.first_error,
                errors_before_per_min=round(before, 3),
                errors_during_per_min=round(during, 3),
                onset=patterns.clock.start_of(span.start + own.start) if own else None,
                error_peers=dict(tally.peers.most_common(5)),
            )
        )
    stats.sort(key=lambda c: (-c.errors_during_per_min, -c.errors, c.name))
    return stats[:MAX_COMPONENTS_KEPT]
