"""Prometheus formats: exposition text (a `/metrics` scrape) and query API JSON.

A scrape is one instant: each series has one value, so the interesting part is which values
are notable (error counters above zero, targets down), not a trend. Query JSON
(`query_range`) is real time series.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from engine.core.errors import EvidenceRejected
from engine.evidence.bounded import TooComplex, load_json
from engine.evidence.metrics.series import (
    MAX_SERIES,
    NO_TIME,
    ParsedMetrics,
    RawSeries,
    SeriesTable,
    cap_note,
    is_error_like,
    metric_part,
    parse_number,
    series_name,
)
from engine.evidence.timestamps import parse_timestamp_value

_SAMPLE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(?:\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})?'
    r"[ \t]+(\S+)(?:[ \t]+(\S+))?[ \t]*(?:#.*)?"  # value, timestamp, OpenMetrics exemplar
)
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = re.compile(r"\\(.)")
_META = re.compile(r"#\s*(?:HELP|TYPE|UNIT)\s+[a-zA-Z_:][a-zA-Z0-9_:]*(?:\s|$)")
# A scrape holds every series once; a file this many times larger than the cap is counted,
# not kept, so a huge dump cannot exhaust memory.
_MAX_TRACKED = 100 * MAX_SERIES


def _labels(text: str | None) -> list[tuple[str, str]]:
    if not text:
        return []
    return [
        (key, _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), value))
        for key, value in _LABEL.findall(text)
    ]


def _epoch(value: object) -> float:
    ts = parse_timestamp_value(value)
    return ts.timestamp() if ts is not None else NO_TIME


def looks_like_exposition(lines: Iterable[str], labels_required: bool = True) -> bool:
    """HELP/TYPE comments, or only `name{labels} value` lines (with a label set somewhere
    unless `labels_required` is off: `ok 200` alone is too little to call a scrape)."""
    samples = others = 0
    labelled = False
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if _META.match(line):
            return True
        if line.startswith("#"):
            continue
        m = _SAMPLE.fullmatch(line)
        if m and parse_number(m.group(3)) is not None:
            samples += 1
            labelled = labelled or m.group(2) is not None
        else:
            others += 1
    return (labelled or not labels_required) and samples >= 2 and others == 0


def _rank(series: RawSeries) -> tuple[int, int]:
    """Notable first: non-zero error counters and down targets, then all but histogram buckets."""
    value = series.values[-1]
    metric = metric_part(series.name)
    notable = (is_error_like(series.name) and value > 0) or (metric == "up" and value == 0)
    return (0 if notable else 1, 1 if metric.endswith("_bucket") else 0)


def parse_exposition(lines: Iterable[str]) -> ParsedMetrics:
    """Samples grouped by series; a file of several scrapes (with timestamps) is a time series."""
    found: dict[str, RawSeries] = {}
    untracked: set[str] = set()
    bad = 0
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.fullmatch(line)
        value = parse_number(m.group(3)) if m else None
        if m is None or value is None:
            bad += 1
            continue
        name = series_name(m.group(1), _labels(m.group(2)))
        series = found.get(name)
        if series is None:
            if len(found) >= _MAX_TRACKED:
                if len(untracked) < _MAX_TRACKED:  # the count becomes a floor, memory stays bounded
                    untracked.add(name)
                continue
            series = found[name] = RawSeries(name)
        series.add(_epoch(m.group(4)) if m.group(4) else NO_TIME, value)
    if not found:
        raise EvidenceRejected(
            "The file looks like Prometheus text but has no valid `name{labels} value` samples."
        )
    notes = []
    if bad:
        notes.append(f"{bad:,} lines were not valid Prometheus samples and were skipped")
    count = len(found) + len(untracked)
    ranked = sorted(found.values(), key=_rank)  # stable: file order within each rank
    if count > MAX_SERIES:
        notes.append(cap_note(count, "most notable"))
    if _single_instant(ranked):
        notes.append("a single scrape (one value per series), so there is no time series")
    return ParsedMetrics("prometheus-text", ranked[:MAX_SERIES], count, notes)


def looks_like_query_json(head: str) -> bool:
    start = head.lstrip()[:1]
    return start in ("{", "[") and (
        '"resultType"' in head or ('"metric"' in head and '"value' in head)
    )


def _load(text: str) -> Any:
    try:
        return load_json(text)
    except TooComplex as exc:
        raise EvidenceRejected(f"The file is {exc}, so its metrics cannot be read.") from None
    except json.JSONDecodeError as exc:
        raise EvidenceRejected(
            f"The file looks like JSON but does not parse (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg})."
        ) from None


def _result(doc: Any) -> tuple[str, Any]:
    """(resultType, result) from a full API response, its `data`, or a bare result list."""
    if isinstance(doc, list):
        return (
            "matrix" if any(isinstance(i, dict) and "values" in i for i in doc) else "vector"
        ), doc
    if not isinstance(doc, dict):
        raise EvidenceRejected("The JSON is not a Prometheus query response (no data.result).")
    if doc.get("status") == "error":
        raise EvidenceRejected(
            f"The file is a Prometheus error response ({doc.get('errorType', 'error')}: "
            f"{doc.get('error', 'no message')}), not metrics."
        )
    data = doc.get("data", doc)
    if not isinstance(data, dict) or "result" not in data:
        raise EvidenceRejected("The JSON is not a Prometheus query response (no data.result).")
    return str(data.get("resultType", "matrix")), data["result"]


def _pairs(item: dict[str, Any], result_type: str) -> Iterator[tuple[float, float]]:
    raw = item.get("values") if result_type == "matrix" else [item.get("value")]
    for pair in raw if isinstance(raw, list) else []:
        if isinstance(pair, list) and len(pair) == 2:
            value = parse_number(str(pair[1]))
            if value is not None:
                yield _epoch(pair[0]), value


def parse_query_json(text: str) -> ParsedMetrics:
    result_type, result = _result(_load(text))
    if result_type in ("scalar", "string"):
        result = [{"metric": {"__name__": result_type}, "value": result}]
        result_type = "vector"
    if not isinstance(result, list):
        raise EvidenceRejected("The JSON is not a Prometheus query response (no data.result).")
    table = SeriesTable()
    for number, item in enumerate(result, start=1):
        if not isinstance(item, dict):
            continue
        labels = item.get("metric")
        labels = labels if isinstance(labels, dict) else {}
        metric = str(labels.get("__name__", ""))
        name = series_name(metric, ((str(k), str(v)) for k, v in sorted(labels.items())))
        series = table.get(name or f"series {number}")
        if series is not None:
            for ts, value in _pairs(item, result_type):
                series.add(ts, value)
    parsed = table.parsed(f"prometheus-json-{result_type}", [])
    parsed.series = [s for s in parsed.series if s.values]
    if not parsed.series:
        raise EvidenceRejected("The Prometheus query response has no samples in it.")
    if result_type == "vector":
        parsed.notes.append("an instant query (one value per series), so there is no time series")
    return parsed


def _single_instant(series: list[RawSeries]) -> bool:
    """Every series has one point, or every point has the same time (or none has one)."""
    if all(len(s.values) == 1 for s in series):
        return True
    times = {t for s in series for t in s.times}
    return len(times) == 1 and not math.isnan(next(iter(times)))
