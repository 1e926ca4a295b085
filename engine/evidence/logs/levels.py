"""Severity of a log record, mapped onto six canonical levels: FATAL ERROR WARN INFO DEBUG TRACE.

The hard part is not the mapping but where to look: "retrying after error" is a message,
not a level. A level counts only in a level position: the start of the text (any case,
followed by ':' ']' '|' or in brackets), a bracketed token near the start, or an
upper-case token near the start. The earliest such token wins.
"""

from __future__ import annotations

import re

FATAL, ERROR, WARN, INFO, DEBUG, TRACE = "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"
SEVERITY_ORDER = (FATAL, ERROR, WARN, INFO, DEBUG, TRACE)
ERROR_LEVELS = frozenset({FATAL, ERROR})

_CANONICAL = {
    "FATAL": FATAL,
    "FATA": FATAL,
    "CRITICAL": FATAL,
    "CRIT": FATAL,
    "PANIC": FATAL,
    "PANI": FATAL,
    "EMERG": FATAL,
    "EMERGENCY": FATAL,
    "ALERT": FATAL,
    "F": FATAL,
    "ERROR": ERROR,
    "ERRO": ERROR,
    "ERR": ERROR,
    "SEVERE": ERROR,
    "E": ERROR,
    "WARNING": WARN,
    "WARN": WARN,
    "W": WARN,
    "INFO": INFO,
    "INFORMATION": INFO,
    "NOTICE": INFO,
    "I": INFO,
    "DEBUG": DEBUG,
    "DEBU": DEBUG,
    "FINE": DEBUG,
    "FINER": DEBUG,
    "D": DEBUG,
    "TRACE": TRACE,
    "TRAC": TRACE,
    "FINEST": TRACE,
    "VERBOSE": TRACE,
    "T": TRACE,
}
# Names that only make sense as a whole field value: Serilog's and .NET console's short
# forms, and the words other servers use ("Note", a database's "LOG" for an ordinary line).
_FIELD_ONLY = {
    "ERR": ERROR,
    "WRN": WARN,
    "INF": INFO,
    "DBG": DEBUG,
    "VRB": TRACE,
    "FTL": FATAL,
    "FAIL": ERROR,
    "DBUG": DEBUG,
    "TRCE": TRACE,
    "NOTE": INFO,
    "LOG": INFO,
}

_WORDS = (
    "FATAL|FATA|CRITICAL|CRIT|PANIC|PANI|EMERG(?:ENCY)?|ALERT|SEVERE|ERROR|ERRO|ERR"
    "|WARNING|WARN|NOTICE|INFO|DEBUG|DEBU|TRACE|TRAC|FINEST|FINER|FINE"
)
# Group 1: at the very start, any case, closed by punctuation ("error: ...", "[warn] ...").
# Group 2: bracketed anywhere in the head ("... [error] 1234#0: ...").
# Group 3: an upper-case word anywhere in the head ("... [main] ERROR c.e.Foo - ...").
_LEVEL_IN_HEAD = re.compile(
    rf"^[\s\[(<|]*((?i:{_WORDS}))(?=\s*[:\]|>)])"
    rf"|[\[(<]\s*((?i:{_WORDS}))\s*[\])>]"
    rf"|(?<![\w.\-/])({_WORDS})(?![\w\-])"
)
# A line that opens with its level: "[warn] x", "<error> x", "Error: x", "ERROR x",
# logrus "ERRO[0003] x". A capitalised word followed by a space ("Alert fired") is prose.
_LEVEL_AT_START = re.compile(
    rf"[\[(]\s*((?i:{_WORDS}))\s*[\])]\s*"
    rf"|<((?i:{_WORDS}))>\s*"
    rf"|((?i:{_WORDS}))\s*:\s*"
    rf"|({_WORDS})(?:\s+|$|(?=\[))"
)
_HEAD_CHARS = 100
# Every level word of _WORDS holds one of these (lower case).
_LEVEL_PARTS = (
    "fata", "crit", "pani", "emerg", "alert", "severe", "err", "warn", "notice", "info",
    "debu", "trac", "fine",
)  # fmt: skip
_UPPER_WORDS = {word: level for word, level in _CANONICAL.items() if len(word) > 1}

_TRACE_MARKERS = re.compile(
    r"Traceback \(most recent call last\)|^\s+at [\w$.<>/]+\(|^Exception in thread "
    r"|^[\w.$]+(?:Exception|Error)(?::|$)|^goroutine \d+ \[|^panic: ",
    re.MULTILINE,
)
_PANIC = re.compile(r"^(?:panic: |fatal error: )", re.MULTILINE)
_TRACE_LITERALS = ("Traceback", "Exception", "Error", "goroutine ", "panic: ")

_PINO_LEVELS = ((60, FATAL), (50, ERROR), (40, WARN), (30, INFO), (20, DEBUG), (0, TRACE))
_SYSLOG_PRIORITIES = (FATAL, FATAL, FATAL, ERROR, WARN, INFO, INFO, DEBUG)


def canonical_level(word: str) -> str | None:
    """'warning' -> 'WARN'; None for words that are not levels."""
    upper = word.strip().upper()
    return _CANONICAL.get(upper) or _FIELD_ONLY.get(upper)


def level_word(word: str) -> str | None:
    """A level's own name ('notice', 'ERROR'), found inside a longer field; never a letter or
    a name that only means a level as a whole field ('LOG', 'FAIL')."""
    return _UPPER_WORDS.get(word.upper())


def find_level(text: str) -> tuple[str, int, int] | None:
    """The level token in a level position near the start of `text`: (level, start, end)."""
    if text[:1] == " ":  # the common " ERROR ..." right after a timestamp, without a regex
        end = text.find(" ", 1)
        level = _UPPER_WORDS.get(text[1:end]) if end > 1 else None
        if level is not None:
            return level, 1, end
    head = text[:_HEAD_CHARS]
    # Most heads hold no level word in any case, which these few look-ups say for ASCII
    # text (outside it, case-insensitive matching also pairs "ſ" with "s").
    if head.isascii() and not any(map(head.lower().__contains__, _LEVEL_PARTS)):
        return None
    m = _LEVEL_IN_HEAD.search(text, 0, _HEAD_CHARS)
    if m is None:
        return None
    group = m.lastindex or 1
    return _CANONICAL[m.group(group).upper()], m.start(group), m.end()


def level_at_start(text: str) -> tuple[str, int] | None:
    """(level, end) when `text` itself opens with a level: 'ERROR x', '[warn] x', 'error: x'."""
    m = _LEVEL_AT_START.match(text)
    if m is None:
        return None
    return _CANONICAL[m.group(m.lastindex or 1).upper()], m.end()


def level_from_value(value: object, *, syslog_priority: bool = False) -> str | None:
    """A level field from JSON/logfmt: a name, a pino/bunyan number (10-60) or, for
    journald's PRIORITY field, a syslog priority (0-7)."""
    if isinstance(value, str):
        if value.isdecimal():
            return level_from_value(int(value), syslog_priority=syslog_priority)
        return canonical_level(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if syslog_priority:
            return _SYSLOG_PRIORITIES[value] if 0 <= value < len(_SYSLOG_PRIORITIES) else None
        if value >= 10:
            return next(level for floor, level in _PINO_LEVELS if value >= floor)
    return None


def level_from_status(status: int) -> str:
    """HTTP access logs: a 5xx answer is an error, a 4xx a warning."""
    if status >= 500:
        return ERROR
    return WARN if status >= 400 else INFO


def level_from_trace(text: str) -> str | None:
    """ERROR for text that carries an exception or stack trace, FATAL for a Go panic."""
    if not _may_hold_trace(text) or not _TRACE_MARKERS.search(text):
        return None
    return FATAL if _PANIC.search(text) else ERROR


def _may_hold_trace(text: str) -> bool:
    """Whether `text` holds what every marker of _TRACE_MARKERS needs: a literal of it, or
    for an indented "at ..." frame a line that starts with a space. Most lines hold none,
    and looking is many times cheaper than the search."""
    return "\n" in text or text[:1].isspace() or any(map(text.__contains__, _TRACE_LITERALS))


def most_severe(a: str, b: str) -> str:
    return a if SEVERITY_ORDER.index(a) <= SEVERITY_ORDER.index(b) else b
