"""Split log lines into records: one record per logged event, stack traces included.

A line starts a record when it carries a timestamp, is structured (JSON, logfmt), is an
access-log line or opens with a level. Other lines (indented, `at ...`, `Caused by:`,
`  File "..."`, `goroutine 1 [running]:`, `...`) are attached to the record before them,
so a 40-line Java stack trace counts once. Works as a stream: one record in memory at a time.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
from engine.evidence.timestamps import TimestampMatch, match_timestamp, parse_timestamp_value

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
_PRI = re.compile(r"<(\d{1,3})>(?:1 )?")
_CRI = re.compile(r" (?:stdout|stderr) [FP] ")
_SYSLOG_REST = re.compile(r"\s+(\S+)\s+([^\s:\[]+)(?:\[(\d+)\])?:\s?")
_SYSLOG_PID_REST = re.compile(r"\s+(\S+)\s+([^\s:\[]+)\[(\d+)\]:\s?")
_GLOG_REST = re.compile(r"\s+\d+\s+[\w.\-]+:\d+\]\s?")
_ACCESS = re.compile(r'(\S+) \S+ \S+ \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) ')
_REQUEST = re.compile(r"([A-Z]+) (\S+)")
# What sits between the level and the message: [thread], Spring's "pid ---", nginx's
# "pid#tid: *cid", and a logger name when it is dotted (c.e.PaymentClient) or root.
_MSG_PREFIX = re.compile(
    r"[\s:|\]>-]*(?:\d+\s+---\s+)?(?:\[[^\]]*\]\s*)*(?:\d+#\d+:\s*(?:\*\d+\s+)?)?"
    r"(?:(?:[\w$/-]+(?:\.[\w$/-]+)+|root|__main__)(?:\s+-\s+|\s*:\s+|:(?=\S)))?"
)
# Spring Boot 3.2+: "INFO 1 --- [checkout] [nio-8080-exec-7] c.a.Class : msg" names the app
# before the thread (older versions have only the thread).
_SPRING_APP = re.compile(r"\s+\d+\s+---\s+\[\s*([\w.-]+)\]\s+\[")
_K8S_EVENT = re.compile(r"\s+(Warning|Normal)\s+([A-Z]\w+)\s+([\w.-]+/[\w.-]+)\s+(?:\d+\s+)?(.*)")
_GLOG_LEVELS = {"I": "INFO", "W": WARN, "E": ERROR, "F": FATAL}
_MAX_PREFIX_WORDS = 4  # more words before a level token means it is prose, not a header


class Kind(enum.Enum):
    BLANK = "blank"
    CONTINUATION = "continuation"
    TRACE = "trace"  # an uncaught-exception header
    PANIC = "panic"  # a Go panic: always its own record
    OTHER = "other"


@dataclass(slots=True)
class Record:
    line: int
    ts: datetime | None
    level: str | None
    message: str
    format: str
    continuation: list[str] = field(default_factory=list)
    group_key: str | None = None  # set when the message alone would group badly (HTTP status)
    component: str | None = None  # the service / program that logged it, when the line says
    host: str | None = None  # the pod / host it ran on, when the line says
    peer: str | None = None  # the service its request went to, when the line says
    dropped_lines: int = 0

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

    def parse(self, line: str, lineno: int, nested: bool = False) -> Record | _Other:
        if not line or line.isspace():
            return (Kind.BLANK, line, None)
        first = line[0]
        if first in " \t":
            return (Kind.CONTINUATION, line, None)
        if first == "{":
            record = self._json(line, lineno, nested)
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
            record = self._after_timestamp(line, lineno, pos, self._rollover(tsm), nested)
            if isinstance(record, Record) and pri_level:
                record.level = record.level or pri_level
            return record
        return self._without_timestamp(line, lineno, pos)

    def _rollover(self, tsm: TimestampMatch) -> TimestampMatch:
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

    def _json(self, line: str, lineno: int, nested: bool) -> Record | _Other | None:
        try:
            obj = load_json(line)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        inner = None if nested else structured.docker_inner(obj)
        if inner is not None:
            outer = parse_timestamp_value(obj.get("time"), self.year)
            return self._inner(inner, lineno, outer, "docker-json")
        return _structured(lineno, structured.from_json(obj, self.year), "json")

    def _inner(self, text: str, lineno: int, ts: datetime | None, fmt: str) -> Record | _Other:
        """A container runtime's wrapper around the application's own line."""
        result = self.parse(text, lineno, nested=True)
        if isinstance(result, Record):
            result.ts = result.ts or ts
            result.format = fmt
            return result
        if result[0] is Kind.OTHER:
            return Record(lineno, ts, None, text.strip(), fmt)
        return (result[0], text, ts)

    def _after_timestamp(
        self, line: str, lineno: int, pos: int, tsm: TimestampMatch, nested: bool
    ) -> Record | _Other:
        ts, rest = tsm.ts, line[tsm.end :]
        cri = _CRI.match(rest)
        if cri and not nested:
            return self._inner(rest[cri.end() :], lineno, ts, "cri")
        first = line[pos]
        if first in "IWEF" and line[pos + 1 : pos + 2].isdigit():
            glog = _GLOG_REST.match(rest)
            message = rest[glog.end() :] if glog else rest.strip()
            return Record(lineno, ts, _GLOG_LEVELS[first], message, "glog")
        if structured.looks_like_logfmt(rest):
            fields = structured.from_logfmt(structured.parse_logfmt(rest), self.year)
            return _structured(lineno, fields._replace(ts=ts), "logfmt")
        if first.isalpha() or pos:  # "Nov 21 14:02:03 host proc[pid]: msg" or "<13>..."
            syslog = _SYSLOG_REST.match(rest)
            if syslog:
                return self._syslog(lineno, ts, syslog, rest)
        return self._plain(lineno, ts, rest)

    def _syslog(self, lineno: int, ts: datetime, m: re.Match[str], rest: str) -> Record:
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

    def _plain(self, lineno: int, ts: datetime, rest: str) -> Record:
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
        found = find_level(rest)
        if found is not None:
            level, start, end = found
            if start == 0 or len(rest[:start].split()) <= _MAX_PREFIX_WORDS:
                record = Record(lineno, ts, level, _strip_prefix(rest[end:]), "plain")
                spring = _SPRING_APP.match(rest, end)
                if spring:
                    record.component = spring.group(1)
                return record
        syslog = _SYSLOG_PID_REST.match(rest)  # ISO-dated syslog: "... host proc[123]: msg"
        if syslog:
            return self._syslog(lineno, ts, syslog, rest)
        return Record(lineno, ts, None, _strip_prefix(rest), "plain")

    def _without_timestamp(self, line: str, lineno: int, pos: int) -> Record | _Other:
        access = _ACCESS.match(line, pos)
        if access:
            return self._access(lineno, access)
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


def _strip_prefix(text: str) -> str:
    m = _MSG_PREFIX.match(text)
    return (text[m.end() :] if m else text).strip()


def _structured(lineno: int, fields: structured.Fields, fmt: str) -> Record:
    stack = fields.stack
    record = Record(lineno, fields.ts, fields.level, fields.message, fmt, stack[:MAX_CONTINUATION])
    record.dropped_lines = max(0, len(stack) - MAX_CONTINUATION)
    record.component, record.host, record.peer = fields.component, fields.host, fields.peer
    return record


def _finish(record: Record) -> Record:
    if record.level is None:
        text = record.message
        if record.continuation:
            text = "\n".join([text, *record.continuation])
        record.level = level_from_trace(text)
    return record


def iter_records(
    lines: Iterable[str],
    *,
    reference_year: int | None = None,
    years_assumed: set[int] | None = None,
) -> Iterator[Record]:
    """Records from `lines` (without line ends), in order; line numbers start at 1.

    `reference_year` is the year of the first year-less (syslog) timestamp; later ones
    roll over into the next year when the date jumps back. The years given to year-less
    timestamps are added to `years_assumed`, so the caller can say so.
    """
    parser = _LineParser(reference_year, years_assumed)
    current: Record | None = None
    for lineno, line in enumerate(lines, 1):
        parsed = parser.parse(line, lineno)
        if isinstance(parsed, Record):
            if current is not None:
                yield _finish(current)
            current = parsed
            continue
        kind, text, ts = parsed
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
            yield _finish(_structured(row.line, row.fields, "csv"))
            continue
        parsed = parser.parse(row.raw or "", row.line)
        if isinstance(parsed, Record):
            yield _finish(parsed)
        elif parsed[0] is not Kind.BLANK:
            yield _finish(Record(row.line, parsed[2], None, parsed[1].strip(), TEXT))
