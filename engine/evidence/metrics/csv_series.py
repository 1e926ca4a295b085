"""CSV/TSV time series -> ParsedMetrics: wide (one column per series) or long
(`timestamp,metric,labels...,value`, one row per point)."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator

from engine.core.errors import EvidenceRejected
from engine.core.wording import plural
from engine.evidence.metrics.columns import (
    MAX_COLUMNS,
    SAMPLE_ROWS,
    VALUE_NAMES,
    Layout,
    cell_value,
    classify,
    convert,
    is_missing,
    norm,
    time_value,
)
from engine.evidence.metrics.series import (
    MAX_SERIES,
    NO_TIME,
    ParsedMetrics,
    SeriesTable,
    cap_note,
    series_name,
)

_SNIFF_ROWS = 30
NOT_METRICS = (
    "The file is not in a metrics format FaultMaven reads: Prometheus text, a CSV/TSV time "
    "series or Prometheus query JSON."
)
# Cell units are matched in lower case; shown the way people write them.
_UNIT_DISPLAY = {
    "us": "µs",
    "b": "bytes",
    "kb": "kB",
    "mb": "MB",
    "gb": "GB",
    "tb": "TB",
    "kib": "KiB",
    "mib": "MiB",
    "gib": "GiB",
    "tib": "TiB",
}


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])  # ties: tab, then comma (dict order)
    return best if counts[best] else ","


def _content(lines: Iterable[str]) -> Iterator[str]:
    """Lines without blanks and `#` comment lines (InfluxDB annotations, exporter banners)."""
    return (line for line in lines if line.strip() and not line.lstrip().startswith("#"))


def _is_data_row(row: list[str]) -> bool:
    """A first row of numbers and times is data: the file has no header."""
    return all(
        is_missing(c) or cell_value(c) is not None or time_value(c) is not None for c in row
    ) and any(cell_value(c) is not None for c in row)


def _start(lines: Iterable[str], sample_rows: int) -> tuple[Layout, Iterator[list[str]], str]:
    """(layout, all data rows, the delimiter)."""
    content = _content(lines)
    first = next(content, None)
    if first is None:
        raise EvidenceRejected("The file has no rows, so there are no metrics to analyze.")
    delimiter = _delimiter(first)
    reader = csv.reader(itertools.chain([first], content), delimiter=delimiter)
    header = next(reader)
    has_header = not _is_data_row(header)
    sample = list(itertools.islice(reader, sample_rows))
    if has_header:
        header = [h.strip() for h in header]
    else:
        sample.insert(0, header)
        header = [f"column {j + 1}" for j in range(len(header))]
    return classify(header, sample), itertools.chain(sample, reader), delimiter


def looks_like_csv(lines: Iterable[str]) -> bool:
    """A header (or not), a time column, numeric columns, and no free-text (log) columns."""
    try:
        layout, rows, _ = _start(lines, _SNIFF_ROWS)
    except (EvidenceRejected, csv.Error):
        return False
    sample = list(itertools.islice(rows, _SNIFF_ROWS))
    width = len(layout.header)
    regular = sum(1 for row in sample if len(row) == width)
    return (
        width >= 2
        and bool(sample)
        and regular >= 0.8 * len(sample)
        and layout.time is not None
        and bool(layout.values)
        and not layout.text
    )


def _were(n: int, noun: str) -> str:
    return f"{plural(n, noun)} {'was' if n == 1 else 'were'}"


class _Reader:
    """Rows -> series, with counts of what had to be skipped for the notes."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.table = SeriesTable()
        self.values = layout.values if layout.long else layout.values[:MAX_SERIES]
        self.rows = self.ragged = self.bad_time = self.bad_cells = 0
        self.wide_names: dict[int, str] = {}
        for j in self.values:  # a repeated header must not merge two columns into one series
            name = layout.header[j] or f"column {j + 1}"
            seen = name in self.wide_names.values()
            self.wide_names[j] = f"{name} (column {j + 1})" if seen else name

    def _name(self, row: list[str], j: int) -> str:
        layout, header = self.layout, self.layout.header
        if not layout.long:
            return self.wide_names[j]
        metric = header[j]
        if layout.metric is not None:
            given = row[layout.metric].strip() if layout.metric < len(row) else ""
            if len(self.values) == 1 or norm(header[j]) in VALUE_NAMES:
                metric = given or header[j]
            else:
                metric = f"{given}_{header[j]}" if given else header[j]
        labels = ((header[k], row[k].strip() if k < len(row) else "") for k in layout.labels)
        return series_name(metric, labels)

    def add(self, row: list[str]) -> None:
        layout = self.layout
        self.rows += 1
        if len(row) != len(layout.header):
            self.ragged += 1
        ts = NO_TIME
        if layout.time is not None:
            parsed = time_value(row[layout.time]) if layout.time < len(row) else None
            if parsed is None:
                self.bad_time += 1
                return
            ts = parsed
        for j in self.values:
            if j >= len(row) or is_missing(row[j]):
                continue
            cell = cell_value(row[j])
            value = convert(*cell, layout.units.get(j)) if cell else None
            if value is None:
                self.bad_cells += 1
                continue
            series = self.table.get(self._name(row, j))
            if series is not None:
                if not series.values and layout.units.get(j):
                    unit = layout.units[j] or ""
                    series.unit = _UNIT_DISPLAY.get(unit, unit)
                series.add(ts, value)

    def notes(self) -> list[str]:
        notes = []
        layout = self.layout
        if layout.time is None:
            notes.append("no time column found, so points are in row order without times")
        if self.ragged:
            notes.append(
                f"{plural(self.ragged, 'row')} had a different number of cells than the header; "
                "missing cells were skipped and extra ones ignored"
            )
        if self.bad_time:
            notes.append(f"{_were(self.bad_time, 'row')} skipped: no readable time")
        if self.bad_cells:
            notes.append(f"{_were(self.bad_cells, 'cell')} skipped: not a number")
        if layout.text:
            names = ", ".join(f"'{layout.header[j]}'" for j in layout.text[:3])
            notes.append(f"text columns ({names}) are not metrics and were ignored")
        return notes


def _series_count(layout: Layout) -> int:
    """Wide files: every numeric column, plus the unclassified ones past MAX_COLUMNS."""
    return len(layout.values) + layout.unclassified


def parse_csv(lines: Iterable[str]) -> ParsedMetrics:
    try:
        layout, rows, delimiter = _start(lines, SAMPLE_ROWS)
        reader = _Reader(layout)
        for row in rows:
            reader.add(row)
    except csv.Error as exc:
        raise EvidenceRejected(f"The file could not be read as CSV ({exc}).") from None
    if not layout.values:
        raise EvidenceRejected(
            NOT_METRICS
            if len(layout.header) < 2
            else "The table has a header but no data rows, so there are no metrics to analyze."
            if reader.rows == 0
            else "The table has no columns of numbers, so there are no metrics to analyze."
        )
    fmt = f"{'tsv' if delimiter == chr(9) else 'csv'}-{'long' if layout.long else 'wide'}"
    notes = reader.notes()
    if layout.long:
        parsed = reader.table.parsed(fmt, notes)
    else:
        count = _series_count(layout)
        if count > len(reader.values):
            notes.append(cap_note(count))
        if layout.unclassified:
            notes.append(f"columns after the first {MAX_COLUMNS:,} were not read")
        parsed = ParsedMetrics(fmt, list(reader.table.by_name.values()), count, notes)
    parsed.series = [s for s in parsed.series if s.values]
    if not parsed.series:
        raise EvidenceRejected("The table has a header but no rows with numbers to analyze.")
    return parsed
