"""Logs exported as CSV (Kibana, Datadog, Loki, Splunk, CloudWatch...): one record per row.

The header names the columns; each row becomes a dict and goes through the same field rules
as a JSON log line (`structured.from_json`: time, level, message, service, host...), so a
quoted multi-line message (a stack trace) stays one record. Splunk's `_raw` column holds
the original line, which is parsed as a line of its own; a message cell that holds a record
(a runtime's JSON, a CRI line) is opened by `records`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from engine.evidence.logs import structured

MAX_FIELD_CHARS = 1 << 20


def csv_log_dialect(first_line: str) -> str | None:
    """The delimiter when `first_line` is the header of a CSV log export, else None."""
    for delimiter in (",", "\t", ";", "|"):
        if delimiter not in first_line:
            continue
        # Named in any case or spelling: "Timestamp", "@timestamp", "Log Line" -> "logline".
        names = {structured.normalise(c) for c in first_line.split(delimiter)}
        # A message column is what makes a CSV a log export rather than a metrics table.
        if (
            len(names) >= 2
            and names & structured.MESSAGE_COLUMNS
            and names & structured.TIME_COLUMNS
        ):
            return delimiter
    return None


class CsvRow:
    """One exported row: the line it starts on, and either fields or a raw line."""

    __slots__ = ("fields", "line", "raw")

    def __init__(self, line: int, fields: structured.Fields | None, raw: str | None) -> None:
        self.line = line
        self.fields = fields
        self.raw = raw


def iter_csv_rows(lines: Iterable[str], delimiter: str, year: int | None) -> Iterator[CsvRow]:
    """Rows after the header, with the 1-based line each starts on."""
    csv.field_size_limit(MAX_FIELD_CHARS)
    counted = _Counted(lines)
    reader = csv.reader(counted, delimiter=delimiter)
    header = [name.strip() for name in next(reader, [])]
    lowered = [name.lower() for name in header]
    has_message = bool({"message", "msg"} & {structured.normalise(name) for name in header})
    raw_at = lowered.index("_raw") if "_raw" in lowered and not has_message else None
    for row in reader:
        start = counted.row_start
        if not row or not any(cell.strip() for cell in row):
            continue
        if raw_at is not None and raw_at < len(row):
            yield CsvRow(start, None, row[raw_at])
            continue
        # The field rules read any spelling of a column's name: "Level", "PodName".
        obj: dict[str, object] = dict(zip(header, row, strict=False))
        yield CsvRow(start, structured.from_json(obj, year), None)


class _Counted:
    """The lines, with the number of the line where the current CSV row began."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.number = 0
        self.row_start = 0
        self._in_row = False

    def __iter__(self) -> _Counted:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.number += 1
        if not self._in_row:
            self.row_start = self.number
        # A row goes on while a quoted field is open (an odd number of quotes so far).
        self._in_row = (line.count('"') % 2 == 1) != self._in_row
        return line + "\n"  # the csv module keeps line breaks inside quoted fields
