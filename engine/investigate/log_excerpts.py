"""The most telling parts of a log: where it first failed, with what came before and after.

- the first error of the incident window (where the file's error rate rose), with the 10
  records before and after it, INFO included (what the service was doing), and its whole
  stack; the first error of the file as well when it came before (often one that was always
  there: it weighs less then);
- each template (records that differ only in values) that is an error or a warning, or that
  is new, surging or gone quiet in the window: its count, level and change, with its first
  record as an example (and the head of its stack);
- what changed in the window, in the words of the report.

Records are read with the engine's own log reader (so a 40-line stack trace is one record,
and a JSON line's stack field is its stack) over the first MAX_RECORD_SCAN_CHARS of the
file; beyond that, and for files that are one JSON document, the report's line numbers and
examples are used. A JSON record is shown as its time, level, source and message (its other
fields cost tokens and rarely matter); any other record as written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.evidence.logs.csv_rows import csv_log_dialect
from engine.evidence.logs.header_stream import iter_log_records
from engine.evidence.logs.levels import ERROR_LEVELS, WARN
from engine.evidence.logs.records import Record, iter_csv_records
from engine.evidence.logs.report import LogAnomaly, LogReport, TemplateStats
from engine.evidence.logs.summary import describe_changes, rate
from engine.investigate.parts import LINE_CHARS, Part, SafeLines

MAX_RECORD_SCAN_CHARS = 4_000_000  # about 2 s of reading, once per upload
CONTEXT = 10  # records before and after an error
NEAR = 3  # of them, shown with the error itself
STACK_LINES = 25  # of the error's own stack
EXAMPLE_STACK = 8  # of a template example's stack
FOLLOWER_LINES = 6  # of a record logged with the error, right after it
MAX_TEMPLATES = 40
TEMPLATE_WINDOWS = 3  # error templates, most frequent first, whose first record gets a window
NEIGHBOUR_CHARS = 240  # a neighbour record's line is cut here
APPEARED_AFTER = timedelta(minutes=5)  # a template first seen this long into a file is new
PRECURSOR_COUNT = 3  # and repeated this often, it may be what led up to the incident

W_FIRST_IN_WINDOW = 7.0  # the first error where the error rate rose, or in the window
W_FIRST_ERROR_LEAD = 6.5  # no incident window known: the file's first error is the lead
W_TEMPLATE_WINDOW = 4.5  # the first record of a main error template
W_FIRST_ERROR_BEFORE = 3.0  # before the window: often an error that was always there
W_CONTEXT_BEFORE = 4.0  # what the service did before the error (INFO included)
W_CONTEXT_AFTER = 3.2
W_CONTEXT_OUTSIDE = 1.5  # around an error before the window: noise
W_CHANGES = 2.5  # the timeline and the templates say it too
W_ERROR_CHANGED, W_ERROR = 5.5, 3.0
W_WARN_CHANGED, W_WARN = 4.5, 2.5
W_OTHER_CHANGED, W_OTHER = 3.0, 1.0


def log_parts(report: LogReport, lines: SafeLines | None) -> list[Part]:
    """The parts of one log; from its report alone when `lines` is None."""
    read = _records(report, lines) if lines is not None else None
    records = read or []
    starts = {r.line: i for i, r in enumerate(records)}
    changes = {a.template: a for a in report.anomalies if a.template}
    parts: list[Part] = []
    if report.anomalies:
        window = describe_changes(report, limit=6)
        parts.append(Part("what changed in this file:", tuple(window), W_CHANGES, 0))
    for template in report.templates[:MAX_TEMPLATES]:
        change = changes.get(template.template)
        parts.append(_template(template, report.first_ts, change, records, starts, lines))
    if lines is not None and read is not None:  # a JSON document has no lines to show
        parts += _first_errors(report, records, starts, lines)
    return parts


def _records(report: LogReport, lines: SafeLines) -> list[Record] | None:
    """The records of the file's head; None for a JSON document, whose report numbers its
    records, not its lines."""
    head = lines.head(MAX_RECORD_SCAN_CHARS)
    first = next((line for line in head if line.strip()), "")
    if first.strip() in ("[", "{") or first.lstrip().startswith("[{"):
        return None
    year = report.first_ts.year if report.first_ts else None
    delimiter = csv_log_dialect(first)
    if delimiter is not None:
        return list(iter_csv_records(head, delimiter, reference_year=year))
    return list(iter_log_records(head, reference_year=year))


def _is_error(record: Record) -> bool:
    return record.level in ERROR_LEVELS


def _after(ts: datetime | None, start: datetime) -> bool:
    try:
        return ts is not None and ts >= start
    except TypeError:  # a naive time against an aware one: cannot tell
        return False


def _first_errors(
    report: LogReport, records: list[Record], starts: dict[int, int], lines: SafeLines
) -> list[Part]:
    """Windows around the errors an answer starts from: the file's first error, the first
    after its own error rate rose, and the first of each of its main error templates. Which
    of them weighs most is settled against the case's incident window (`Part.placed`)."""
    focus: dict[int, float] = {}  # record index -> weight without a window
    first = next((i for i, r in enumerate(records) if _is_error(r)), None)
    if first is not None:
        focus[first] = W_FIRST_ERROR_LEAD
    if report.incident_start is not None:
        rise = next(
            (
                i
                for i, r in enumerate(records)
                if _is_error(r) and _after(r.ts, report.incident_start)
            ),
            None,
        )
        if rise is not None:
            focus[rise] = W_FIRST_IN_WINDOW
    errors = sorted(
        (t for t in report.templates if t.level in ERROR_LEVELS), key=lambda t: -t.count
    )
    for template in errors[:TEMPLATE_WINDOWS]:
        at = starts.get(template.first_line)
        if at is not None:
            focus.setdefault(at, W_TEMPLATE_WINDOW)
    parts: list[Part] = []
    for at, weight in sorted(focus.items()):
        parts += _window(records, at, starts, lines, weight)
    if not focus and report.error_groups:  # its errors are past the records read
        line = min(g.first_line for g in report.error_groups)
        if line <= len(lines):
            parts.append(_raw_window(line, lines))
    return parts


def _window(
    records: list[Record], at: int, starts: dict[int, int], lines: SafeLines, weight: float
) -> list[Part]:
    """The error with its stack and the records right around it (a part the model nearly
    always gets), then the further records before and after (parts that weigh less)."""
    focus = records[at]
    when = f", {focus.ts:%Y-%m-%d %H:%M:%S} UTC" if focus.ts else ""
    near = range(max(0, at - NEAR), min(len(records), at + NEAR + 1))
    # Records logged at the error's very time right after it belong to it (PostgreSQL's
    # DETAIL, HINT and STATEMENT lines): their continuation is shown too.
    same_event = set()
    for i in range(at + 1, min(len(records), at + CONTEXT + 1)):
        if records[i].ts is None or records[i].ts != focus.ts:
            break
        same_event.add(i)
    before = range(max(0, at - CONTEXT), near.start)
    after = range(near.stop, min(len(records), at + CONTEXT + 1))

    def part(span: range, heading: str, weight: float, before_window: float) -> Part:
        shown: list[str] = []
        numbers: set[int] = set()
        for i in span:
            depth = STACK_LINES if i == at else (FOLLOWER_LINES if i in same_event else 0)
            shown += record_lines(records[i], lines, depth, focus=i == at)
            numbers.update(_span(records[i], records, starts))
        return Part(
            heading,
            tuple(shown),
            weight,
            records[span.start].line,
            line_numbers=frozenset(numbers),
            at=focus.ts,
            in_window=max(weight, W_FIRST_IN_WINDOW) if span is near else weight,
            before_window=before_window,
        )

    parts = [
        part(
            near,
            f"error at line {focus.line}{when}, with the {NEAR} records before and after it",
            weight,
            W_FIRST_ERROR_BEFORE,
        )
    ]
    if before:
        heading = (
            f"{_records_word(len(before))} before those, around the error at line {focus.line}"
        )
        parts.append(part(before, heading, W_CONTEXT_BEFORE, W_CONTEXT_OUTSIDE))
    if after:
        heading = f"{_records_word(len(after))} after those, around the error at line {focus.line}"
        parts.append(part(after, heading, W_CONTEXT_AFTER, W_CONTEXT_OUTSIDE))
    return parts


def _records_word(n: int) -> str:
    return "the record" if n == 1 else f"the {n} records"


def _raw_window(line: int, lines: SafeLines) -> Part:
    """Lines around a line number, for a file whose records were not read."""
    numbers = range(max(1, line - CONTEXT), min(len(lines), line + CONTEXT) + 1)
    shown = tuple(lines.numbered(n, ">>" if n == line else "") for n in numbers)
    heading = f"first error, line {line}, with the {CONTEXT} lines before and after it"
    return Part(heading, shown, W_FIRST_ERROR_LEAD, line, line_numbers=frozenset(numbers))


def _span(record: Record, records: list[Record], starts: dict[int, int]) -> range:
    """The file's lines a record takes (to the next record's start)."""
    i = starts.get(record.line)
    end = records[i + 1].line if i is not None and i + 1 < len(records) else record.line + 1
    return range(record.line, max(end, record.line + 1))


def record_lines(record: Record, lines: SafeLines, depth: int, *, focus: bool = False) -> list[str]:
    """A record as quoted: its first line (a JSON one as time, level, source and message),
    then up to `depth` lines of its stack or continuation."""
    mark = ">>" if focus else ""
    limit = LINE_CHARS if focus or depth else NEIGHBOUR_CHARS
    raw = lines.raw(record.line) if record.line <= len(lines) else ""
    if raw.lstrip().startswith("{") and "json" in record.format:
        when = f"{record.ts:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z " if record.ts else ""
        who = f"[{record.component}] " if record.component else ""
        text = f"{when}{record.level or '-'} {who}{record.message}"
        out = [f"L{record.line}{mark} {lines.safe(text, limit)}"]
    else:
        out = [lines.numbered(record.line, mark, limit)]
    out += [f"    {lines.safe(c.strip())}" for c in record.continuation[:depth]]
    hidden = max(0, len(record.continuation) - depth) + record.dropped_lines
    if hidden > 0:
        out.append(f"    (+{hidden:,} lines)")
    return out


def _change_words(change: LogAnomaly | None) -> str:
    if change is None:
        return ""
    when = f"{change.at:%H:%M}"
    if change.kind == "new":
        return f"; new from {when} UTC"
    if change.kind == "surge":
        return f"; surging from {when} UTC ({rate(change.before_per_min)} → " + (
            f"{rate(change.during_per_min)})"
        )
    if change.kind == "vanished":
        return f"; stopped at {when} UTC (was {rate(change.before_per_min)})"
    return ""


def _template(
    template: TemplateStats,
    first_ts: datetime | None,
    change: LogAnomaly | None,
    records: list[Record],
    starts: dict[int, int],
    lines: SafeLines | None,
) -> Part:
    """A template with its count, level, change and first record as an example."""
    level = template.level or "no level"
    first = f"; first {template.first_seen:%H:%M:%S} UTC" if template.first_seen else ""
    heading = (
        f"×{template.count:,} {level} `{template.template}`{_change_words(change)}{first}, "
        f"line {template.first_line}:"
    )
    important = template.level in ERROR_LEVELS or template.level == WARN
    at = starts.get(template.first_line)
    if at is not None and lines is not None:
        shown = tuple(record_lines(records[at], lines, EXAMPLE_STACK if important else 0))
        numbers = frozenset(_span(records[at], records, starts))
    else:
        shown = (f"e.g. {template.example}",) if template.example != template.template else ()
        numbers = frozenset()
    changed = change is not None and change.kind != "vanished"
    if template.level in ERROR_LEVELS:
        weight, new = (W_ERROR_CHANGED if changed else W_ERROR), W_ERROR_CHANGED
    elif template.level == WARN:
        weight, new = (W_WARN_CHANGED if changed else W_WARN), W_WARN_CHANGED
    else:
        weight, new = (W_OTHER_CHANGED if change else W_OTHER), W_OTHER_CHANGED
    # A template first seen well after the file starts is new in it: shortly before the
    # incident window it is what led up to it (leak warnings before the pool runs dry).
    appeared = (
        template.count >= PRECURSOR_COUNT
        and template.first_seen is not None
        and first_ts is not None
        and template.first_seen - first_ts > APPEARED_AFTER
    )
    return Part(
        heading,
        shown,
        weight,
        template.first_line,
        line_numbers=numbers,
        # First seen in the case's window: new there, whatever the file's own baseline says.
        at=template.first_seen,
        in_window=max(weight, new),
        precursor=max(weight, new - 0.5) if appeared else None,
    )
