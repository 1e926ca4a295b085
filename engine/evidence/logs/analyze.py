"""One uploaded log file -> LogReport: counts, time range, error groups and an error timeline."""

from __future__ import annotations

import io
import itertools
import os
import time
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, Literal

from engine.core.redact import Redacted, Redactor
from engine.evidence.bounded import load_json
from engine.evidence.components import canonical
from engine.evidence.decode import decode_stream
from engine.evidence.logs import structured
from engine.evidence.logs.anomalies import find_changes
from engine.evidence.logs.csv_rows import csv_log_dialect
from engine.evidence.logs.header_stream import iter_log_records
from engine.evidence.logs.levels import ERROR_LEVELS, SEVERITY_ORDER, most_severe
from engine.evidence.logs.normalize import normalize_message
from engine.evidence.logs.patterns import MAX_PEERS, PatternTally
from engine.evidence.logs.records import (
    TEXT,
    JsonRecord,
    Record,
    iter_csv_records,
    iter_document_records,
)
from engine.evidence.logs.report import ErrorGroup, LogReport, MinuteCount
from engine.evidence.logs.text_kind import MAX_HEADINGS, heading, language_of
from engine.evidence.logs.timebuckets import BucketClock, Histogram, Span

MAX_GROUPS = 20
# Messages with ids the normaliser misses could make every error distinct; past this many
# groups, further new messages are counted but not grouped, to bound memory on huge files.
MAX_TRACKED_GROUPS = 10_000
MAX_REMEMBERED = 4_096  # masked texts kept, so a repeated error is masked once
EXAMPLE_CHARS = 500
# Below this share of records with a timestamp, level or structure, the file is prose.
MIN_LOG_SHARE = 0.1
HEAD_LINES = 20
MAX_SHOWN_PEERS = 5
DEADLINE_EVERY = 2048  # records between looks at the clock
_MINUTE = timedelta(minutes=1)
_LAST_MINUTE = datetime.max.replace(second=0, microsecond=0, tzinfo=UTC)
# A JSON document is parsed whole; past this size it is read line by line instead.
MAX_DOCUMENT_CHARS = 64 << 20


@dataclass(slots=True)
class _Group:
    example: str
    level: str
    first_line: int
    count: int = 0
    seen: Span = field(default_factory=Span)


class _Tally:
    """Everything the report needs, accumulated one record at a time."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.masked: Counter[str] = Counter()
        self.records = 0
        self.recognised = 0
        self.unparsed_lines = 0
        self.inferred: Counter[str] = Counter()  # levels read from wording, by level
        self.formats: dict[str, int] = {}
        self.levels: dict[str, int] = {}
        self.span = Span()
        self.groups: dict[str, _Group] = {}
        self.ungrouped_errors = 0
        self.minutes: Counter[datetime] = Counter()
        self.first_error_ts: datetime | None = None
        self.clock = BucketClock()
        self.errors = Histogram(self.clock)
        self.patterns = PatternTally(self.clock)
        self._cleaned: dict[str, str] = {}
        self._redacted: dict[str, Redacted] = {}
        self.head: list[str] = []  # the first lines, to tell a text file's language
        self._last_minute = (_LAST_MINUTE, _LAST_MINUTE)  # [start, end) of an error's minute
        self._workloads: dict[str, str] = {}
        self.headings: list[str] = []

    def add(self, record: Record) -> None:
        # Runs once per record of files of millions: plain dicts rather than Counters (whose
        # `+= 1` costs twice as much), and the usual case of each step written out here.
        self.records += 1
        ts, level, fmt = record.ts, record.level, record.format
        formats = self.formats
        formats[fmt] = formats.get(fmt, 0) + 1
        bucket = None
        if ts is not None:
            span = self.span
            last = span.last
            if last is not None and span.first is not None and ts > last:
                span.last = ts  # a log written in order: `span.add(ts)`'s usual case
            else:
                span.add(ts)
            clock = self.clock
            start = clock.second_start
            if start is not None and start <= ts < clock.second_end:
                bucket = clock.second // clock.width  # `clock.index(ts)`'s usual case
            else:
                bucket = clock.index(ts)
        is_error = False
        text = record.message
        if level is not None:
            levels = self.levels
            levels[level] = levels.get(level, 0) + 1
            if record.level_inferred:
                self.inferred[level] += 1
            is_error = level in ERROR_LEVELS
        if ts is not None or fmt != TEXT or (level is not None and not record.level_inferred):
            self.recognised += 1
        else:
            # A bare line, even one whose wording gave it a level: what tells prose and code
            # (their language, headings) is read from all of them.
            if level is None:
                self.unparsed_lines += record.line_count
            self._add_text(record)
        if is_error and level is not None:
            text = self._add_error(record, level, ts, bucket)
        # Replicas of one workload are one component: errors are counted per workload, and
        # the pods it ran on are kept as its hosts.
        host = record.host
        component = record.component or (self._workload(host) if host else None)
        patterns = self.patterns
        shape = record.shape if text == record.message else None  # an error's is masked
        patterns.add(record.line, text, level, ts, bucket, component, is_error, shape)
        if component is not None:
            patterns.add_component(component, host, ts, bucket, is_error, record.peer)
        if is_error and record.peer is not None and len(patterns.error_peers) < MAX_PEERS:
            patterns.error_peers[record.peer] += 1

    def _add_text(self, record: Record) -> None:
        """Prose or code: keep what tells its language and its outline."""
        if len(self.head) < HEAD_LINES:
            self.head.append(record.message)
        title = heading(record.message)
        if title is not None and len(self.headings) < MAX_HEADINGS:
            self.headings.append(self._clean(title))

    def _clean(self, text: str) -> str:
        # An error repeated word for word (a pool exhausted, a peer refusing) is masked once.
        redacted = self._redacted.get(text)
        if redacted is None:
            if len(self._redacted) >= MAX_REMEMBERED:
                self._redacted.clear()
            redacted = self._redacted[text] = self.redactor.redact(text)
        if redacted.counts:
            self.masked.update(redacted.counts)
        return redacted.text

    def clean_kept(self, text: str, already_masked: bool) -> str:
        """Mask a template or example the report keeps; each text is counted once."""
        if already_masked:
            return self.redactor.redact(text).text
        cleaned = self._cleaned.get(text)
        if cleaned is None:
            cleaned = self._cleaned[text] = self._clean(text)
        return cleaned

    def _add_error(
        self, record: Record, level: str, ts: datetime | None, bucket: int | None
    ) -> str:
        """Count an error record; returns its message, secrets masked."""
        # Error messages are what the report keeps and an LLM may read: mask secrets first,
        # before normalising (which would break a token's shape and let half of it through).
        message = self._clean(record.error_message())
        key = (
            self._clean(record.group_key) if record.group_key else normalize_message(message)
        ) or "(no message)"
        group = self.groups.get(key)
        if group is None and len(self.groups) < MAX_TRACKED_GROUPS:
            group = self.groups[key] = _Group(message[:EXAMPLE_CHARS], level, record.line)
        if group is None:
            self.ungrouped_errors += 1
        else:
            group.count += 1
            if level != group.level:
                group.level = most_severe(group.level, level)
            if ts is not None:
                group.seen.add(ts)
        if ts is not None:
            self.minutes[self._minute(ts)] += 1
            if bucket is not None:
                self.errors.add(bucket)
            if self.first_error_ts is None or ts < self.first_error_ts:
                self.first_error_ts = ts
        return message

    def _workload(self, host: str) -> str:
        """`canonical(host)`, remembered: a log names few hosts, on every line."""
        workload = self._workloads.get(host)
        if workload is None:
            if len(self._workloads) >= MAX_REMEMBERED:
                self._workloads.clear()
            workload = self._workloads[host] = canonical(host)
        return workload

    def _minute(self, ts: datetime) -> datetime:
        """The minute `ts` falls in; errors come in bursts, so mostly the last one's."""
        start, end = self._last_minute
        if not start <= ts < end:
            start = ts.replace(second=0, microsecond=0)
            end = start + _MINUTE if start < _LAST_MINUTE else start
            self._last_minute = start, end
        return start


def _error_groups(groups: dict[str, _Group]) -> list[ErrorGroup]:
    ranked = sorted(groups.items(), key=lambda item: (-item[1].count, item[1].first_line))
    return [
        ErrorGroup(
            message=key,
            example=group.example,
            level=group.level,
            count=group.count,
            first_seen=group.seen.first,
            last_seen=group.seen.last,
            first_line=group.first_line,
        )
        for key, group in ranked[:MAX_GROUPS]
    ]


def _kind(tally: _Tally, name: str) -> tuple[Literal["log", "text"], str | None]:
    """'log' or 'text', and a text's language.

    A file is a log when enough of its records carry a timestamp, a level or structure. Bare
    lines whose wording gave them a level count too, and one error is enough: a crashing
    container's whole output may be one shell error in a page of chatter. Markdown, scripts
    and code keep their kind whatever they mention ("if you see connection refused").
    """
    if tally.recognised >= MIN_LOG_SHARE * tally.records:
        return "log", None
    language = language_of(name, "\n".join(tally.head))
    if language is None and (
        tally.recognised + tally.inferred.total() >= MIN_LOG_SHARE * tally.records
        or any(level in ERROR_LEVELS for level in tally.levels)
    ):
        return "log", None
    return "text", language


def _inferred_note(inferred: Counter[str]) -> list[str]:
    """'levels inferred from wording: 3 lines had none (2 ERROR, 1 WARN)'."""
    total = inferred.total()
    if not total:
        return []
    lines = "1 line" if total == 1 else f"{total:,} lines"
    counts = ", ".join(
        f"{inferred[level]:,} {level}" for level in SEVERITY_ORDER if inferred[level]
    )
    return [f"levels inferred from wording: {lines} had none ({counts})"]


def _notes(tally: _Tally, kind: str, years: set[int], decode_notes: list[str]) -> list[str]:
    notes = list(decode_notes)
    if kind == "text":
        return notes
    notes.extend(_inferred_note(tally.inferred))
    if tally.span.first is None:
        notes.append("no timestamps found, so there is no timeline")
    if years:
        shown = "–".join(str(year) for year in sorted({min(years), max(years)}))
        notes.append(f"timestamps without a year (syslog style) were read as {shown}")
    if tally.unparsed_lines:
        lines = "1 line" if tally.unparsed_lines == 1 else f"{tally.unparsed_lines:,} lines"
        notes.append(f"{lines} could not be parsed as log records (no timestamp or level)")
    if len(tally.groups) > MAX_GROUPS:
        notes.append(
            f"{len(tally.groups):,} distinct errors; only the {MAX_GROUPS} most frequent are listed"
        )
    if tally.ungrouped_errors:
        notes.append(
            f"more than {MAX_TRACKED_GROUPS:,} distinct error messages; "
            f"{tally.ungrouped_errors:,} later errors were counted but not grouped"
        )
    return notes


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


class _ReadSoFar:
    """Lines passed on, counted with their characters, to say where a stopped analysis got.
    The counts are set once the lines run out or the iterator is closed."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.lines = 0
        self.chars = 0

    def __iter__(self) -> Generator[str, None, None]:
        lines = chars = 0  # counted in locals: this runs once per line of huge files
        try:
            for line in self._lines:
                lines += 1
                chars += len(line)
                yield line
        finally:
            self.lines, self.chars = lines, chars + lines  # each line and its line end


def _partial_note(name: str, read: _ReadSoFar, size: int | None, seconds: float) -> list[str]:
    """Where the analysis stopped, e.g. 'analysed the first 38% of big.log (…) in 20 s'."""
    # Characters for bytes: exact for ASCII, close enough for a share of the file.
    share = f"the first {min(99, 100 * read.chars // size)}%" if size else "the first part"
    return [
        f"analysed {share} of {name} ({read.lines:,} lines) in {seconds:.0f} s, the time "
        "allowed for one file: the counts above cover that part only"
    ]


def _opens_document(first: str) -> bool:
    """Whether a file starting with `first` is one JSON document (an array of records, an
    Elastic answer, a pretty-printed export) rather than JSON lines or text lines."""
    head = first.strip()
    if head in ("[", "{") or head.startswith(("[{", "[ {")):
        return True
    if not head.startswith("{"):
        return False  # "[2026-11-21 14:00:00] ERROR ..." is a line
    try:
        obj = load_json(head)
    except ValueError:
        return True  # an object that goes on past its first line
    # One line that is an envelope of records, not a record: no message, an array inside.
    return (
        isinstance(obj, dict)
        and not structured.from_json(obj).message
        and bool(structured.records_in(obj))
    )


def _document_records(first: str, lines: Iterator[str]) -> tuple[list[JsonRecord], list[str]]:
    """The log records of a JSON document, and the lines read for it. No records when it is
    not one, holds none that look like log records (a config that reached here), or is too
    large to hold: the lines are then read one by one."""
    read, chars = [first], len(first)
    for line in lines:
        read.append(line)
        chars += len(line) + 1
        if chars > MAX_DOCUMENT_CHARS:
            return [], read
    try:
        records = structured.records_in(load_json("\n".join(read)))
    except ValueError:
        return [], read
    if not records or not _looks_logged(structured.from_json(records[0])):
        return [], read
    return records, read


def _looks_logged(fields: structured.Fields) -> bool:
    return bool(fields.message or fields.ts)


def _records(lines: Iterator[str], reference_year: int | None, years: set[int]) -> Iterator[Record]:
    """Records of a log, of a CSV export of one (told by its header line), or of a JSON
    document holding records."""
    first = next(lines, None)
    if first is None:
        return iter(())
    if _opens_document(first):
        records, read = _document_records(first, lines)
        if records:
            return iter_document_records(
                records, reference_year=reference_year, years_assumed=years
            )
        lines = itertools.chain(read[1:], lines)
    rest = itertools.chain([first], lines)
    delimiter = csv_log_dialect(first)
    if delimiter is not None:
        return iter_csv_records(rest, delimiter, reference_year=reference_year, years_assumed=years)
    return iter_log_records(rest, reference_year=reference_year, years_assumed=years)


def analyze_log(
    name: str,
    source: bytes | BinaryIO,
    *,
    reference_year: int | None = None,
    redactor: Redactor | None = None,
    deadline: float | None = None,
) -> LogReport:
    """Analyze one uploaded file; raises EvidenceRejected when it is empty or binary.

    `source` is the file's bytes or a binary stream of it; a stream is read once, a chunk
    at a time, so a log of any size needs memory only for what the report keeps.

    `reference_year` is the year for timestamps that carry none (syslog); by default the
    current year, or the previous one for dates that would otherwise lie in the future.
    Secrets are masked in every string the report keeps (`redactor`, default settings).

    At `deadline` (a time.monotonic() value) reading stops: the report covers the part read,
    and a note says how much that was, so a huge or hostile file still gets an answer.
    """
    size = len(source) if isinstance(source, bytes) else _stream_size(source)
    decoded = decode_stream(io.BytesIO(source) if isinstance(source, bytes) else source)
    tally = _Tally(redactor or Redactor())
    years: set[int] = set()
    started = time.monotonic()
    read = _ReadSoFar(decoded.lines())
    lines = iter(read)
    stopped_early = False
    records = _records(lines, reference_year, years)
    add = tally.add
    while True:
        # DEADLINE_EVERY records at a time, the clock looked at between batches rather
        # than asked about after every record.
        before = tally.records
        for record in itertools.islice(records, DEADLINE_EVERY):
            add(record)
        if tally.records - before < DEADLINE_EVERY:
            break  # the records ran out
        if deadline is not None and time.monotonic() > deadline:
            decoded.stop()
            lines.close()  # so `read` says how far it got
            stopped_early = True
            break
    kind, language = _kind(tally, name)
    formats = [fmt for fmt, _ in Counter(tally.formats).most_common() if fmt != TEXT] or [TEXT]
    headings = tally.headings if kind == "text" and language in (None, "Markdown") else []
    timeline = [MinuteCount(minute=minute, count=n) for minute, n in sorted(tally.minutes.items())]
    busiest = max(timeline, key=lambda minute: minute.count) if timeline else None  # ties: earliest
    changes = find_changes(tally.patterns, tally.errors, tally.clean_kept)
    return LogReport(
        kind=kind,
        name=name,
        size_bytes=decoded.size_bytes,
        sha256=decoded.sha256,
        line_count=read.lines if stopped_early else decoded.line_count,
        record_count=tally.records,
        formats=formats,
        first_ts=tally.span.first,
        last_ts=tally.span.last,
        level_counts={lvl: tally.levels[lvl] for lvl in SEVERITY_ORDER if lvl in tally.levels},
        error_groups=_error_groups(tally.groups),
        error_group_count=len(tally.groups),
        first_error_ts=tally.first_error_ts,
        busiest_error_minute=busiest,
        error_timeline=timeline,
        notes=_notes(tally, kind, years, decoded.notes)
        + (_partial_note(name, read, size, time.monotonic() - started) if stopped_early else []),
        redactions=dict(tally.masked),
        error_peers=dict(tally.patterns.error_peers.most_common(MAX_SHOWN_PEERS)),
        language=language,
        headings=headings,
        template_count=changes.template_count,
        templates=changes.templates,
        components=changes.components,
        incident_start=changes.window.start if changes.window else None,
        incident_end=changes.window.end if changes.window else None,
        anomalies=changes.anomalies,
    )
