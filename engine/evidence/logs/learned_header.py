"""Time, level and component read from the header a file's own lines share.

The template miner learns each file's header layout (engine/evidence/templates/headers.py)
from a sample of its lines, naming no format. Here that layout becomes a reader: one regex
with a group per header position, the position that holds the time (found by reading the
sample), the one that holds the level and the one that names the program. A line that has
the whole header is then read by one regex match instead of the general line parser's
sequence of guesses, which is both what lets an unseen format have times and levels and
most of the speed of reading a big log. Lines mostly repeat a few shapes (digits as "0"),
which no field pattern tells apart: the match is made once per shape, and a line's time is
read from the last one's second (`SecondClock`).

The reader is used only where it reads the sample at least as well as the general parser
(`fits`): the same time and level wherever the general parser found one, and no name of the
general parser's lost. Formats the general parser knows more about (JSON, logfmt, syslog's
host, access logs' status codes, container wrappers) keep their own readers that way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

from engine.evidence.logs.levels import canonical_level, level_word
from engine.evidence.templates.headers import _KIND_PATTERNS as KIND_PATTERNS
from engine.evidence.templates.headers import (
    BRACKET,
    COMP,
    WORD,
    HeaderLayout,
    header_length,
)
from engine.evidence.templates.tokens import shape_of
from engine.evidence.timestamps import TimestampMatch, match_timestamp

# Of the sample's record lines, how many must have the whole header, and how many must read
# as well as the general parser read them, for the header to be read on every line.
MIN_MATCHED = 0.9
MIN_AGREEING = 0.97
_NAME_STRIP = re.compile(r"(?:\[[^\]]*\])?:?$")  # "sshd[42]:" -> "sshd", "CBS:" -> "CBS"
# A logger class ("org.x.y.Foo", "c.e.OrderService", "app.api.orders") names code, not the
# program or service: the general parser does not make one a component either.
_LOGGER = re.compile(r"\w+(?:\.\w+)+$")
_NAME_CHARS = 80
_EPOCH = re.compile(r"1\d{9}(?:\d{3}(?:\d{3})?)?(?:\.\d{1,9})?$")  # seconds to 2033, ms or µs
_LEVEL_TRIM = "[]()<>:"
_PARTS = re.compile(r"[^A-Za-z]+")
_MAX_LEVEL_FIELD = 40  # a compound field longer than this is not a level's
_MAX_FIELD_CHARS = 80  # of a separated header's field
_MAX_EXTENSION = 4  # "exe", "sh", "bin": longer is a logger's next name ("app.worker")
_FEW_NAMES = 20  # distinct values of a field that names components
_MIN_READ = 0.8  # of the sample's lines whose field must read as a time or a level
_FEW_LEVELS = 8  # distinct values of a level field...
_MIN_LEVEL_SHARE_FEW = 0.5  # ...of which this share of lines must read as levels
_SECONDS = re.compile(r"\d\d:\d\d:\d\d")  # a time of day's hours to seconds
_FRACTION = re.compile(r"[.,](\d{1,9})")
_FRACTION_CHARS = 10  # the most a fraction takes: a separator and nine digits
_ZONE_STARTS = ("+", "-", "U", "G")  # an offset or UTC / GMT after a space
_NO_FRACTION = timedelta(0)
_ZEROS = bytes.maketrans(b"123456789", b"000000000")  # UTF-8 digits as `shape_of` turns them
_UNSEEN = timedelta(days=-1)  # a tail not looked at yet (no fraction is negative)


# What a learned header reads from a line: its time as (datetime, end, has_year), or None; its
# level; the program it names; the message, stripped; and the message's `shape_of` when it
# came free. A plain tuple: one is made per line, and a NamedTuple's costs ten times more.
HeaderRead = tuple[tuple[datetime, int, bool] | None, str | None, str | None, str, str | None]
_MAX_REMEMBERED = 4096  # entries per memo below (fields, line shapes, fractions, endings)
# (header's end, time's start, level, name's start and end) of a line; -1: no such field.
_Fields = tuple[int, int, str | None, int, int]
_LACKS_HEADER: _Fields = (-1, -1, None, -1, -1)
# ...and for lines of one shape, where the message starts and stops, and its shape.
_ShapeFields = tuple[int, int, str | None, int, int, int, int, str]
_LACKS_SHAPE: _ShapeFields = (-1, -1, None, -1, -1, -1, -1, "")
_SHAPED_LINE_CHARS = 400  # lines up to this long are read by their shape...
_MAX_FORGOTTEN = 8  # ...unless this many times _MAX_REMEMBERED shapes were new


def _epoch(text: str) -> TimestampMatch | None:
    """A Unix time in seconds, milliseconds or microseconds, as record-id-first logs write."""
    if not _EPOCH.match(text):
        return None
    whole, _, fraction = text.partition(".")
    scale = 10 ** (len(whole) - 10)
    seconds = int(whole) / scale + (float(f"0.{fraction}") if fraction else 0.0)
    return TimestampMatch(datetime.fromtimestamp(seconds, UTC), len(text), True)


class HeaderReader:
    """Reads the fields of lines that have a learned header."""

    def __init__(
        self,
        regex: re.Pattern[str],
        time_at: int | None,
        level_at: int | None,
        name_at: int | None,
        *,
        opens_with_word: bool,
    ) -> None:
        self.regex = regex  # group i + 1 is the header's field i
        self.time_at, self.level_at, self.name_at = time_at, level_at, name_at
        # A header that opens with a word could take "Caused by: ..." for one.
        self.opens_with_word = opens_with_word
        self._match = regex.match
        # Groups of the time, level and name (0: the header has none); the values these
        # fields take repeat, so each is read once.
        self._time_group, self._level_group, self._name_group = (
            0 if at is None else at + 1 for at in (time_at, level_at, name_at)
        )
        self._levels: dict[str, str | None] = {}
        self._names: dict[str, str | None] = {}
        self._clock = SecondClock()
        # Lines of a log mostly repeat a few shapes (digits as "0"): the header's fields of
        # a line are those of its shape, read once (a lookup costs a fifth of a match).
        self._shaped: dict[bytes, _ShapeFields] | None = {}
        self._forgotten = 0

    def read(self, line: str, year: int | None) -> HeaderRead | None:
        """The header's fields and the message, or None when `line` lacks the header."""
        shaped = self._shaped
        if shaped is not None and len(line) <= _SHAPED_LINE_CHARS:
            # The shape as UTF-8 bytes is the key: `shape_of` without turning it back into
            # text, which only a new shape needs (or a lone surrogate, which UTF-8 refuses).
            try:
                key = line.encode().translate(_ZEROS)
            except UnicodeEncodeError:
                key = shape_of(line).encode("utf-8", "surrogatepass")
            known = shaped.get(key)
            if known is None:
                known = self._learn_shape(key)
            if known is _LACKS_SHAPE:
                return None
            _, time_start, level, name_start, name_end, start, stop, message_shape = known
            ts = None
            if time_start >= 0:
                # `self._clock.at(line, time_start, year)`, its usual case written out: this
                # runs once per line of huge files, and a call costs as much as the rest.
                clock = self._clock
                head = clock._head
                if head and year == clock._year and line.startswith(head, time_start):
                    at = time_start + len(head)
                    tail = line[at : at + clock._tail_chars]
                    fraction = clock._tails.get(tail, _UNSEEN)
                    if fraction is _UNSEEN:
                        fraction = clock._tail(tail)
                    if fraction is not None:
                        ts = clock._base + fraction, time_start + clock._end, clock._has_year
                if ts is None:
                    ts = clock._parse(line, time_start, year)
            name = None
            if name_start >= 0:  # `_name`, written out: once per line
                field = line[name_start:name_end]
                name = self._names.get(field, "")
                if name == "":
                    name = _remember(self._names, field, _name(field.strip()))
            if start < stop or ts is None:
                # The shape has the line's spaces where the line has them: its message is
                # where the shape's is, stripped alike.
                return ts, level, name, line[start:stop], message_shape
            end = ts[1]  # a header and no message: what follows the time is the message
            shape = key.decode("utf-8", "surrogatepass")
            return ts, level, name, line[end:].strip(), shape[end:].strip()
        fields = self._fields(self._match(line))
        if fields is _LACKS_HEADER:
            return None
        end, time_start, level, name_start, name_end = fields
        ts = None if time_start < 0 else self._clock.at(line, time_start, year)
        name = None if name_start < 0 else self._name(line[name_start:name_end])
        message = line[end:].strip()
        if not message and ts is not None:
            message = line[ts[1] :].strip()
        return ts, level, name, message, None

    def _name(self, field: str) -> str | None:
        """The program a name field names, remembered: a log names few."""
        name = self._names.get(field, "")
        if name == "":
            name = _remember(self._names, field, _name(field.strip()))
        return name

    def _fields(self, m: re.Match[str] | None) -> _Fields:
        """Where the header of a matched line ends, where its time and name are, its level."""
        if m is None:
            return _LACKS_HEADER
        level = None
        if self._level_group:
            word = m.group(self._level_group)
            level = self._levels.get(word, "")
            if level == "":
                level = _remember(self._levels, word, header_level(word))
        time_start = m.start(self._time_group) if self._time_group else -1
        name_start, name_end = m.span(self._name_group) if self._name_group else (-1, -1)
        return m.end(), time_start, level, name_start, name_end

    def _learn_shape(self, key: bytes) -> _ShapeFields:
        """`_fields` of lines of the shape `key` encodes, and where their message starts and
        stops, with its shape. No field pattern tells one digit from another (mining.py
        matches the header on shapes too), so they hold for all of them, and the level, a
        word, is the same on each."""
        shape = key.decode("utf-8", "surrogatepass")
        fields = self._fields(self._match(shape))
        known = _LACKS_SHAPE
        if fields is not _LACKS_HEADER:
            end = fields[0]
            rest = shape[end:]
            message = rest.lstrip()
            start = end + len(rest) - len(message)
            message = message.rstrip()
            known = (*fields, start, start + len(message), message)
        shaped = self._shaped
        assert shaped is not None
        if len(shaped) >= _MAX_REMEMBERED:
            shaped.clear()
            self._forgotten += 1
            if self._forgotten > _MAX_FORGOTTEN:
                self._shaped = None  # lines of ever new shapes: matching each is cheaper
        shaped[key] = known
        return known


def _remember(memory: dict[str, str | None], key: str, value: str | None) -> str | None:
    """`value`, remembered for `key`; a file of all-different fields forgets now and then."""
    if len(memory) >= _MAX_REMEMBERED:
        memory.clear()
    memory[key] = value
    return value


def _capturing(layout: HeaderLayout) -> re.Pattern[str]:
    """The layout's regex with a group per field (group i + 1 is field i)."""
    if layout.separated is not None:
        sep, count = layout.separated
        if sep == ":":
            return re.compile(r"([\w.$-]++):" * count + r"[ \t]*")
        field = rf"([^{re.escape(sep)}\n]{{0,{_MAX_FIELD_CHARS}}}){re.escape(sep)}"
        return re.compile(field * count + r"[ \t]*")
    pattern = r"\s+".join(
        "((?>(?:" + "|".join(p for k, p in KIND_PATTERNS if k in kinds) + r")(?=\s|$)))"
        for kinds in layout.allowed
    )
    # A field only some lines write before the message ("*35988", "[client …]") is dropped
    # with the header, so the same event reads the same with or without it.
    tail = rf"(?:(?>{layout.optional})(?:\s+|$))?" if layout.optional else ""
    return re.compile(pattern + r"(?:\s+|$)" + tail)


def header_level(field: str) -> str | None:
    """The level a header field spells: 'ERROR', '[warn]', 'Note', or the level part of a
    compound field ('mpm_event:notice', 'INFO/ForkPoolWorker-7')."""
    word = field.strip(_LEVEL_TRIM + " \t")
    level = canonical_level(word)
    if level is not None or len(word) > _MAX_LEVEL_FIELD:
        return level
    return next((found for found in map(level_word, _PARTS.split(word)) if found), None)


class SecondClock:
    """Times of consecutive lines, which mostly share their second: a line that starts
    with the last full parse's text up to its seconds only needs its fraction read, and a
    file writes its fraction with the same separator and number of digits on every line."""

    def __init__(self) -> None:
        self._head = ""  # the date and time through the seconds, and the fraction's separator
        self._width = 0  # digits of the fraction
        self._rest = ""  # what followed the fraction: the zone as written ("Z", "+0100")
        self._base = datetime.min
        self._has_year = True
        self._year: int | None = None
        # What follows the head (the fraction's digits, the zone, the next two characters)
        # -> the time the fraction adds to the second when the time ends there as the last
        # one did, else None: lines differ there in a few ways only (one look-up for both,
        # and adding the fraction is many times faster than datetime.replace()).
        self._tails: dict[str, timedelta | None] = {}
        self._tail_chars = 2  # the characters of such a key: the fraction's, the zone's, 2
        self._end = 0  # where a time so read ends, from its start

    def read(self, line: str, start: int, year: int | None) -> TimestampMatch | None:
        found = self.at(line, start, year)
        return None if found is None else TimestampMatch(*found)

    def at(self, line: str, start: int, year: int | None) -> tuple[datetime, int, bool] | None:
        """`read` as a plain (ts, end, has_year) tuple, for a caller that reads every line."""
        head = self._head
        if head and year == self._year and line.startswith(head, start):
            at = start + len(head)
            tail = line[at : at + self._tail_chars]
            fraction = self._tails.get(tail, _UNSEEN)
            if fraction is _UNSEEN:
                fraction = self._tail(tail)
            if fraction is not None:
                return self._base + fraction, start + self._end, self._has_year
        return self._parse(line, start, year)

    def _parse(self, line: str, start: int, year: int | None) -> tuple[datetime, int, bool] | None:
        """The time read in full, and remembered for the lines after."""
        found = read_time(line, start, year)
        self._remember(line, start, found, year)
        return None if found is None else (found.ts, found.end, found.has_year)

    def _tail(self, tail: str) -> timedelta | None:
        """What the fraction at the start of `tail` adds to the second, or None when `tail`
        does not start with a fraction of this width that ends the time as the last one."""
        width = self._width
        digits = tail[:width]
        fraction = None
        if len(digits) == width and (not width or digits.isdigit()) and self._ends(tail[width:]):
            micro = int(digits[:6]) * 10 ** max(0, 6 - width) if width else 0
            fraction = _NO_FRACTION if not micro else timedelta(microseconds=micro)
        if len(self._tails) >= _MAX_REMEMBERED:
            self._tails = {}
        self._tails[tail] = fraction
        return fraction

    def _ends(self, ending: str) -> bool:
        """Whether a time ends where `ending` starts with the zone the last one had: no digit
        follows, nor a zone after a space where the last time had none."""
        rest = self._rest
        after = ending[len(rest) : len(rest) + 1]
        return (
            ending.startswith(rest)
            and not after.isdigit()
            and bool(rest or after != " " or ending[len(rest) + 1 :] not in _ZONE_STARTS)
        )

    def _remember(
        self, line: str, start: int, found: TimestampMatch | None, year: int | None
    ) -> None:
        self._head = ""
        if found is None:
            return
        end = found.end
        layout = _time_layout(line, start, end)
        if layout is None:
            return
        seconds, width, after = layout
        rest = line[after:end]
        if width != self._width or rest != self._rest:
            self._tails = {}  # keyed by the fraction's digits and the zone's characters
        self._width, self._rest = width, rest
        self._tail_chars = width + len(rest) + 2
        self._head = line[start : seconds + 1 if width else seconds]
        self._end = len(self._head) + width + len(rest)  # its head, fraction and zone
        self._base, self._has_year, self._year = _whole_second(found.ts), found.has_year, year


# The shape of a time's text (and of the 10 characters after it, which a fraction may take)
# -> where its seconds end, its fraction's width and where the fraction ends, from its start;
# _NO_SECONDS for a time without hh:mm:ss.
_LAYOUTS: dict[tuple[int, str], tuple[int, int, int]] = {}
_NO_SECONDS = (-1, 0, 0)
_MICROSECONDS: dict[int, timedelta] = {}


def _time_layout(line: str, start: int, end: int) -> tuple[int, int, int] | None:
    """(seconds' end, fraction width, fraction's end) of the time at line[start:end], or None
    when it has no hh:mm:ss. A file writes its times one way: found once per shape."""
    key = (end - start, shape_of(line[start : end + _FRACTION_CHARS]))
    layout = _LAYOUTS.get(key)
    if layout is None:
        layout = _NO_SECONDS
        every = list(_SECONDS.finditer(line, start, end))
        if every:
            seconds = every[-1].end()
            fraction = _FRACTION.match(line, seconds)
            width = len(fraction.group(1)) if fraction else 0
            layout = (seconds - start, width, (fraction.end() if fraction else seconds) - start)
        if len(_LAYOUTS) >= _MAX_REMEMBERED:
            _LAYOUTS.clear()
        _LAYOUTS[key] = layout
    if layout is _NO_SECONDS:
        return None
    seconds, width, after = layout
    return start + seconds, width, start + after


def _whole_second(ts: datetime) -> datetime:
    """`ts.replace(microsecond=0)`, a fifth of the cost: most times have few fractions."""
    micro = ts.microsecond
    if not micro:
        return ts
    delta = _MICROSECONDS.get(micro)
    if delta is None:
        if len(_MICROSECONDS) >= _MAX_REMEMBERED:
            _MICROSECONDS.clear()
        delta = _MICROSECONDS[micro] = timedelta(microseconds=micro)
    return ts - delta


def read_time(line: str, start: int, year: int | None) -> TimestampMatch | None:
    """The time starting at `line[start]`: any shape `match_timestamp` knows, or an epoch."""
    found = match_timestamp(line, start, year)
    if found is not None:
        return found
    end = line.find(" ", start)
    return _epoch(line[start : end if end > 0 else len(line)])


def _name(field: str) -> str | None:
    name = (
        _NAME_STRIP.sub("", field.strip("[]")) if field[:1] == "[" else _NAME_STRIP.sub("", field)
    )
    if not name or (_LOGGER.match(name) and not _looks_like_program(name)):
        return None
    if not any(c.isalpha() for c in name):
        return None  # "26644#32271": a process and thread, not a name
    if "/" in name or ":" in name or "\\" in name:
        return None  # "pricing/sync.go:88": the source line that logged, not a program
    return name[:_NAME_CHARS]


def _looks_like_program(name: str) -> bool:
    """'svchost.exe', 'backup.sh': a program with its file extension, not a dotted logger."""
    extension = name.partition(".")[2]
    return "." not in extension and len(extension) <= _MAX_EXTENSION and extension.isalpha()


def learn_reader(
    layout: HeaderLayout, lines: Sequence[str], year: int | None
) -> HeaderReader | None:
    """A reader for `layout` that knows where the time, level and name sit, from `lines`
    (a sample of record-starting lines); None when the layout has no header to read."""
    if layout.regex is None:
        return None
    if layout.separated is None:
        # Words the learner took for header because they vary alone ("GET" before a path)
        # are the message's to a reader: it reads the fields the kinds alone make header.
        strict = header_length(layout.kinds)
        if strict == 0:
            return None
        if strict < len(layout.allowed):
            layout = HeaderLayout(layout.allowed[:strict])
    regex = _capturing(layout)
    matches = [m for m in map(regex.match, lines) if m is not None]
    if not matches:
        return None
    fields = range(regex.groups)
    time_at = _most_read(
        fields,
        lambda i: sum(read_time(m.string, m.start(i + 1), year) is not None for m in matches),
        len(matches),
    )
    level_at = _most_read(
        fields,
        lambda i: sum(header_level(m.group(i + 1)) is not None for m in matches),
        len(matches),
    )
    taken = {time_at, level_at}
    if layout.separated is None:
        name_at = _name_position(layout.kinds, matches, taken)
        opens_with_word = bool({WORD, COMP, BRACKET} & set(layout.allowed[0]))
    else:
        name_at = _separated_name(regex.groups, matches, taken)
        opens_with_word = True
    return HeaderReader(regex, time_at, level_at, name_at, opens_with_word=opens_with_word)


def _level_field(fields: Iterable[int], matches: list[re.Match[str]]) -> int | None:
    """The field that holds the level: read as one on most lines, or, where a field has a few
    values only, on half of them (a server's own words for some levels: "System", "Note")."""
    for i in fields:
        values = Counter(m.group(i + 1) for m in matches)
        read = sum(n for value, n in values.items() if header_level(value) is not None)
        few = len(values) <= _FEW_LEVELS
        if read >= (_MIN_LEVEL_SHARE_FEW if few else _MIN_READ) * len(matches):
            return i
    return None


def _most_read(positions: Iterable[int], reads: Callable[[int], int], total: int) -> int | None:
    """The first field that reads (as a time, a level) on most matched lines."""
    for i in positions:
        if reads(i) >= _MIN_READ * total:
            return i
    return None


def _name_position(
    kinds: list[str], matches: list[re.Match[str]], taken: set[int | None]
) -> int | None:
    """The last program-like name of the header: a `name[pid]:` or `name:` field, or a word
    that varies from line to line (a component, a source); not a logger class."""
    for i in reversed(range(len(kinds))):
        if i in taken or kinds[i] not in (COMP, WORD):
            continue
        names = Counter(_name(m.group(i + 1)) for m in matches)
        if (names[None] <= 0.2 * len(matches) and len(names) > 1) or (
            kinds[i] == COMP and names[None] <= 0.2 * len(matches)
        ):
            return i
    return None


def _separated_name(count: int, matches: list[re.Match[str]], taken: set[int | None]) -> int | None:
    """In a separated header, the first field of a few distinct words (a component, a
    source), not numbers or ids."""
    for i in range(count):
        if i in taken:
            continue
        values = Counter(m.group(i + 1).strip() for m in matches)
        words = sum(n for value, n in values.items() if value[:1].isalpha())
        if words >= 0.8 * len(matches) and len(values) <= max(_FEW_NAMES, len(matches) // 20):
            return i
    return None
