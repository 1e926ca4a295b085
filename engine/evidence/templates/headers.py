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

A field only some lines write between the header and the message (a connection number, a
"[client ip:port]" block) cannot be a position: it is told by how its values vary against
the message after it (`_optional_field`), and matched as optional after the header.

No format is named anywhere: syslog, log4j, Python logging, access logs, glog and
`- 1117838570 2005.06.03 R02-M1 ... RAS KERNEL INFO` all fall out of the same rules.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable

from engine.evidence.templates.tokens import shape_of

TIME, LEVEL, BRACKET, SEP, COMP, WORD = "TIME", "LEVEL", "BRACKET", "SEP", "COMP", "WORD"

SAMPLE_LINES = 500
MAX_FIELDS = 12
MIN_SHARE = 0.8  # of the sample lines that must agree on a position's kind
RARE_SHARE = 0.01  # kinds rarer than this at a header position make a line non-conforming
_EMPTY = "EMPTY"  # a "-" field while learning
_COMP_SEARCH = 3  # fields searched for a multi-word "component:" in a non-conforming line
# A word varies alone when what follows it leaves this share of its entropy unexplained.
_INDEPENDENT = 0.6
_MAX_CONSTANT = 6  # chars of a value every line repeats that may still be header ("F", "UTC")
_VARIED = 3  # values after a repeated one that make it header rather than a message's word
# Separated headers: separators tried in order, fields looked at, their size.
_SEPARATORS = ("\t", "|", ":")
_MAX_SEPARATED = 8
_MAX_SEPARATED_CHARS = 60
_MAX_SEPARATED_WORDS = 3
_NAME = re.compile(r"[\w.$-]+")
# An optional field after the header (a connection number, a "[client ip:port]" block): the
# share of header lines, and the least number of lines, that must have it and must not.
_OPTIONAL_SHARE = 0.05
_OPTIONAL_MIN = 5
# Of the lines with it, the share whose next field also starts messages of lines without it.
_OPTIONAL_OVERLAP = 0.5
_DIGIT_RUNS = re.compile(r"0+")
_BARE_NUMBER = re.compile(r"[-+]?0(?:[.,:]0)*")
_GLUED = re.compile(r"[|\t]|:(?=.)")

_LEVEL_WORDS = (
    "TRACE|DEBUG|DEBU|FINEST|FINER|FINE|VERBOSE|INFO|INFORMATION|NOTICE|WARNING|WARN|WRN"
    "|ERROR|ERRO|ERR|SEVERE|CRITICAL|CRIT|ALERT|FATAL|EMERG|EMERGENCY|PANIC|DBG|INF|FTL"
    "|TRCE|DBUG|FAIL"
)
_MONTHS_DAYS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun"
# One level of nesting ([Peer[id=1]/x]); possessive, so an unclosed '[' fails in linear time.
_BRACKETED = r"\[(?:[^\[\]\n]++|\[[^\[\]\n]*+\])*+\]"
# Blocks glued together ("[time][INFO ][logger]") are one field, and so is a "(...)" block
# with one level of nesting ("(Foo.java:run(42))").
_BLOCK = rf"(?:{_BRACKETED})++|\((?:[^()\n]++|\([^()\n]*+\))*+\)"

# Kinds in priority order; a field is the first kind whose pattern matches all of it.
_KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    (LEVEL, rf"[\[(<]?(?i:{_LEVEL_WORDS})[\])>]?:?"),
    (BRACKET, _BLOCK),
    (TIME, rf"\d[\d\-/:.,+TZ]*|(?:{_MONTHS_DAYS})"),  # dates, times, epochs, pids, IPs
    (SEP, r"[^\w\s\[\]()]+"),  # "-", "|", "---", ":"
    # "sshd[42]:", "dfs.DataNode:", "main.go:12]"; not '{"time":', the start of JSON.
    # A name padded to a width before its colon ("chatty  :") is one field too.
    (COMP, r"[^\s\[{\"']\S*(?:\]| *:)"),
    (WORD, r"\S+"),
)
_KIND = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _KIND_PATTERNS))
_FIELD = re.compile(rf"(?:{_BLOCK})(?=\s|$)|\w[\w.$-]* +:(?=\s|$)|\S+")
_TAIL_AFTER_WORD = {SEP, COMP}  # after a level, a word is header only as a logger name
_NO_LEVEL_AFTER_WORD = {SEP, COMP, TIME, BRACKET, LEVEL}


def field_kind(field: str) -> str:
    m = _KIND.fullmatch(field)
    return (m.lastgroup or WORD) if m else WORD


def _fields(line: str, limit: int = MAX_FIELDS) -> list[re.Match[str]]:
    out = []
    for m in _FIELD.finditer(line):
        out.append(m)
        if len(out) == limit:
            break
    return out


def header_length(kinds: list[str], varies_alone: Callable[[int], bool] | None = None) -> int:
    """How many of the positions (their dominant kinds, in order) are header.

    `varies_alone(i)`: whether the words at position i vary independently of what follows
    them (a component, a host, a stream name), which makes a word header where the kinds
    alone would end the header before it.
    """
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
            # A logger before its "(File.java:method(line)) -" location.
            located = following == BRACKET and i + 2 < len(kinds) and kinds[i + 2] == SEP
            if following not in after_word and not located:
                if varies_alone is None or not varies_alone(i):
                    break
                length = i + 1
        else:
            length = i + 1
            if kind == SEP and prev in (WORD, BRACKET):
                break
        prev = kind
    return length


def _entropy(counts: Iterable[int]) -> float:
    values = list(counts)
    total = sum(values)
    return -sum(n / total * math.log(n / total) for n in values if n) if total else 0.0


def _varies_alone(values: list[list[str]], i: int) -> bool:
    """Whether position i holds header values: drawn from their own set, whatever the
    message after them says. A message's words follow each other ("Received block",
    "PacketResponder 1"), so knowing the next word tells the word before it; a component,
    a host or a stream name next to a message is not told by the message's first word.
    A value every line repeats ("F", "UTC") is header when short and followed, maybe after
    more such values, by a position that varies."""
    column = [row[i] for row in values if len(row) > i]
    if any(_GLUED.search(value) for value in column):
        return False  # "INFO:app:Started": the message is glued on
    own = Counter(column)
    if len(own) == 1:
        value = next(iter(own))
        if len(value) > _MAX_CONSTANT:
            # A longer one (the host of a one-host file) is header only right before a
            # position that varies alone itself; a message's first word is followed by
            # words that go with it, or by one that never changes ("Received block").
            following = Counter(row[i + 1] for row in values if len(row) > i + 1)
            return len(following) >= _VARIED and _varies_alone(values, i + 1)
        for j in range(i + 1, MAX_FIELDS):
            after = Counter(row[j] if len(row) > j else "" for row in values)
            if len(after) >= _VARIED:
                return True
            if len(after) > 1 or len(next(iter(after))) > _MAX_CONSTANT:
                return False
        return False
    pairs: dict[str, Counter[str]] = {}
    for row in values:
        if len(row) > i:
            pairs.setdefault(row[i + 1] if len(row) > i + 1 else "", Counter())[row[i]] += 1
    total = len(column)
    spread = _entropy(own.values())
    given_next = sum(sum(c.values()) / total * _entropy(c.values()) for c in pairs.values())
    return given_next >= _INDEPENDENT * spread


def _separated(lines: list[str]) -> tuple[str, int] | None:
    """A header of fields between a separator other than spaces ("time|comp|pid|msg",
    tab-separated columns, "LEVEL:logger:msg"): the separator and how many fields."""
    total = len(lines)
    if not total:
        return None
    for sep in _SEPARATORS:
        counts = []
        for line in lines:
            parts = line.split(sep, _MAX_SEPARATED)
            n = 0
            for part in parts[:-1]:
                if not _separated_field(part, sep, n):
                    break
                n += 1
            counts.append(n)
        counts.sort()
        k = counts[int(total * (1 - MIN_SHARE))] if total > 1 else counts[0]
        if k:
            return sep, k
    return None


def _separated_field(part: str, sep: str, position: int) -> bool:
    text = part.strip()
    if not text or len(text) > _MAX_SEPARATED_CHARS:
        return False
    if sep == ":":  # glued "LEVEL:logger:": single words, the first one a word
        return _NAME.fullmatch(part) is not None and (position > 0 or text[0].isalpha())
    return len(text.split()) <= _MAX_SEPARATED_WORDS


class HeaderLayout:
    """The learned header: strips it from lines that have it."""

    def __init__(
        self,
        allowed: list[list[str]],
        *,
        indented: bool = False,
        separated: tuple[str, int] | None = None,
        optional: str | None = None,
    ) -> None:
        self.allowed = allowed  # per header position, the kinds a line may have there
        self.separated = separated
        # A field some lines have between the header and the message (`_optional_field`):
        # its pattern, matched right after the header when it is there.
        self.optional = optional
        # Lines of a file whose every line is indented (right-aligned numbers) start with
        # spaces; anywhere else a line that does is a continuation, not a header.
        lead = r"[ \t]*" if indented else ""
        if separated is not None:
            sep, count = separated
            if sep == ":":
                field = r"[\w.$-]++:"
            else:
                field = rf"[^{re.escape(sep)}\n]{{0,{_MAX_SEPARATED_CHARS + 20}}}{re.escape(sep)}"
            self.regex: re.Pattern[str] | None = re.compile(rf"{lead}(?:{field}){{{count}}}[ \t]*")
            return
        # Alternatives in priority order, so "[IPC Server 1]" is tried as a bracket before
        # "[IPC" as a word. Each field is atomic once it ends at a space: a line without the
        # header fails without retrying every way of reading the fields before.
        # Digits may be given as "0": the patterns only ask for a digit.
        pattern = r"\s+".join(
            "(?>(?:" + "|".join(p for k, p in _KIND_PATTERNS if k in kinds) + r")(?=\s|$))"
            for kinds in allowed
        )
        tail = rf"(?:(?>{optional})(?:\s+|$))?" if optional else ""
        # None when no header was found: then no line "has the header".
        self.regex = re.compile(lead + pattern + r"(?:\s+|$)" + tail) if allowed else None

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
        if self.separated is not None:
            return line.strip()
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


def learn_layout(lines: Iterable[str], *, indented: bool = False) -> HeaderLayout:
    """The header layout shared by most of `lines` (a sample of record-starting lines).

    `indented`: the file's lines start with spaces (learn from them without).
    """
    sample = [line.lstrip() for line in lines] if indented else list(lines)
    kinds: dict[str, str] = {}  # fields repeat (levels, hosts, timestamp shapes)
    rows = []
    values = []
    for line in sample:
        row = []
        shapes = []
        for m in _fields(shape_of(line)):
            field = m.group()
            kind = kinds.get(field)
            if kind is None:
                kind = kinds[field] = _EMPTY if field == "-" else field_kind(field)
            row.append(kind)
            shapes.append(field)
        rows.append(row)
        values.append(shapes)
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
        if n + empty < MIN_SHARE * total and kind in (LEVEL, COMP, WORD, BRACKET):
            # A level where the logger has one ("ERROR:"), a word with a colon where it has
            # none ("LOG:"); a state that is sometimes "error"; a bracketed state that is
            # sometimes a level word ("[Note]", "[Warning]"): one position either way.
            if kind in (WORD, BRACKET):
                n = count[kind] + count[LEVEL]
            else:
                n = count[LEVEL] + max(count[COMP], count[BRACKET])
        if n + empty < MIN_SHARE * total:
            break
        if empty:
            count[SEP] += empty
            count[WORD] += total  # always allowed
        dominant.append(kind)
        counts.append(count)
    length = header_length(dominant, lambda i: _varies_alone(values, i))
    allowed = [
        [dominant[i]]
        + [k for k, n in counts[i].most_common() if k != dominant[i] and n >= RARE_SHARE * total]
        for i in range(length)
    ]
    layout = HeaderLayout(allowed, indented=indented)
    optional = _optional_field(layout, sample)
    if optional is not None:
        layout = HeaderLayout(allowed, indented=indented, optional=optional)
    separated = _separated(sample)
    if separated is not None:
        by_separator = HeaderLayout([], indented=indented, separated=separated)
        if _ends(by_separator, sample) >= _ends(layout, sample):
            return by_separator
    return layout


def _ends(layout: HeaderLayout, lines: list[str]) -> int:
    """The median of where `layout` says the message starts in `lines`."""
    ends = sorted(max(layout.match_end(shape_of(line)), 0) for line in lines)
    return ends[len(ends) // 2] if ends else 0


def _optional_field(layout: HeaderLayout, lines: list[str]) -> str | None:
    """The pattern of a field that only some lines have between the header and the message
    (a connection number "*42", a "[client 10.0.0.1:5000]" block), or None.

    Such a field sits where the message starts, so the kinds per position cannot see it: on
    the lines without it that position holds message words. It is told from a message's
    first word by how it varies, over the lines whose message starts with a field of its
    shape (digits as one "0"):
    - it carries a value (a digit) and is not a bare number (a count that starts a message);
    - its value is not told by the field after it: a code that names the event ("E042:"
      before the same text each time) is the message's, an id drawn per line is not;
    - what follows it also starts the messages of lines without it: present or not, the
      same messages come after, so it belongs to neither. A field that only some events
      write stays in those events' messages, where it costs no grouping.
    """
    if layout.regex is None:
        return None
    rows = []  # per header line: its message's first field (shape, value), the next's shape
    for line in lines:
        shape = shape_of(line)
        end = layout.match_end(shape)
        if end < 0:
            continue
        fields = _fields(shape[end:], 2)
        if not fields:
            continue
        first = fields[0]
        value = line[end + first.start() : end + first.end()]
        following = fields[1].group() if len(fields) > 1 else ""
        rows.append((first.group(), value, following))
    skeletons = Counter(_DIGIT_RUNS.sub("0", start) for start, _, _ in rows)
    least = max(_OPTIONAL_MIN, _OPTIONAL_SHARE * len(rows))
    for skeleton, present in skeletons.most_common():
        if present < least:
            break
        if "0" not in skeleton or _BARE_NUMBER.fullmatch(skeleton):
            continue
        if len(rows) - present < _OPTIONAL_MIN:
            continue
        with_it, starts = [], set()
        for start, value, following in rows:
            if _DIGIT_RUNS.sub("0", start) == skeleton:
                with_it.append((value, following))
            else:
                starts.add(start)
        if sum(following in starts for _, following in with_it) < _OPTIONAL_OVERLAP * present:
            continue
        if _told_by_next(with_it):
            continue
        # Digits were read as "0": each run of them is any number.
        return "".join(r"\d+" if c == "0" else re.escape(c) for c in skeleton) + r"(?=\s|$)"
    return None


def _told_by_next(pairs: list[tuple[str, str]]) -> bool:
    """Whether the values of (value, next field) pairs are told by the next field: how much
    of its spread a value keeps among lines with the same next field, against the most it
    could keep there. A group of n lines holds at most log(n) of it, so ids drawn fresh per
    line (which a plain ratio of entropies would call told) are not."""
    by_next: dict[str, Counter[str]] = {}
    for value, following in pairs:
        by_next.setdefault(following, Counter())[value] += 1
    total = len(pairs)
    spread = _entropy(Counter(value for value, _ in pairs).values())
    given_next = most = 0.0
    for values in by_next.values():
        n = sum(values.values())
        given_next += n / total * _entropy(values.values())
        most += n / total * min(math.log(n), spread)
    return given_next < _INDEPENDENT * most
