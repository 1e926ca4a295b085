"""Metrics evidence: an uploaded metrics file -> MetricsReport, and the words about it.

Formats are recognised from content, since people name uploads `export.csv` or `data.txt`:
Prometheus exposition text (a `/metrics` scrape), CSV/TSV time series (wide or long) and
Prometheus query API JSON (`query_range` matrices, `query` vectors). The parsers live in
`metrics_prom` and `metrics_csv`, the statistics in `metrics_stats`, the wording in
`metrics_summary`; this module picks the parser and assembles the report.
"""

from __future__ import annotations

import hashlib

from engine.core.errors import EvidenceRejected
from engine.evidence.decode import decode_text
from engine.evidence.metrics.csv_series import looks_like_csv, parse_csv
from engine.evidence.metrics.entities import assign_components
from engine.evidence.metrics.prometheus import (
    looks_like_exposition,
    looks_like_query_json,
    parse_exposition,
    parse_query_json,
)
from engine.evidence.metrics.report import LevelShift, MetricsReport, SeriesStats, Spike
from engine.evidence.metrics.series import ParsedMetrics
from engine.evidence.metrics.stats import analyze_series
from engine.evidence.metrics.summary import describe_series, summarize_metrics

__all__ = [
    "LevelShift",
    "MetricsReport",
    "SeriesStats",
    "Spike",
    "analyze_metrics",
    "describe_series",
    "looks_like_metrics",
    "summarize_metrics",
]

_SNIFF_CHARS = 1 << 20  # enough for whole rows of a 10,000-column export
_SNIFF_LINES = 50
# Names that say "scrape" outright; for them, samples without labels are enough.
_EXPOSITION_NAMES = (".prom", ".metrics", ".om", "metrics.txt")


def _head_lines(text: str) -> list[str]:
    """The first lines, without one the sniff window cut in the middle."""
    head = text[:_SNIFF_CHARS]
    parts = head.split("\n", _SNIFF_LINES)
    if len(parts) > _SNIFF_LINES:
        return parts[:_SNIFF_LINES]  # the rest of the text is the last part
    return parts[:-1] or parts if len(text) > len(head) else parts


def _named_exposition(name: str) -> bool:
    return name.lower().endswith(_EXPOSITION_NAMES)


def looks_like_metrics(name: str, text: str) -> bool:
    """Cheap content check on the start of the file; never claims logs or CSV log exports."""
    head = text[:_SNIFF_CHARS]
    if looks_like_query_json(head[:4096]):
        return True
    if head.lstrip()[:1] in ("{", "["):
        return False  # JSON logs, JSON configs
    lines = _head_lines(text)
    if looks_like_exposition(lines, labels_required=not _named_exposition(name)):
        return True
    return looks_like_csv(lines)


def _parse(name: str, text: str) -> ParsedMetrics:
    if text.lstrip()[:1] in ("{", "["):
        return parse_query_json(text)
    if looks_like_exposition(_head_lines(text), labels_required=not _named_exposition(name)):
        return parse_exposition(text.split("\n"))
    return parse_csv(text.split("\n"))


def analyze_metrics(name: str, data: bytes) -> MetricsReport:
    """Analyze one uploaded metrics file; raises EvidenceRejected when it cannot be read."""
    decoded = decode_text(data)
    parsed = _parse(name, decoded.text)
    assign_components(parsed, name)
    series: list[SeriesStats] = []
    dropped = rates = 0
    for raw in parsed.series:
        stats, lost, rate = analyze_series(raw)
        dropped += lost
        rates += rate
        if stats is not None:
            series.append(stats)
    if not series:
        raise EvidenceRejected(
            "The file has no usable numbers in it (every value is NaN, infinite or beyond "
            "±1e300, where sums overflow), so there is nothing to analyze."
        )
    notes = [*decoded.notes, *parsed.notes]
    if dropped:
        notes.append(
            f"{dropped:,} NaN, infinite or out-of-range (beyond ±1e300) values were left out "
            "of the statistics"
        )
    if rates:
        notes.append("counters (…_total) are shown as per-second rates, rate(…)")
    starts = [s.first_ts for s in series if s.first_ts is not None]
    ends = [s.last_ts for s in series if s.last_ts is not None]
    return MetricsReport(
        name=name,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format=parsed.format,
        series=series,
        series_count=max(parsed.series_count, len(series)),
        first_ts=min(starts, default=None),
        last_ts=max(ends, default=None),
        notes=notes,
    )
