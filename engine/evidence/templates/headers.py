"""Where the message starts: a file's header layout, learned from a sample of its own lines.

A header is a run of fields every line repeats: timestamps, a level, a [thread], a host, a
`component:`. Each field of a line gets a kind (TIME, LEVEL, BRACKET, SEP, COMP, WORD). Per
position the kind that most sample lines share (at least MIN_SHARE of them) is that
position's kind; the first position without one is message text. Within those positions:

- a LEVEL is always header, and so is everything before it;
- after it (or from the start, without a level) fields continue while they look like
  header tail: TIME (a pid), BRACKET ([thread]), SEP, or a WORD followed by a SEP or COMP
  (a logger name before " - " or ":");
- a COMP ("sshd[42]:", "org.x.Foo:") ends the header, and so does a SEP right after a WORD or
  BRACKET ("[main] - ", "c.e.App - ");
- the header never ends on a WORD: words at the front of a message are the message.

No format is named anywhere: syslog, log4j, Python logging, access logs, glog and
`- 1117838570 2005.06.03 R02-M1 ... RAS KERNEL INFO` all fall out of the same rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from engine.evidence.templates.tokens import shape_of

TIME, LEVEL, BRACKET, SEP, COMP, WORD = "TIME", "LEVEL", "BRACKET", "SEP", "COMP", "WORD"

SAMPLE_LINES = 500
MAX_FIELDS = 12
MIN_SHARE = 0.8  # of the sample lines that must agree on a position's kind
RARE_SHARE = 0.01  # kinds rarer than this at a header position make a line non-conforming
_EMPTY = "EMPTY"  # a "-" field while learning
_COMP_SEARCH = 3  # fields searched for a multi-word "component:" in a non-conforming line

_LEVEL_WORDS = (
    "TRACE|DEBUG|DEBU|FINEST|FINER|FINE|VERBOSE|INFO|INFORMATION|NOTICE|WARNING|WARN|WRN"
    "|ERROR|ERRO|ERR|SEVERE|CRITICAL|CRIT|ALERT|FATAL|EMERG|EMERGENCY|PANIC|DBG|INF|FTL"
)
_MONTHS_DAYS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun"
# One level of nesting ([Peer[id=1]/x]); possessive, so an unclosed '[' fails in linear time.
_BRACKETED = r"\[(?:[^\[\]\n]++|\[[^\[\]\n]*+\])*+\]"

# Kinds in priority order; a field is the first kind whose pattern matches all of it.
_KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    (LEVEL, rf"[\[(<]?(?i:{_LEVEL_WORDS})[\])>]?:?"),
    (BRACKET, _BRACKETED),
    (TIME, rf"\d[\d\-/:.,+TZ]*|(?:{_MONTHS_DAYS})"),  # dates, times, epochs, pids, IPs
    (SEP, r"[^\w\s\[\]()]+"),  # "-", "|", "---", ":"
    # "sshd[42]:", "dfs.DataNode:", "main.go:12]"; not '{"time":', the start of JSON.
    (COMP, r"[^\s\[{\"']\S*[:\]]"),
    (WORD, r"\S+"),
)
_KIND = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _KIND_PATTERNS))
_FIELD = re.compile(rf"{_BRACKETED}(?=\s|$)|\S+")
_TAIL_AFTER_WORD = {SEP, COMP}  # after a level, a word is header only as a logger name
_NO_LEVEL_AFTER_WORD = {SEP, COMP, TIME, BRACKET, LEVEL}


def field_kind(field: str) -> str:
    m = _KIND.fullmatch(field)
    return (m.lastgroup or WORD) if m else WORD


def _fields(line: str) -> list[re.Match[str]]:
    out = []
    for m in _FIELD.finditer(line):
        out.append(m)
        if len(out) == MAX_FIELDS:
            break
    return out


def header_length(kinds: list[str]) -> int:
    """How many of the positions (their dominant kinds, in order) are header."""
    last_level = max((i for i, kind in enumerate(kinds) if kind == LEVEL), default=-1)
    length = last_level + 1
    after_word = _TAIL_AFTER_WORD if last_level >= 0 else _NO_LEVEL_AFTER_WORD
    prev = kinds[last_level] if last_level >= 0 else None
    for i in range(length, len(kinds)):
        kind = kinds[i]
        if kind == COMP:
            return i + 1
        if kind == WORD:
            following = kinds[i + 1] if i + 1 < len(kinds) else None
            if following not in after_word:
                break
        else:
            length = i + 1
            if kind == SEP and prev in (WORD, BRACKET):
                break
        prev = kind
    return length


class HeaderLayout:
    """The learned header: strips it from lines that have it."""

    def __init__(self, allowed: list[list[str]]) -> None:
        self.allowed = allowed  # per header position, the kinds a line may have there
        # Alternatives in priority order, so "[IPC Server 1]" is tried as a bracket before
        # "[IPC" as a word. Each field is atomic once it ends at a space: a line without the
        # header fails without retrying every way of reading the fields before.
        # Digits may be given as "0": the patterns only ask for a digit.
        pattern = r"\s+".join(
            "(?>(?:" + "|".join(p for k, p in _KIND_PATTERNS if k in kinds) + r")(?=\s|$))"
            for kinds in allowed
        )
        # None when no header was found: then no line "has the header".
        self.regex = re.compile(pattern + r"(?:\s+|$)") if allowed else None

    @property
    def kinds(self) -> list[str]:
        """The dominant kind of each header position, e.g. ['TIME', 'TIME', 'LEVEL', 'COMP']."""
        return [kinds[0] for kinds in self.allowed]

    def match_end(self, line: str) -> int:
        """Where the message starts when `line` has the whole header; -1 when it does not."""
        if self.regex is None:
            return -1
        m = self.regex.match(line)
        return m.end() if m else -1

    def message(self, line: str) -> str:
        """The message of any line: after the header, or after as much of it as the line has.

        A line whose "component:" spans several words ("syslogd 1.4.1: restart.") still
        loses it: the header's last field is looked for a few fields further on.
        """
        end = self.match_end(line)
        if end >= 0:
            return line[end:]
        fields = _fields(line)
        matched = 0
        for m, kinds in zip(fields, self.allowed, strict=False):
            if field_kind(m.group()) not in kinds:
                break
            matched += 1
        if not matched:
            return line.strip()
        start = fields[matched - 1].end()
        if matched == len(self.allowed) - 1 and self.allowed[-1][0] == COMP:
            for m in fields[matched : matched + _COMP_SEARCH]:
                if m.group().endswith(":"):
                    start = m.end()
                    break
        return line[start:].strip()


def learn_layout(lines: Iterable[str]) -> HeaderLayout:
    """The header layout shared by most of `lines` (a sample of record-starting lines)."""
    kinds: dict[str, str] = {}  # fields repeat (levels, hosts, timestamp shapes)
    rows = []
    for line in lines:
        row = []
        for m in _fields(shape_of(line)):
            field = m.group()
            kind = kinds.get(field)
            if kind is None:
                kind = kinds[field] = _EMPTY if field == "-" else field_kind(field)
            row.append(kind)
        rows.append(row)
    total = len(rows)
    dominant: list[str] = []
    counts: list[Counter[str]] = []
    for i in range(MAX_FIELDS):
        count = Counter(row[i] for row in rows if len(row) > i)
        if not count:
            break
        # A lone "-" stands for an empty field (BGL's label, an access log's user), so it
        # agrees with whatever the other lines have there, and other lines may have any
        # word there; only "-" everywhere counts as a SEP.
        empty = count.pop(_EMPTY, 0)
        kind, n = count.most_common(1)[0] if count else (SEP, 0)
        if n + empty < MIN_SHARE * total:
            break
        if empty:
            count[SEP] += empty
            count[WORD] += total  # always allowed
        dominant.append(kind)
        counts.append(count)
    length = header_length(dominant)
    allowed = [
        [dominant[i]]
        + [k for k, n in counts[i].most_common() if k != dominant[i] and n >= RARE_SHARE * total]
        for i in range(length)
    ]
    return HeaderLayout(allowed)
