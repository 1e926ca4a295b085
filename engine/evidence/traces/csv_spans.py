"""Span tables as CSV/TSV (exports from Tempo, Honeycomb, Datadog, or a hand-made query).

Column names differ between tools, so each role has a list of accepted names, compared after
lower-casing and turning every run of non-alphanumerics into "_" ("Trace ID" = "trace_id").
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta

from engine.evidence.timestamps import parse_timestamp_value
from engine.evidence.traces.parse import UNKNOWN_SERVICE, Parsed, Span

_COLUMNS: dict[str, tuple[str, ...]] = {
    "trace": ("trace_id", "traceid", "trace"),
    "span": ("span_id", "spanid", "span", "id"),
    "parent": ("parent_span_id", "parent_id", "parentspanid", "parentid", "parent_span", "parent"),
    "service": ("service", "service_name", "servicename", "resource_service_name"),
    "operation": ("operation", "operation_name", "operationname", "span_name", "name", "endpoint"),
    "start": ("start_time", "start", "starttime", "start_ts", "start_time_unix_nano", "timestamp"),
    "end": ("end_time", "end", "endtime", "end_ts", "end_time_unix_nano"),
    "duration": (
        "duration_ms",
        "duration_us",
        "duration_ns",
        "duration_s",
        "duration",
        "latency_ms",
        "latency",
        "elapsed_ms",
    ),
}
# Every column that can say a span failed; any of them saying so makes it an error.
_FLAG_COLUMNS = ("error", "is_error", "failed", "has_error")
_STATUS_COLUMNS = ("status", "status_code", "otel_status_code", "span_status", "http_status_code")
_ERROR_WORDS = {"error", "err", "failed", "failure", "fail", "status_code_error", "2"}
# What tables write for a root's parent (besides nothing, or an all-zero id).
_NO_PARENT = {"", "null", "none", "nil", "-"}
_FALSE_WORDS = {"", "false", "0", "no", "n", "ok", "none", "null", "unset"}

_US_PER = {"ns": 1e-3, "us": 1.0, "µs": 1.0, "μs": 1.0, "ms": 1e3, "s": 1e6, "m": 6e7}
_SUFFIX_UNIT = {"_ms": "ms", "_us": "us", "_ns": "ns", "_s": "s"}
_DURATION = re.compile(r"\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(ns|us|µs|μs|ms|s|m)?\s*")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_DELIMITERS = ",\t;|"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _normalise(header: str) -> str:
    return _NON_WORD.sub("_", header.strip().lower()).strip("_")


def _delimiter(header_line: str) -> str:
    return max(_DELIMITERS, key=header_line.count)


def _roles(headers: list[str]) -> dict[str, int]:
    """Column index per role; a role's earlier names win over later ones."""
    names = [_normalise(header) for header in headers]
    roles: dict[str, int] = {}
    for role, accepted in _COLUMNS.items():
        for name in accepted:
            if name in names and names.index(name) not in roles.values():
                roles[role] = names.index(name)
                break
    return roles


def _is_span_table(roles: dict[str, int]) -> bool:
    return (
        {"trace", "span"} <= roles.keys()
        and ("duration" in roles or {"start", "end"} <= roles.keys())
        and ("service" in roles or "operation" in roles)
    )


def looks_like_span_table(text: str) -> bool:
    header = next((line for line in text.split("\n", 20) if line.strip()), "")
    delimiter = _delimiter(header)
    if header.count(delimiter) < 2:
        return False
    try:
        cells = next(csv.reader([header], delimiter=delimiter))
    except csv.Error:  # a lone CR in the raw sample (detection runs before decoding)
        return False
    return _is_span_table(_roles(cells))


def _duration_us(value: str, column: str) -> tuple[float | None, bool]:
    """Microseconds, and whether the unit had to be guessed (a bare number, read as ms)."""
    m = _DURATION.fullmatch(value)
    if not m:
        return None, False
    unit = m.group(2) or next((u for s, u in _SUFFIX_UNIT.items() if column.endswith(s)), None)
    return float(m.group(1)) * _US_PER[unit or "ms"], unit is None


def _epoch_us(value: str) -> float | None:
    ts = parse_timestamp_value(value.strip())
    return (ts - _EPOCH) / timedelta(microseconds=1) if ts is not None else None


def _is_error(row: dict[str, str]) -> bool:
    for column, raw in row.items():
        value = raw.strip().lower()
        if column in _FLAG_COLUMNS and value not in _FALSE_WORDS:
            return True
        if column in _STATUS_COLUMNS:
            if value in _ERROR_WORDS or value.startswith("fail"):
                return True
            if value.isdigit() and len(value) == 3 and value >= "500":
                return True
    return False


class _TableReader:
    def __init__(self, headers: list[str]) -> None:
        self.roles = _roles(headers)
        self.names = [_normalise(header) for header in headers]
        self.guessed_unit = False

    def span(self, cells: list[str]) -> Span | None:
        def cell(role: str) -> str:
            index = self.roles.get(role)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        start = _epoch_us(cell("start")) if cell("start") else None
        duration: float | None = None
        if cell("duration"):
            column = self.names[self.roles["duration"]]
            duration, guessed = _duration_us(cell("duration"), column)
            self.guessed_unit = self.guessed_unit or guessed
        elif start is not None and cell("end"):
            end = _epoch_us(cell("end"))
            duration = end - start if end is not None else None
        if not cell("trace") or not cell("span") or duration is None or duration < 0:
            return None
        parent = cell("parent")
        return Span(
            trace_id=cell("trace"),
            span_id=cell("span"),
            parent_id=None if parent.lower() in _NO_PARENT or not parent.strip("0") else parent,
            service=cell("service") or UNKNOWN_SERVICE,
            operation=cell("operation"),
            start_us=start,
            duration_us=duration,
            error=_is_error(dict(zip(self.names, cells, strict=False))),
        )


def parse_span_table(text: str) -> tuple[Parsed, list[str]] | None:
    """Spans from a CSV/TSV span table, and notes; None when the header is not one."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return None
    rows = csv.reader(lines[start:], delimiter=_delimiter(lines[start]))
    reader = _TableReader(next(rows))
    if not _is_span_table(reader.roles):
        return None
    parsed = Parsed("CSV span table")
    for cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        span = reader.span(cells)
        if span is None:
            parsed.skipped += 1
        else:
            parsed.spans.append(span)
    notes = []
    if reader.guessed_unit:
        notes.append("durations without a unit were read as milliseconds")
    return parsed, notes
