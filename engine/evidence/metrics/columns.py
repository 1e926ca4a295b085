"""What each column of a CSV/TSV export is: the time, a metric name, a label, a value, or text.

Decided from a sample of rows, so a Grafana export (`Time,series A,series B`), a long-format
dump (`timestamp,metric,host,value`) and a log export (`timestamp,level,message`) are told
apart by their content; header names only break ties.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.evidence.timestamps import parse_timestamp_value

SAMPLE_ROWS = 50
MAX_COLUMNS = 1000  # classified; wider files are dumps whose later columns are ignored
NUMERIC_SHARE = 0.9  # of a column's non-empty cells that must be numbers
TIME_SHARE = 0.8

# "time", "Time", "timestamp_ms", "ts", "date (UTC)", "_time" (InfluxDB), "@timestamp"
_TIME_NAME = re.compile(r"[_@]?(?:time|timestamp|ts|date|datetime|epoch)(?:$|[\s_(])")
METRIC_NAMES = frozenset(["metric", "metric_name", "__name__", "name", "series", "measurement"])
VALUE_NAMES = frozenset(["value", "val", "_value", "y"])
# Columns of log exports: text under these names makes the file a log, not metrics.
_TEXT_NAME = re.compile(
    r"message|msg|log|text|event|description|body|line|error|exception|stack_?trace"
    r"|level|severity|log_?level"
)
_MISSING = frozenset({"", "null", "none", "nan", "-", "n/a", "na"})
_CELL = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z%/]+)?")
# Cell unit -> (what it measures, factor to the family's base), so "980 ms" and "1.2 s" in one
# column (Grafana's formatted export) become comparable numbers.
_UNITS: dict[str, tuple[str, float]] = {
    "ns": ("time", 1e-9),
    "us": ("time", 1e-6),
    "ms": ("time", 1e-3),
    "s": ("time", 1.0),
    "b": ("bytes", 1.0),
    "kb": ("bytes", 1e3),
    "mb": ("bytes", 1e6),
    "gb": ("bytes", 1e9),
    "tb": ("bytes", 1e12),
    "kib": ("bytes", 2.0**10),
    "mib": ("bytes", 2.0**20),
    "gib": ("bytes", 2.0**30),
    "tib": ("bytes", 2.0**40),
    "%": ("percent", 1.0),
    "/s": ("rate", 1.0),
    "req/s": ("rate", 1.0),
    "ops/s": ("rate", 1.0),
    "rps": ("rate", 1.0),
    "qps": ("rate", 1.0),
}
_EPOCH_RANGE = (1e8, 1e19)  # 1973 in seconds .. 2286 in nanoseconds: bare numbers that are times


def norm(header: str) -> str:
    return header.strip().strip("\"'").lower()


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in _MISSING


def cell_value(cell: str) -> tuple[float, str | None] | None:
    """A number with an optional known unit ('850 ms', '1.2GiB', '45%'); None otherwise."""
    m = _CELL.fullmatch(cell.strip().replace("µ", "u"))
    if m is None:
        return None
    unit = m.group(2)
    if unit is not None:
        unit = unit.lower()
        if unit not in _UNITS:
            return None
    return float(m.group(1)), unit


def convert(value: float, unit: str | None, column_unit: str | None) -> float | None:
    """`value` in the column's unit; None when the units measure different things."""
    if unit == column_unit or unit is None or column_unit is None:
        return value
    (family, factor), (column_family, column_factor) = _UNITS[unit], _UNITS[column_unit]
    return value * factor / column_factor if family == column_family else None


def time_value(cell: str) -> float | None:
    """Epoch seconds from epoch numbers (s/ms/µs/ns), ISO and log-style dates, or None."""
    cell = cell.strip().strip("\"'")
    if not cell:
        return None
    ts = parse_timestamp_value(cell)
    if ts is None:
        try:  # dates without a time ("2026-11-21") and "T14:00" without seconds
            ts = datetime.fromisoformat(cell)
        except ValueError:
            return None
        ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.timestamp()


@dataclass(slots=True)
class Layout:
    header: list[str]
    time: int | None = None
    metric: int | None = None
    labels: list[int] = field(default_factory=list)
    values: list[int] = field(default_factory=list)
    units: dict[int, str | None] = field(default_factory=dict)
    text: list[int] = field(default_factory=list)  # free text (log messages): never series
    unclassified: int = 0  # columns past MAX_COLUMNS

    @property
    def long(self) -> bool:
        return self.metric is not None or bool(self.labels)


def _share(cells: list[str], test: Callable[[str], object]) -> float:
    return sum(1 for c in cells if test(c) is not None) / len(cells) if cells else 0.0


def _is_free_text(name: str, cells: list[str]) -> bool:
    if _TEXT_NAME.fullmatch(norm(name)):
        return True
    spaced = [c for c in cells if " " in c.strip()]
    return len(spaced) > len(cells) / 2 and sum(map(len, cells)) > 24 * len(cells)


def _time_like(cell: str) -> float | None:
    """A date, or a bare number big enough to be epoch time: a column named
    `time_to_first_byte_ms` holds durations, not times."""
    number = cell_value(cell)
    if number is None:
        return time_value(cell)
    low, high = _EPOCH_RANGE
    return number[0] if number[1] is None and low <= number[0] < high else None


def _rising_epochs(cells: list[str]) -> bool:
    numbers = [cell_value(c) for c in cells]
    values = [n[0] for n in numbers if n is not None and n[1] is None]
    return len(values) == len(cells) > 0 and all(a <= b for a, b in itertools.pairwise(values))


def _time_column(header: list[str], columns: list[list[str]]) -> int | None:
    """Named time columns first, then dates in text, then rising epoch numbers up front."""
    for j, cells in enumerate(columns):
        if _TIME_NAME.match(norm(header[j])) and _share(cells, _time_like) >= TIME_SHARE:
            return j
    for j, cells in enumerate(columns):
        if _share(cells, cell_value) < 0.5 and _share(cells, time_value) >= TIME_SHARE:
            return j
    first = columns[0] if len(columns) > 1 else []
    if _share(first, _time_like) >= TIME_SHARE and _rising_epochs(first):
        return 0
    return None


def classify(header: list[str], rows: list[list[str]]) -> Layout:
    """Classify the first MAX_COLUMNS columns from `rows`, a sample of the data rows."""
    width = min(len(header), MAX_COLUMNS)
    columns = [
        [row[j] for row in rows if j < len(row) and not is_missing(row[j])] for j in range(width)
    ]
    layout = Layout(header, unclassified=len(header) - width)
    layout.time = _time_column(header, columns)
    for j, cells in enumerate(columns):
        if j == layout.time or not cells:
            continue
        if _TIME_NAME.match(norm(header[j])) and _share(cells, _time_like) >= TIME_SHARE:
            continue  # the same time again as epoch numbers (`Time,Timestamp,...`): no series
        parsed = [cell_value(c) for c in cells]
        numbers = [p for p in parsed if p is not None]
        if len(numbers) >= NUMERIC_SHARE * len(cells):
            layout.values.append(j)
            units = Counter(unit for _, unit in numbers if unit is not None)
            layout.units[j] = units.most_common(1)[0][0] if units else None
        elif _is_free_text(header[j], cells):
            layout.text.append(j)
        elif _share(cells, time_value) >= TIME_SHARE:
            continue  # a second date column (window start/end) names nothing
        elif norm(header[j]) in METRIC_NAMES and layout.metric is None:
            layout.metric = j
        else:
            layout.labels.append(j)
    return layout
