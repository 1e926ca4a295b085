"""MetricsReport -> words: one line a person scans in Slack, and one line per notable series.

Example: latency.csv: 3 series, 14:00–14:30 UTC; p99_latency_ms rose 120→850 at 14:02
(level shift); error_rate spiked to 0.31 at 14:03
"""

from __future__ import annotations

import math
from datetime import datetime

from engine.evidence.metrics.report import MetricsReport, SeriesStats
from engine.evidence.metrics.series import is_error_like, metric_part, unit_from_name

SHOWN_FINDINGS = 3
SHOWN_RANGES = 3
SHOWN_COMPONENTS = 4
NAME_CHARS = 60
_SI = (("T", 1e12), ("G", 1e9), ("M", 1e6))


def fmt_number(value: float) -> str:
    """120, 0.31, 1,523, 4.2M: three significant digits, thousands separated."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    size = abs(value)
    for suffix, factor in _SI:
        if size >= factor:
            return f"{value / factor:.3g}{suffix}"
    if size >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _count(n: int) -> str:
    return f"{n:,} series"  # "series" is its own plural


def _about(report: MetricsReport) -> str | None:
    """'of checkout-v2-7d9f8c6b5-x2k4p', 'of 13 components (cart, cart-db, …)': what the
    file's layout says its series are about, so a reader sees it was understood."""
    names = list(dict.fromkeys(s.component for s in report.series if s.component))
    if not names:
        return None
    if len(names) == 1:
        return f"of {names[0]}"
    shown = ", ".join(names[:SHOWN_COMPONENTS]) + (", …" if len(names) > SHOWN_COMPONENTS else "")
    return f"of {len(names)} components ({shown})"


def _name(series: SeriesStats) -> str:
    name = " ".join(series.name.split()).replace("`", "'")
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _value(series: SeriesStats, value: float) -> str:
    """The number, with the unit when the name does not already say it (`_ms`, `_bytes`)."""
    text = fmt_number(value)
    unit = series.unit_hint
    if not unit or unit_from_name(series.name) == unit:
        return text
    return f"{text}{unit}" if unit == "%" or unit.startswith("/") else f"{text} {unit}"


class _Clock:
    """How times read in one report: with dates only when it spans days, with seconds only
    when a time it mentions is not on the minute (scrapes every 15 s, not minutely exports)."""

    def __init__(self, report: MetricsReport) -> None:
        first, last = report.first_ts, report.last_ts
        self.dates = bool(first and last and first.date() != last.date())
        mentioned = [first, last]
        for series in report.series:
            mentioned += [shift.at for shift in series.shifts]
            mentioned += [spike.at for spike in series.spikes]
        self.seconds = any(ts and (ts.second or ts.microsecond) for ts in mentioned)

    def __call__(self, ts: datetime | None, index: int | None = None) -> str:
        if ts is None:
            return f"point {index + 1:,}" if index is not None else "?"
        fmt = ("%Y-%m-%d " if self.dates else "") + ("%H:%M:%S" if self.seconds else "%H:%M")
        return ts.strftime(fmt)

    def span(self, first: datetime | None, last: datetime | None) -> str:
        if first is None or last is None:
            return ""
        if first == last or self(first) == self(last):
            return f"{self(first)} UTC"
        return f"{self(first)}–{self(last)} UTC"


def _relative(before: float, after: float) -> float:
    scale = max(abs(before), abs(after))
    return min(abs(after - before) / scale, 1.0) if scale else 0.0


def _findings(series: SeriesStats, clock: _Clock) -> list[tuple[float, str]]:
    """(how notable, what to say): shifts outrank spikes; error-like series come first."""
    bonus = 0.5 if is_error_like(series.name) else 0.0
    found = []
    for shift in series.shifts:
        verb = "rose" if shift.after > shift.before else "fell"
        found.append(
            (
                2 + _relative(shift.before, shift.after) + bonus,
                f"{_name(series)} {verb} {fmt_number(shift.before)}→"
                f"{_value(series, shift.after)} at {clock(shift.at, shift.index)} (level shift)",
            )
        )
    for spike in series.spikes:
        found.append(
            (
                1 + _relative(spike.baseline, spike.value) + bonus,
                f"{_name(series)} spiked to {_value(series, spike.value)} "
                f"at {clock(spike.at, spike.index)}",
            )
        )
    return sorted(found, key=lambda item: -item[0])


def _instant_notable(series: SeriesStats) -> str | None:
    value = series.max
    if metric_part(series.name) == "up" and value == 0:
        return f"{_name(series)}=0 (target down)"
    if is_error_like(series.name) and value > 0:
        return f"{_name(series)}={_value(series, value)}"
    return None


def is_instant(report: MetricsReport) -> bool:
    """One value per series: a scrape or an instant query, with no trend to speak of."""
    return all(series.points == 1 for series in report.series)


def _ranked(report: MetricsReport, clock: _Clock) -> list[tuple[float, int, SeriesStats]]:
    """Series with findings, most notable first (file order breaks ties), then the rest."""
    scored = []
    for position, series in enumerate(report.series):
        findings = _findings(series, clock)
        notable = findings[0][0] if findings else 0.0
        if not findings and is_instant(report) and _instant_notable(series):
            notable = 1.0
        scored.append((notable, position, series))
    return sorted(scored, key=lambda item: (-item[0], item[1]))


def _instant_summary(report: MetricsReport, clock: _Clock) -> str:
    when = clock.span(report.first_ts, report.last_ts)
    head = f"one value per series{' at ' + when if when else ''} (no time series)"
    notable = [text for s in report.series if (text := _instant_notable(s))]
    if notable:
        shown = ", ".join(notable[:SHOWN_FINDINGS])
        more = f" (+{len(notable) - SHOWN_FINDINGS} more)" if len(notable) > SHOWN_FINDINGS else ""
        return f"{head}; non-zero errors: {shown}{more}"
    plain = [s for s in report.series if not metric_part(s.name).endswith("_bucket")]
    examples = ", ".join(f"{_name(s)}={_value(s, s.max)}" for s in plain[:SHOWN_RANGES])
    return f"{head}; no non-zero error counters" + (f"; e.g. {examples}" if examples else "")


def _range(series: SeriesStats) -> str:
    if fmt_number(series.min) == fmt_number(series.max):
        return f"{_name(series)} {_value(series, series.min)}"
    return f"{_name(series)} {fmt_number(series.min)}–{_value(series, series.max)}"


def summarize_metrics(report: MetricsReport) -> str:
    """One line: series count, time range, then the (at most 3) most notable findings."""
    clock = _Clock(report)
    about = _about(report)
    parts = [_count(report.series_count) + (f" {about}" if about else "")]
    if is_instant(report):
        parts.append(_instant_summary(report, clock))
        return f"{report.name}: {', '.join(parts)}"
    span = clock.span(report.first_ts, report.last_ts)
    if span:
        parts.append(span)
    text = f"{report.name}: {', '.join(parts)}"
    findings = []
    for _, _, series in _ranked(report, clock):
        best = _findings(series, clock)
        if best:
            findings.append(best[0])
    findings.sort(key=lambda item: -item[0])  # stable: file order breaks ties
    if findings:
        return text + "; " + "; ".join(say for _, say in findings[:SHOWN_FINDINGS])
    ranges = ", ".join(_range(s) for s in report.series[:SHOWN_RANGES])
    return f"{text}; no level shifts or spikes; {ranges}"


def _describe(series: SeriesStats, clock: _Clock) -> str:
    if series.points == 1:
        when = f" at {clock(series.first_ts)} UTC" if series.first_ts else ""
        return f"{_name(series)} = {_value(series, series.max)}{when}"
    stats = ", ".join(
        f"{label} {fmt_number(value)}"
        for label, value in (
            ("min", series.min),
            ("median", series.p50),
            ("p95", series.p95),
            ("p99", series.p99),
            ("max", series.max),
            ("mean", series.mean),
        )
    )
    unit = series.unit_hint
    unit_text = f" ({unit})" if unit and unit_from_name(series.name) != unit else ""
    span = clock.span(series.first_ts, series.last_ts)
    text = f"{_name(series)}{unit_text}: {series.points:,} points{' ' + span if span else ''}"
    text += f"; {stats}"
    events = [
        f"level shift {fmt_number(s.before)}→{fmt_number(s.after)} at {clock(s.at, s.index)}"
        for s in series.shifts
    ] + [
        f"spike {fmt_number(s.value)} at {clock(s.at, s.index)} (baseline {fmt_number(s.baseline)})"
        for s in series.spikes
    ]
    return text + ("; " + "; ".join(events) if events else "")


def describe_series(report: MetricsReport, limit: int = 5) -> list[str]:
    """One line per series, most notable first: stats, then shifts and spikes with times."""
    clock = _Clock(report)
    ranked = _ranked(report, clock)
    lines = [_describe(series, clock) for _, _, series in ranked[:limit]]
    more = report.series_count - len(lines)
    if more > 0:
        lines.append(f"…and {more:,} more series")
    return lines
