"""TraceReport -> words: one line a person scans in Slack, and a few lines of detail.

Example: trace.json: 120 traces, 1,840 spans, 14:00–14:05 UTC; errors in payments-db (62%),
payments (40%, from payments-db); slowest path checkout→payments→payments-db 2.3 s
"""

from __future__ import annotations

from datetime import date

from engine.core.redact import describe_counts
from engine.core.wording import clip, plural, time_range
from engine.evidence.traces.report import ServiceStats, TraceReport

SHOWN_SERVICES = 3
SHOWN_SLOW_TRACES = 3
LABEL_CHARS = 60


def say_ms(ms: float) -> str:
    """'0.4 ms', '840 ms', '2.3 s', '14 s', '3.5 min'."""
    if ms < 1:
        return f"{ms:.1f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def _percent(rate: float) -> str:
    return "<1%" if 0 < rate < 0.01 else f"{rate:.0%}"


def _service_errors(service: ServiceStats) -> str:
    source = f", from {service.errors_from}" if service.errors_from else ""
    return f"{service.service} ({_percent(service.error_rate)}{source})"


def _errors(report: TraceReport) -> str:
    failing = [service for service in report.services if service.errors]
    if not failing:
        return "no errors"
    # Suspect order first, so the service where errors start leads the list.
    rank = {suspect.service: i for i, suspect in enumerate(report.suspects)}
    failing.sort(key=lambda s: (rank.get(s.service, len(rank)), -s.error_rate, s.service))
    text = "errors in " + ", ".join(map(_service_errors, failing[:SHOWN_SERVICES]))
    more = len(failing) - SHOWN_SERVICES
    return f"{text} and {plural(more, 'more service')}" if more > 0 else text


def _service_of(label: str) -> str:
    return label.split(":", 1)[0]


def _slowest(report: TraceReport) -> str:
    if not report.slowest:
        return ""
    trace = report.slowest[0]
    services: list[str] = []
    for label in trace.critical_path:
        if not services or services[-1] != _service_of(label):
            services.append(_service_of(label))
    return f"slowest path {'→'.join(services)} {say_ms(trace.duration_ms)}"


def summarize_traces(report: TraceReport, *, today: date | None = None) -> str:
    """One short line about the file. The date is shown when the traces span several days,
    or when `today` is given and they are from another day."""
    parts = [plural(report.trace_count, "trace"), plural(report.span_count, "span")]
    first, last = report.first_ts, report.last_ts
    if first is not None and last is not None:
        parts.append(time_range(first, last, today is not None and first.date() != today))
    else:
        parts.append("no timestamps")
    text = f"{report.name}: {', '.join(parts)}; {_errors(report)}"
    tail = [part for part in (_slowest(report), describe_counts(report.redactions)) if part]
    return "; ".join([text, *tail])


def describe_traces(report: TraceReport, limit: int = 5) -> list[str]:
    """Suspects (most likely first, with reasons), the slowest traces, failing calls."""
    lines = [
        f"suspect {suspect.service} (score {suspect.score:.2f}): " + "; ".join(suspect.reasons)
        for suspect in report.suspects[:limit]
    ]
    for trace in report.slowest[: min(limit, SHOWN_SLOW_TRACES)]:
        path = " → ".join(clip(label, LABEL_CHARS) for label in trace.critical_path)
        lines.append(
            f"slow trace {trace.trace_id}: {say_ms(trace.duration_ms)} via {path}; "
            f"bottleneck {clip(trace.bottleneck, LABEL_CHARS)} "
            f"({say_ms(trace.bottleneck_ms)} of its own)"
        )
    failing = [edge for edge in report.edges if edge.errors][:limit]
    lines += [
        f"calls {edge.caller} → {edge.callee}: {plural(edge.calls, 'call')}, "
        f"{edge.errors:,} failed ({_percent(edge.errors / edge.calls)}), p95 {say_ms(edge.p95_ms)}"
        for edge in failing
    ]
    return lines
