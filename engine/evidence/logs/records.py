"""Split log lines into records: one record per logged event, stack traces included.

A line starts a record when it carries a timestamp, is structured (JSON, logfmt), is an
access-log line or opens with a level. Other lines (indented, `at ...`, `Caused by:`,
`  File "..."`, `goroutine 1 [running]:`, `...`) are attached to the record before them,
so a 40-line Java stack trace counts once. Works as a stream: one record in memory at a time.

Records nest: a CSV cell or a shipper's JSON field may hold a container runtime's JSON, which
holds a CRI line, which holds the application's own line. Each is opened in turn (up to
MAX_DEPTH) and the innermost record gives the message and time, the wrappers the names.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.evidence.bounded import load_json
from engine.evidence.logs import structured
from engine.evidence.logs.csv_rows import iter_csv_rows
from engine.evidence.logs.levels import (
    ERROR,
    FATAL,
    INFO,
    WARN,
    find_level,
    level_at_start,
    level_from_status,
    level_from_trace,
    level_from_value,
)
from engine.evidence.logs.normalize import normalize_message
from engine.evidence.logs.wording import level_from_wording
from engine.evidence.timestamps import TimestampMatch, match_timestamp, parse_timestamp_value

if TYPE_CHECKING:
    from engine.evidence.logs.learned_header import HeaderReader

TEXT = "text"  # the format of a line nothing recognised
MAX_CONTINUATION = 500  # lines kept per record; the rest are only counted
_ROLLOVER = timedelta(days=180)

# Not indented, yet clearly inside a stack trace.
_CONTINUATION = re.compile(
    r"(?:at |Caused by:|Suppressed:|\.\.\. \d+ (?:more|common frames omitted)|File \""
    r"|goroutine \d+ \[|\[signal |created by |During handling of the above exception"
    r"|The above exception was the direct cause|[\w.$]+(?:Exception|Error|Exit|Interrupt"
    r"|Throwable|Fault)\b|[\w\-/]+(?:\.(?:\(\*?\w+\)|\w+))+\(.*\)\s*$|[}\])])"
)
# Uncaught exceptions: part of the record before only if that one already reported a problem.
_TRACE_START = re.compile(r"Traceback \(most recent call last\)|Exception in thread ")
_PANIC_START = re.compile(r"(?:panic: |fatal error: )")
_TRACE_HEADER = re.compile(r"(?:Traceback(?: \(most recent call last\):?)?|Exception:?)?$")
_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.$]*(?::\s.*)?$")
# An exception at the start of a line ("java.net.ConnectException: ...", "KeyError: 'id'").
_EXCEPTION_START = re.compile(r"[\w.$]+(?:Exception|Error)(?::|$)")
_PRI = re.compile(r"<(\d{1,3})>(?:1 )?")
_CRI = re.compile(r" (?:stdout|stderr) [FP] ")
_SYSLOG_REST = re.compile(r"\s+(\S+)\s+([^\s:\[]+)(?:\[(\d+)\])?:\s?")
_SYSLOG_PID_REST = re.compile(r"\s+(\S+)\s+([^\s:\[]+)\[(\d+)\]:\s?")
_GLOG_REST = re.compile(r"\s+\d+\s+[\w.\-]+:\d+\]\s?")
_ACCESS = re.compile(r'(\S+) \S+ \S+ \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) ')
_REQUEST = re.compile(r"([A-Z]+) (\S+)")
# What sits between the level and the message: [thread], Spring's "pid ---" (Sleuth puts
# "[app,traceId,spanId]" before it), nginx's "pid#tid: *cid", and a logger name when it is
# dotted (c.e.PaymentClient) or root, maybe with its line ("c.e.Order#532", "c.e.Order:532")
# and log4j's "%c -%m" (no space after the dash).
_MSG_PREFIX = re.compile(
    r"[\s:|\]>-]*(?:\[[^\]]*\]\s*)*(?:\d+\s+---\s+)?(?:\[[^\]]*\]\s*)*"
    r"(?:\d+#\d+:\s*(?:\*\d+\s+)?)?"
    r"(?:(?:[\w$/-]+(?:\.[\w$/-]+)+(?:[#:]\d+)?|root|__main__)(?:\s+-\s*|\s*:\s+|:(?=\S)))?"
)
# Spring Boot 3.2+: "INFO 1 --- [checkout] [nio-8080-exec-7] c.a.Class : msg" names the app
# before the thread (older versions have only the thread).
_SPRING_APP = re.compile(r"\s+\d+\s+---\s+\[\s*([\w.-]+)\]\s+\[")
_K8S_EVENT = re.compile(r"\s+(Warning|Normal)\s+([A-Z]\w+)\s+([\w.-]+/[\w.-]+)\s+(?:\d+\s+)?(.*)")
_GLOG_LEVELS = {"I": "INFO", "W": WARN, "E": ERROR, "F": FATAL}
_MAX_PREFIX_WORDS = 4  # more words before a level token means it is prose, not a header
# logback's default "%d{HH:mm:ss.SSS} [%thread] %-5level ...": a time of day, no date. The
# date comes from the record around it (a runtime's JSON), or is not known.
_TIME_OF_DAY = re.compile(r"\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?=\s)")
# A trace context that names its service first, then ids: Sleuth's "[app,traceId,spanId]",
# an agent's "[KEY:[app,instance,traceId,...]]". At least one id of 16+ hex digits.
_CONTEXT = re.compile(r"(?:[A-Za-z_][\w-]*\s*[:=]\s*)?\[?([A-Za-z][\w.-]*),(.*)")
_TRACE_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{16,}(?![0-9A-Za-z])")
_HEX_NAME = re.compile(r"[0-9a-fA-F]{8,}")
_BLOCK_START = re.compile(r"\s*\[")
_BRACKET = re.compile(r"[\[\]]")
MAX_CONTEXT_CHARS = 1000  # a bracket that stays open longer than this is not a header
MAX_DEPTH = 3  # records opened inside records: CSV cell > runtime JSON > CRI line > app line
_WRAPPERS = frozenset({"docker-json", "cri"})
_INDENTED_OR_EMPTY = ("", " ", "\t")  # what line[:1] is for a line parse() tells first


class Kind(enum.Enum):
    BLANK = "blank"
    CONTINUATION = "continuation"
    TRACE = "trace"  # an uncaught-exception header
    PANIC = "panic"  # a Go panic: always its own record
    OTHER = "other"


@dataclass(slots=True, init=False)
class Record:
    line: int
    ts: datetime | None
    level: str | None
    message: str
    format: str
    continuation: list[str]
    group_key: str | None  # set when the message alone would group badly (HTTP status)
    component: str | None  # the service / program that logged it, when the line says
    host: str | None  # the pod / host it ran on, when the line says
    peer: str | None  # the service its request went to, when the line says
    dropped_lines: int
    level_inferred: bool  # the level was read from the wording, not written by a logger
    shape: str | None  # the message's `shape_of`, where reading the line gave it for free

    def __init__(
        self,
        line: int,
        ts: datetime | None,
        level: str | None,
        message: str,
        format: str,
        continuation: list[str] | None = None,
        component: str | None = None,
        shape: str | None = None,
    ) -> None:
        # Written out: one is made per line, and a generated __init__ with a default
        # factory costs twice as much; one statement per field, since assigning a tuple of
        # them costs half as much again.
        self.line = line
        self.ts = ts
        self.level = level
        self.message = message
        self.format = format
        self.continuation = [] if continuation is None else continuation
        self.component = component
        self.shape = shape
        self.group_key = self.host = self.peer = None
        self.dropped_lines = 0
        self.level_inferred = False

    @property
    def line_count(self) -> int:
        return 1 + len(self.continuation) + self.dropped_lines

    def attach(self, line: str) -> None:
        if len(self.continuation) < MAX_CONTINUATION:
            self.continuation.append(line)
        else:
            self.dropped_lines += 1

    def error_message(self) -> str:
        """What the error is: the message, or for a bare traceback its final exception line."""
        message = self.message.strip()
        if not _TRACE_HEADER.match(message):
            return message
        for line in reversed(self.continuation):
            if line[:1].strip() and _EXCEPTION_LINE.match(line):
                return line.strip()
        return message or next((line.strip() for line in self.continuation if line.strip()), "")


_Other = tuple[Kind, str, datetime | None]


class _LineParser:
    """Turns one line into a Record head, or says what else it is."""

    def __init__(self, reference_year: int | None, years_assumed: set[int] | None) -> None:
        self.year = reference_year
        self._last_yearless: datetime | None = None
        self._years_assumed = years_assumed if years_assumed is not None else set()
        self._access_when = ""
        self._access_ts: datetime | None = None

    def parse(self, line: str, lineno: int, depth: int = 0) -> Record | _Other:
        """`depth`: how many records `line` sits inside (a CSV cell, a runtime's JSON).
        A line with the file's learned header is read by it (`iter_records`) first."""
        if not line or line.isspace():
            return (Kind.BLANK, line, None)
        first = line[0]
        if first in " \t":
            return (Kind.CONTINUATION, line, None)
        if first == "{":
            record = self._json(line, lineno, depth)
            if record is not None:
                return record
        pos, pri_level = 0, None
        if first == "<":
            pri = _PRI.match(line)
            if pri:
                pos = pri.end()
                pri_level = level_from_value(int(pri.group(1)) % 8, syslog_priority=True)
        tsm = match_timestamp(line, pos, self.year)
        if tsm is not None:
            record = self._after_timestamp(line, lineno, pos, self.rollover(tsm), depth)
            if isinstance(record, Record) and pri_level:
                record.level = record.level or pri_level
            return record
        return self._without_timestamp(line, lineno, pos)

    def rollover(self, tsm: TimestampMatch) -> TimestampMatch:
        """Syslog has no year: Dec 31 then Jan 1 means the year turned."""
        if tsm.has_year:
            return tsm
        ts = tsm.ts
        if self.year is not None:
            if self._last_yearless is not None and ts < self._last_yearless - _ROLLOVER:
                self.year += 1
                with contextlib.suppress(ValueError):  # Feb 29 in a non-leap year stays as is
                    ts = ts.replace(year=ts.year + 1)
            self._last_yearless = ts
        self._years_assumed.add(ts.year)
        return TimestampMatch(ts, tsm.end, False)

    def _json(self, line: str, lineno: int, depth: int) -> Record | _Other | None:
        try:
            obj = load_json(line)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        inner = structured.docker_inner(obj) if depth < MAX_DEPTH else None
        if inner is not None:
            outer = parse_timestamp_value(obj.get("time"), self.year)
            return self._inner(inner, lineno, outer, "docker-json", depth)
        return self.opened(lineno, structured.from_json(obj, self.year), "json", depth)

    def opened(self, lineno: int, fields: structured.Fields, fmt: str, depth: int = 0) -> Record:
        """A structured record; when its message is a record itself (a runtime's JSON in a CSV
        cell, a CRI line in a shipper's field, an app's own line), that one is read too."""
        text = fields.message
        # A wrapper with a level of its own has been read already; JSON is opened regardless,
        # since its message is then the JSON text.
        if depth < MAX_DEPTH and text and (text[0] == "{" or fields.level is None):
            inner = self.parse(text, lineno, depth + 1)
            if isinstance(inner, Record) and (inner.ts or inner.level or inner.format in _WRAPPERS):
                return _merged(inner, fields, fmt)
        return _structured(lineno, fields, fmt)

    def _inner(
        self, text: str, lineno: int, ts: datetime | None, fmt: str, depth: int
    ) -> Record | _Other:
        """A container runtime's wrapper around the application's own line."""
        result = self.parse(text, lineno, depth + 1)
        if isinstance(result, Record):
            result.ts = result.ts or ts
            result.format = fmt
            return result
        if result[0] is Kind.OTHER:
            return Record(lineno, ts, None, text.strip(), fmt)
        return (result[0], text, ts)

    def _after_timestamp(
        self, line: str, lineno: int, pos: int, tsm: TimestampMatch, depth: int
    ) -> Record | _Other:
        ts, rest = tsm.ts, line[tsm.end :]
        cri = _CRI.match(rest)
        if cri and depth < MAX_DEPTH:
            return self._inner(rest[cri.end() :], lineno, ts, "cri", depth)
        first = line[pos]
        if first in "IWEF" and line[pos + 1 : pos + 2].isdigit():
            glog = _GLOG_REST.match(rest)
            message = rest[glog.end() :] if glog else rest.strip()
            return Record(lineno, ts, _GLOG_LEVELS[first], message, "glog")
        if _is_logfmt(rest):
            fields = structured.from_logfmt(structured.parse_logfmt(rest), self.year)
            return _structured(lineno, fields._replace(ts=ts), "logfmt")
        if first.isalpha() or pos:  # "Nov 21 14:02:03 host proc[pid]: msg" or "<13>..."
            syslog = _SYSLOG_REST.match(rest)
            if syslog:
                return self._syslog(lineno, ts, syslog, rest)
        return self._plain(lineno, ts, rest)

    def _syslog(self, lineno: int, ts: datetime | None, m: re.Match[str], rest: str) -> Record:
        body = rest[m.end() :].strip()
        found = find_level(body)
        level = None
        if found and found[1] <= 1:
            level = found[0]
        elif found and body[found[2] : found[2] + 1] == ":":
            # An upper-case level with a colon after a prefix, as PostgreSQL writes it:
            # "[57-1] user=app,db=payments FATAL:  password authentication failed": the
            # message is what follows the level.
            level, body = found[0], body[found[2] + 1 :].strip()
        record = Record(lineno, ts, level, f"{m.group(2)}: {body}", "syslog")
        # The host is the component: a syslog stream mixes many programs of one machine, and
        # "postgres" or "nginx" names a kind of daemon, not which one.
        record.host = m.group(1)
        return record

    def _plain(self, lineno: int, ts: datetime | None, rest: str) -> Record:
        event = _K8S_EVENT.match(rest)
        if event:  # kubectl get events: TYPE REASON OBJECT [COUNT] MESSAGE
            kind, reason, obj, message = event.group(1, 2, 3, 4)
            record = Record(
                lineno,
                ts,
                WARN if kind == "Warning" else INFO,
                f"{reason}: {message}",
                "k8s-events",
            )
            record.host = obj.rsplit("/", 1)[-1]
            return record
        found = _header_level(rest)
        if found is not None:
            level, end = found
            prefix = _MSG_PREFIX.match(rest, end)
            body = rest[prefix.end() if prefix else end :]
            record = Record(lineno, ts, level, body.strip(), "plain")
            spring = _SPRING_APP.match(rest, end)
            if spring:
                record.component = spring.group(1)
            elif "," in rest[: len(rest) - len(body)]:  # no comma, no trace context
                record.component = _context_service(rest[:end]) or _context_service(
                    rest[end : len(rest) - len(body)]
                )
            return record
        syslog = _SYSLOG_PID_REST.match(rest)  # ISO-dated syslog: "... host proc[123]: msg"
        if syslog:
            return self._syslog(lineno, ts, syslog, rest)
        return Record(lineno, ts, None, _strip_prefix(rest), "plain")

    def _without_timestamp(self, line: str, lineno: int, pos: int) -> Record | _Other:
        access = _ACCESS.match(line, pos)
        if access:
            return self._access(lineno, access)
        time_of_day = _TIME_OF_DAY.match(line, pos)
        if time_of_day:
            return self._plain(lineno, None, line[time_of_day.end() :])
        if _CONTINUATION.match(line, pos):
            return (Kind.CONTINUATION, line, None)
        if _TRACE_START.match(line, pos):
            return (Kind.TRACE, line, None)
        if _PANIC_START.match(line, pos):
            return (Kind.PANIC, line, None)
        if structured.looks_like_logfmt(line):
            fields = structured.from_logfmt(structured.parse_logfmt(line), self.year)
            if fields.ts or fields.level:
                return _structured(lineno, fields, "logfmt")
        start = level_at_start(line[pos:])
        if start is not None:  # "ERROR something", maybe followed by the time
            level, end = start
            tsm = match_timestamp(line, pos + end, self.year)
            rest = line[tsm.end if tsm else pos + end :]
            return Record(lineno, tsm.ts if tsm else None, level, _strip_prefix(rest), "plain")
        return (Kind.OTHER, line, None)

    def _access(self, lineno: int, m: re.Match[str]) -> Record:
        when, request, status_text = m.group(2, 3, 4)
        if when != self._access_when:  # neighbouring lines share their second
            tsm = match_timestamp(when, 0, self.year)
            self._access_when, self._access_ts = when, tsm.ts if tsm else None
        status = int(status_text)
        parts = _REQUEST.match(request)
        head = f"HTTP {status} {parts.group(1)}" if parts else f"HTTP {status}"
        path = parts.group(2).partition("?")[0] if parts else request
        record = Record(
            lineno, self._access_ts, level_from_status(status), f"{head} {path}", "access-log"
        )
        if status >= 500:
            # Normalising the whole message would mask the status code itself.
            record.group_key = f"{head} {normalize_message(path)}"
        return record


def _is_logfmt(rest: str) -> bool:
    """key=value pairs, unless a level comes before them: then they are the message's own
    words ("INFO c.e.Travel - Response(status=1, msg=Success)")."""
    start = structured.logfmt_start(rest)
    return start is not None and (start == 0 or _header_level(rest[:start]) is None)


def _header_level(rest: str) -> tuple[str, int] | None:
    """(level, end) of the level token in a line's header, after the timestamp.

    Context blocks before it ("[KEY:[app,instance,traceId]] [thread] ERROR") may push the
    level past where `find_level` looks, so it looks again after them.
    """
    found = find_level(rest)
    if found is None or (found[1] and len(rest[: found[1]].split()) > _MAX_PREFIX_WORDS):
        skip = _after_brackets(rest)
        found = find_level(rest[skip:]) if skip else None
        if found is None or (found[1] and len(rest[skip : skip + found[1]].split()) > 1):
            return None
        return found[0], skip + found[2]
    return found[0], found[2]


def _brackets(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each balanced bracket block that opens `text`, spaces between."""
    opening = _BLOCK_START.match(text)
    while opening:
        start, depth = opening.end() - 1, 0
        for bracket in _BRACKET.finditer(text, start, start + MAX_CONTEXT_CHARS):
            depth += 1 if bracket.group() == "[" else -1
            if depth == 0:
                yield start, bracket.end()
                opening = _BLOCK_START.match(text, bracket.end())
                break
        else:
            return  # never closes: a message that starts with "[", not a header


def _after_brackets(text: str) -> int:
    return max((end for _, end in _brackets(text)), default=0)


def _context_service(text: str) -> str | None:
    """The service a trace-context block at the start of `text` names first, if any."""
    for start, end in _brackets(text):
        if text.find(",", start, end) < 0:  # a thread name: "[main]", "[http-nio-8080-exec-1]"
            continue
        m = _CONTEXT.match(text, start + 1, end - 1)
        if m and _TRACE_ID.search(m.group(2)) and not _HEX_NAME.fullmatch(m.group(1)):
            return m.group(1)[: structured.MAX_NAME_CHARS]
    return None


def _strip_prefix(text: str) -> str:
    m = _MSG_PREFIX.match(text)
    return (text[m.end() :] if m else text).strip()


def _structured(lineno: int, fields: structured.Fields, fmt: str) -> Record:
    stack = fields.stack
    record = Record(lineno, fields.ts, fields.level, fields.message, fmt, stack[:MAX_CONTINUATION])
    record.dropped_lines = max(0, len(stack) - MAX_CONTINUATION)
    record.component, record.host, record.peer = fields.component, fields.host, fields.peer
    return record


def _merged(inner: Record, outer: structured.Fields, fmt: str) -> Record:
    """A record read from inside another: its own time and message; the wrapper's level (set
    by the logger, not guessed from text) and names where it has none."""
    inner.ts = inner.ts or outer.ts
    inner.level = outer.level or inner.level
    inner.component = inner.component or outer.component
    inner.host = inner.host or outer.host
    inner.peer = inner.peer or outer.peer
    for line in outer.stack:
        inner.attach(line)
    inner.format = fmt if inner.format == fmt else f"{fmt}/{inner.format}"
    return inner


def _finish(record: Record) -> Record:
    if record.level is None:
        text = record.message
        if record.continuation:
            text = "\n".join([text, *record.continuation])
        record.level = level_from_trace(text)
    if record.level is None:
        # Only the record's own line: its continuation is a stack or a payload, whose words
        # ("at ...Error.<init>") say nothing about this record.
        record.level = level_from_wording(record.message)
        record.level_inferred = record.level is not None
    return record


def _starts_exception(current: Record, line: str) -> bool:
    """An exception line right after a bare line of text is a record of its own: "Starting
    app" then "java.net.ConnectException: ..." are two events, not one. After a traceback
    header or inside a stack it stays a continuation."""
    return (
        current.format == TEXT
        and current.level is None
        and not current.continuation
        and _EXCEPTION_START.match(line) is not None
        and _TRACE_START.match(current.message) is None
        and _TRACE_HEADER.match(current.message) is None
    )


def iter_records(
    lines: Iterable[str],
    *,
    reference_year: int | None = None,
    years_assumed: set[int] | None = None,
    header: HeaderReader | None = None,
) -> Iterator[Record]:
    """Records from `lines` (without line ends), in order; line numbers start at 1.

    `reference_year` is the year of the first year-less (syslog) timestamp; later ones
    roll over into the next year when the date jumps back. The years given to year-less
    timestamps are added to `years_assumed`, so the caller can say so. Lines that have
    `header` (a file's learned header) are read by it.
    """
    parser = _LineParser(reference_year, years_assumed)
    parse = parser.parse
    read = header.read if header is not None else None
    # A header that opens with a word could take "Caused by: ..." for one.
    word_first = header is not None and header.opens_with_word
    current: Record | None = None
    for lineno, line in enumerate(lines, 1):
        # Most lines of most files have the learned header: they are read by it, here (once
        # per line: no call more than needed), and parse() reads the rest (blank and
        # indented lines first, as here).
        if read is not None and line[:1] not in _INDENTED_OR_EMPTY and not line.isspace():
            found = read(line, parser.year)
            if found is not None and not (word_first and _CONTINUATION.match(line)):
                when, level, component, message, shape = found
                ts = None
                if when is not None:
                    ts = when[0] if when[2] else parser.rollover(TimestampMatch(*when)).ts
                fmt = "plain" if ts is not None or level is not None else TEXT
                record = Record(lineno, ts, level, message, fmt, None, component, shape)
                if current is not None:
                    # Most records have a level: _finish only reads one for the others.
                    yield current if current.level is not None else _finish(current)
                current = record
                continue
        parsed = parse(line, lineno)
        if isinstance(parsed, Record):
            if current is not None:
                # Most records have a level: _finish only reads one for the others.
                yield current if current.level is not None else _finish(current)
            current = parsed
            continue
        kind, text, ts = parsed
        if current is not None and kind is Kind.CONTINUATION and _starts_exception(current, text):
            yield _finish(current)
            current = Record(lineno, ts, None, text.strip(), TEXT)
            continue
        if current is not None and (
            kind is Kind.CONTINUATION
            or kind is Kind.BLANK
            or (kind is Kind.TRACE and current.level in (ERROR, FATAL, WARN))
            or (kind is Kind.OTHER and current.format != TEXT)
        ):
            current.attach(text)
            continue
        if kind is Kind.BLANK:
            continue
        if current is not None:
            yield _finish(current)
        level = FATAL if kind is Kind.PANIC else None
        if kind in (Kind.TRACE, Kind.PANIC) and current is not None:
            # An uncaught exception or panic after an ordinary line: its own record, dated
            # with the last time seen, since the crash happened at or after it.
            current = Record(lineno, ts or current.ts, level, text.strip(), current.format)
        else:
            current = Record(lineno, ts, level, text.strip(), TEXT)
    if current is not None:
        yield _finish(current)


def iter_csv_records(
    lines: Iterable[str],
    delimiter: str,
    *,
    reference_year: int | None = None,
    years_assumed: set[int] | None = None,
) -> Iterator[Record]:
    """Records of a CSV log export (`csv_logs`), numbered by the line each row starts on."""
    parser = _LineParser(reference_year, years_assumed)
    for row in iter_csv_rows(lines, delimiter, reference_year):
        if row.fields is not None:
            yield _finish(parser.opened(row.line, row.fields, "csv"))
            continue
        parsed = parser.parse(row.raw or "", row.line)
        if isinstance(parsed, Record):
            yield _finish(parsed)
        elif parsed[0] is not Kind.BLANK:
            yield _finish(Record(row.line, parsed[2], None, parsed[1].strip(), TEXT))


JsonRecord = dict[str, object]


def iter_document_records(
    objects: Iterable[JsonRecord],
    *,
    reference_year: int | None = None,
    years_assumed: set[int] | None = None,
) -> Iterator[Record]:
    """Records of a JSON document (`structured.records_in`), numbered in order: a document
    has no line per record."""
    parser = _LineParser(reference_year, years_assumed)
    for number, obj in enumerate(objects, 1):
        fields = structured.from_json(obj, reference_year)
        yield _finish(parser.opened(number, fields, "json"))
