"""Span tables as CSV/TSV (exports from Tempo, Honeycomb, Datadog, APM databases, or a query).

Which column is what is decided by csv_columns (names in any case or separator, checked
against the cells); the unit of bare durations by csv_units. Times may be epoch seconds,
milliseconds, microseconds or nanoseconds (told apart by size) or date text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from engine.evidence.components import canonical
from engine.evidence.timestamps import from_epoch, parse_timestamp_value
from engine.evidence.traces.csv_columns import SERVICE_SOURCES, Columns, find_columns
from engine.evidence.traces.csv_units import US_PER, bare_unit, split_duration
from engine.evidence.traces.parse import UNKNOWN_SERVICE, Parsed, Span

_ERROR_WORDS = {"error", "err", "failed", "failure", "fail", "status_code_error", "2"}
# What tables write for a root's parent, besides nothing, an all-zero id or a negative number.
_NO_PARENT = {"", "null", "none", "nil", "-"}
_NEGATIVE = re.compile(r"-\d+")
_FALSE_WORDS = {"", "false", "0", "no", "n", "ok", "none", "null", "unset"}
# Span kinds, including the entry/exit/local words some agents use for server/client/internal.
_KINDS = {
    "server": "server",
    "client": "client",
    "producer": "producer",
    "consumer": "consumer",
    "internal": "internal",
    "entry": "server",
    "exit": "client",
    "local": "internal",
}
_DELIMITERS = ",\t;|"
_SAMPLE_LINES = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _delimiter(header_line: str) -> str:
    return max(_DELIMITERS, key=header_line.count)


def _rows(lines: list[str]) -> list[list[str]] | None:
    """The table's rows, header first; None when the first line cannot be a header."""
    delimiter = _delimiter(lines[0])
    if lines[0].count(delimiter) < 2:
        return None
    try:
        return list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:  # a lone CR in the raw sample (detection runs before decoding)
        return None


def looks_like_span_table(text: str) -> bool:
    pieces = text.split("\n", _SAMPLE_LINES + 50)
    # The last piece of a sample may be a cut line (or the rest of the file): left out.
    lines = [line for line in pieces[:-1] or pieces if line.strip()]
    rows = _rows(lines[: _SAMPLE_LINES + 1]) if lines else None
    return rows is not None and find_columns(rows[0], rows[1:]).is_span_table


def _epoch_us(value: str) -> float | None:
    if value.isdigit():  # the usual epoch number, without the general parser's pattern match
        # 0 is what exporters write when they do not know.
        ts = from_epoch(int(value)) if value.strip("0") else None
    else:
        ts = parse_timestamp_value(value) if value else None
    return (ts - _EPOCH) / timedelta(microseconds=1) if ts is not None else None


def _parent(value: str) -> str | None:
    if value.lower() in _NO_PARENT or not value.strip("0") or _NEGATIVE.fullmatch(value):
        return None
    return value


def _status_error(value: str) -> bool:
    if value in _ERROR_WORDS or value.startswith("fail"):
        return True
    return value.isdigit() and len(value) == 3 and value >= "500"


class _TableReader:
    """Reads rows into spans; bare durations wait for the table's unit (see finish)."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        unit = columns.unit_word("duration")
        self.unit = US_PER[unit] if unit else None
        # Spans whose duration is a bare number, with that number and the row's end time.
        self.bare: list[tuple[Span, float, float | None]] = []
        self.checks: list[tuple[float, float]] = []  # (bare duration, end - start in µs)
        # Services read from pod or host names are reduced to their workload; peers are
        # reduced the same way so that they still compare equal.
        self.peer_name: Callable[[str], str] = str if columns.has("service") else canonical

    def span(self, cells: list[str]) -> Span | None:
        width = len(cells)
        values = {role: cells[i].strip() for role, i in self.columns.index.items() if i < width}

        def cell(role: str) -> str:
            return values.get(role, "")

        start, end = _epoch_us(cell("start")), _epoch_us(cell("end"))
        duration, bare = self._duration(cell("duration"))
        if duration is None and bare is None and start is not None and end is not None:
            duration = end - start
        if duration is not None and start is None and end is not None:
            start = end - duration
        if not cell("trace") or not cell("span"):
            return None
        value = duration if bare is None else bare
        if value is None or value < 0:
            return None
        span = Span(
            trace_id=cell("trace"),
            span_id=cell("span"),
            parent_id=_parent(cell("parent")),
            service=self._service(cell),
            operation=cell("operation"),
            start_us=start,
            duration_us=duration or 0.0,
            error=self._is_error(cells),
            kind=_KINDS.get(cell("kind").lower().removeprefix("span_kind_"), ""),
            peer=self.peer_name(cell("peer")) or None,
        )
        if bare is not None:
            self.bare.append((span, bare, end))
            if start is not None and end is not None:
                self.checks.append((bare, end - start))
        return span

    def _duration(self, value: str) -> tuple[float | None, float | None]:
        """(microseconds, None) when the unit is known; (None, number) when it is bare."""
        found = split_duration(value) if value else None
        if found is None:
            return None, None
        number, unit = found
        if unit is not None:
            return number * US_PER[unit], None
        return (number * self.unit, None) if self.unit else (None, number)

    def _service(self, cell: Callable[[str], str]) -> str:
        for role in SERVICE_SOURCES:
            if value := cell(role):
                # A pod "checkout-7d9f8c6b5-x2k4p" is one replica of the workload "checkout".
                return value if role == "service" else canonical(value)
        return UNKNOWN_SERVICE

    def _is_error(self, cells: list[str]) -> bool:
        def values(indices: list[int]) -> list[str]:
            return [cells[i].strip().lower() for i in indices if i < len(cells)]

        flagged = any(value not in _FALSE_WORDS for value in values(self.columns.flags))
        return flagged or any(map(_status_error, values(self.columns.statuses)))

    def finish(self) -> list[str]:
        """Gives bare durations the table's unit; the notes that say how it was chosen."""
        if not self.bare:
            return []
        scale, note = bare_unit([value for _, value, _ in self.bare], self.checks)
        for span, value, end in self.bare:
            span.duration_us = value * scale
            if span.start_us is None and end is not None:
                span.start_us = end - span.duration_us
        return [note]


def parse_span_table(text: str) -> tuple[Parsed, list[str]] | None:
    """Spans from a CSV/TSV span table, and notes; None when the header is not one."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    rows = _rows(lines[first:]) if first is not None else None
    if not rows:
        return None
    columns = find_columns(rows[0], rows[1 : _SAMPLE_LINES + 1])
    if not columns.is_span_table:
        return None
    reader = _TableReader(columns)
    parsed = Parsed("CSV span table")
    for cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        span = reader.span(cells)
        if span is None:
            parsed.skipped += 1
        else:
            parsed.spans.append(span)
    return parsed, reader.finish()
