"""Ground a model's citations in the case: keep those the case holds, drop the others.

A citation is the proof shown under a hypothesis in the case summary and the postmortem. A
model writes plausible lines, file names and line numbers that no file holds, and one of those
shown as proof is worse than none. So every citation of an LLM turn is looked up:

- its source must be a file of the case (by name, base name or name without extension; a
  `file:line` source gives the line) or a message people wrote in the thread;
- its text must be found there: in the file's lines when its content can be read, else in what
  its report kept (templates, examples, the lines shown to the model), or in a message. The
  match forgives what a faithful quote still differs by: whitespace and case, masked values on
  either side (`<*>` of templates, `[token:3f2a1b]` of redaction, `***`, `...`), a quote that
  is only part of a line, a count copied from the evidence summary ("12× ERROR ...");
- a line number must point at a line holding the quote, or within LINE_SLACK lines of it.

Loose forms (`"at": "14:05"`, `"line": "line 176"`, `"L176"`, a bare string) are read as
meant and counted as normalised. A dropped citation lowers its hypothesis's confidence; the
turn keeps the list of drops (`Investigation.citations`).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cached_property

from engine.core.models import Message
from engine.evidence.analyze import describe_report
from engine.evidence.decode import decode_text
from engine.evidence.reports import Evidence
from engine.investigate.result import (
    Citation,
    CitationCheck,
    DroppedCitation,
    LLMCitation,
    LLMHypothesis,
)

log = logging.getLogger(__name__)

ReadFile = Callable[[Evidence], Awaitable[bytes | None]]

LINE_SLACK = 3  # a line number this close to the quoted line still points at it
MAX_CONTENT_BYTES = 64 * 1024 * 1024  # bigger files are grounded on their report alone
MAX_CANDIDATE_LINES = 5000  # lines holding a quote's rarest word that are compared in full
ANCHOR_CANDIDATES = 6  # of a quote's longest words, the rarest in the file is looked for
RARITY_SAMPLE = 1 << 20  # characters of the file that say how rare a word is
MIN_FIXED_CHARS = 8  # "ERROR" or "timeout" alone prove nothing: "OOMKilled" does
MAX_MASKED_TOKENS = 6  # a `<*>` of a template stands for at most this many quoted words
SUPPORT_DROP_FACTOR = 0.8  # each invented proof costs a fifth of the confidence
UNGROUNDED_CAP = 0.4  # cited proof and none of it real: below analysis strength (0.6)
SUMMARY_LINES = 16  # detail lines of a report's summary a model may have been shown

# --- the tolerant match ---------------------------------------------------------------------

WILD = "\x00"  # one masked value, whatever it stood for
# A mask inside a word ("/cart/<*>", "[token:3f2a1b]ms") hides part of that word: the whole
# word is the mask, so the words around it still line up.
_MASK = re.compile(
    r"\S*(?:<\*>"  # a template's value
    r"|\[[a-zA-Z ]+:[0-9a-f]{6}\]"  # engine.core.redact's placeholder
    r"|\[(?i:redacted|masked|removed|hidden)[^\]\n]{0,40}\]"
    r"|<(?i:redacted|masked|hidden)>"
    r"|<[A-Z][A-Z_]{1,15}>"  # other miners' placeholders: <NUM>, <IP>
    r"|\*{3,}|\.{3,}|…)\S*"
)
# Quotes, backticks and escapes differ between a JSON line, the summary and what a model writes.
_NOISE = re.compile(r"[`\"'\\]")
_TOKEN = re.compile(r"\x00|[\w.:/@\-]*\w|[^\w\s]")
# "12× ERROR `...`": a count copied from the evidence summary is not part of the line.
_COUNT = re.compile(r"^\s*\d[\d,]*\s*[×x]\s+")
_LINE_IN_DETAIL = re.compile(r"\bline ([\d,]+)")
_MASK_HINTS = ("<", "[", "***", "...", "…")


def canonical(text: str) -> str:
    """Lower case, masks as WILD, quote marks gone: both sides of a match go through this."""
    if any(hint in text for hint in _MASK_HINTS):  # most lines have no mask: skip the regex
        text = _MASK.sub(f" {WILD} ", text)
    return _NOISE.sub(" ", text).lower()


def tokens(text: str) -> list[str]:
    """Words (identifiers, numbers, hosts and paths whole) and punctuation of canonical text;
    runs of masks are one."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if token == WILD and out and out[-1] == WILD:
            continue
        out.append(token)
    return out


@dataclass(frozen=True)
class Quote:
    """A citation's text, ready to be looked for."""

    tokens: list[str]
    fixed: list[str]  # its words that are not masks
    anchor: str  # its longest word: lines without it are never compared in full

    @property
    def usable(self) -> bool:
        return sum(sum(c.isalnum() for c in t) for t in self.fixed) >= MIN_FIXED_CHARS


# The prompt numbers the lines it shows: "L176 text", "L176>> text" for the line in focus.
_LINE_MARK = re.compile(r"^\s*L(\d[\d,]*)(?:>>)?\s+")
# How the prompt renders a record (a JSON line as time, level, [source], message); the file
# writes the time and source otherwise, so the message alone is looked for too.
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_LEVEL = r"(?:trace|debug|info|notice|warn|warning|error|err|fatal|critical|crit|-)"
_RENDERED = re.compile(
    rf"^\s*(?:{_TIMESTAMP}\s+(?:{_LEVEL}\s+)?|{_LEVEL}\s+)(?:\[[^\]\n]{{1,80}}\]\s+)?",
    re.IGNORECASE,
)


def _quote(line: str) -> Quote:
    found = tokens(canonical(line))
    while found and found[0] == WILD:
        found.pop(0)
    while found and found[-1] == WILD:
        found.pop()
    fixed = [t for t in found if t != WILD]
    return Quote(found, fixed, max(fixed, key=len, default=""))


def quotes_of(text: str) -> list[Quote]:
    """What to look for: the longest line of the text (a quoted stack trace is found by its
    longest line) without the prompt's line marks, a leading count, quote marks and masks at
    either end; then, when it starts as the prompt renders a record, its message alone."""
    lines = [_LINE_MARK.sub("", line) for line in text.splitlines() if line.strip()] or [""]
    longest = _COUNT.sub("", max(lines, key=len))
    out = [_quote(longest)]
    message = _RENDERED.sub("", longest, count=1)
    if message.strip() and message != longest:
        out.append(_quote(message))
    return out


def quote_of(text: str) -> Quote:
    return quotes_of(text)[0]


def _same(word: str, token: str, i: int, size: int) -> bool:
    """A quote may cut the line's first and last words it covers."""
    if size == 1:
        return word in token
    if i == 0:
        return token.endswith(word)
    if i == size - 1:
        return token.startswith(word)
    return word == token


def _closure(states: set[int], quote: list[str]) -> set[int]:
    """A mask in the quote may stand for nothing at all."""
    out = set(states)
    for i in sorted(states):
        j = i
        while j < len(quote) and quote[j] == WILD:
            j += 1
            out.add(j)
    return out


def matches(quote: Quote, line: str) -> bool:
    """Whether `quote` is part of `line` (already canonical), masks on either side matching
    whatever the other side holds there."""
    words, size = quote.tokens, len(quote.tokens)
    if not quote.usable:
        return False
    # Most of the quote's words must be in the line itself, not all under its masks.
    present = sum(1 for word in quote.fixed if word in line)
    if present * 2 < len(quote.fixed):
        return False
    states: set[int] = set()
    for token in tokens(line):
        states = _closure(states | {0}, words)
        following: set[int] = set()
        for i in states:
            if i == size:
                return True
            word = words[i]
            if word == WILD:
                following.update((i, i + 1))  # the quote's mask takes this token, maybe more
            elif token == WILD:
                # The line's mask (a template's <*>) stands for one or a few quoted words.
                following.update(range(i + 1, min(size, i + MAX_MASKED_TOKENS) + 1))
            elif _same(word, token, i, size):
                following.add(i + 1)
        states = following
    return size in _closure(states, words)


# --- what the case holds ---------------------------------------------------------------------

_LINE_KEYS = ("first_line", "line", "error_line")
_SKIP_KEYS = frozenset({"sha256", "kind", "name", "formats", "language"})


@dataclass
class FileSource:
    """A file of the case as grounding reads it."""

    name: str
    # What its report kept and the model was shown, each with the line it stands for.
    texts: list[tuple[str, int | None]]
    content: str | None = None  # the file's text, when it could be read
    line_count: int | None = None
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    @cached_property
    def _canonical_texts(self) -> list[tuple[str, int | None]]:
        return [(canonical(text), line) for text, line in self.texts]

    @cached_property
    def _lines(self) -> tuple[str, str, list[int]] | None:
        """The content, in lower case, and where each line starts. Only lines that hold a
        quote's anchor are made canonical: the whole of a 50 MB log would take seconds."""
        if self.content is None:
            return None
        lower = self.content.lower()
        # Lowering may change a length (İ); the lines are then cut from the lowered text.
        raw = self.content if len(lower) == len(self.content) else lower
        starts = [0, *(m.end() for m in re.finditer("\n", lower))]
        return raw, lower, starts

    @property
    def readable(self) -> bool:
        return self._lines is not None

    def line(self, number: int) -> str:
        """Line `number` (1-based) in canonical form; "" past the end."""
        assert self._lines is not None
        raw, _, starts = self._lines
        if not 1 <= number <= len(starts):
            return ""
        end = starts[number] - 1 if number < len(starts) else len(raw)
        return canonical(raw[starts[number - 1] : end])

    def lines_holding(self, quote: Quote) -> Iterable[int]:
        """Numbers of the lines that hold the quote, first to last."""
        assert self._lines is not None
        # An anchor is a word of canonical text: the lowered line holds it too.
        _, text, starts = self._lines
        # The rarest of the quote's longest words: lines without it are never compared.
        longest = sorted(set(quote.fixed), key=len, reverse=True)[:ANCHOR_CANDIDATES]
        anchor = min(
            longest, key=lambda word: text.count(word, 0, RARITY_SAMPLE), default=quote.anchor
        )
        seen = 0
        at = text.find(anchor)
        while at >= 0 and seen < MAX_CANDIDATE_LINES:
            number = bisect.bisect_right(starts, at)
            seen += 1
            if matches(quote, self.line(number)):
                yield number
            # On to the next line: one line is compared once.
            following = starts[number] if number < len(starts) else len(text)
            at = text.find(anchor, following)

    def text_holding(self, quote: Quote) -> tuple[bool, int | None]:
        """Whether what the report kept holds the quote, and the line that text stands for."""
        found = False
        for text, line in self._canonical_texts:
            if quote.anchor in text and matches(quote, text):
                if line is not None:
                    return True, line
                found = True
        return found, None


@dataclass(frozen=True)
class MessageSource:
    author: str
    text: str  # canonical
    at: datetime


@dataclass
class CaseSources:
    files: list[FileSource]
    messages: list[MessageSource]
    day: date  # for a time without a date, when nothing closer gives one


def _report_texts(item: Evidence) -> list[tuple[str, int | None]]:
    """Every string of the report (templates, examples, finding lines, alert titles), with the
    line of the record it belongs to, plus the summary and detail lines the prompt showed."""
    out: list[tuple[str, int | None]] = [(item.summary, None)]
    details = describe_report(item.report, SUMMARY_LINES) if item.report is not None else []
    for detail in details:
        stated = _LINE_IN_DETAIL.search(detail)
        out.append((detail, int(stated.group(1).replace(",", "")) if stated else None))

    def walk(node: object, line: int | None) -> None:
        if isinstance(node, dict):
            own = next((node[k] for k in _LINE_KEYS if isinstance(node.get(k), int)), line)
            for key, value in node.items():
                if key not in _SKIP_KEYS:
                    walk(value, own)
        elif isinstance(node, list):
            for value in node:
                walk(value, line)
        elif isinstance(node, str) and len(node) >= MIN_FIXED_CHARS:
            out.append((node, line))

    if item.report is not None:
        walk(item.report.model_dump(mode="json"), None)
    return out


def _text_of(content: bytes | None) -> str | None:
    """The file's text with the analyser's line numbering; None for archives and the like."""
    if content is None or len(content) > MAX_CONTENT_BYTES:
        return None
    try:
        return decode_text(content).text
    except Exception:  # an archive or binary: its report is what there is to ground on
        return None


def file_source(item: Evidence, content: bytes | None = None) -> FileSource:
    report = item.report
    return FileSource(
        name=item.name,
        texts=_report_texts(item),
        content=_text_of(content),
        line_count=getattr(report, "line_count", None),
        first_ts=getattr(report, "first_ts", None),
        last_ts=getattr(report, "last_ts", None),
    )


def case_sources(
    evidence: list[Evidence],
    history: list[Message],
    day: date,
    contents: dict[int, bytes | None] | None = None,
) -> CaseSources:
    """The case's analysed files (with the content given by evidence id) and what people
    wrote. The bot's own answers are not sources: a model citing itself proves nothing."""
    contents = contents or {}
    return CaseSources(
        files=[file_source(e, contents.get(e.id)) for e in evidence if e.status == "analysed"],
        messages=[
            MessageSource(m.author, canonical(m.text), m.created_at)
            for m in history
            if m.role == "user"
        ],
        day=day,
    )


# --- reading a citation as meant -------------------------------------------------------------

_SOURCE_LINE = re.compile(
    r"^(?P<name>.+?)(?:[:#@]L?(?P<a>\d[\d,]*)(?::\d+)?"
    r"|\s*[,(]?\s*(?:line|l\.?|ln|#)\s*(?P<b>\d[\d,]*)\)?)\s*$",
    re.IGNORECASE,
)
_LINE_NUMBER = re.compile(r"^\s*(?:lines?|l\.?|ln|#)?\s*(\d[\d,]*)", re.IGNORECASE)
_THREAD_WORDS = re.compile(
    r"\b(?:thread|message|messages|conversation|chat|slack|history|case_history|user|team"
    r"|said|wrote|comment)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"(?:(?P<date>\d{4}-\d{2}-\d{2})[T ]\s*)?(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})"
    r"(?:[.,]\d+)?)?\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


def _strip(text: str) -> str:
    return text.strip().strip("`'\"“”‘’").strip()


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def parse_line(value: int | str | None) -> tuple[int | None, bool]:
    """176, "176", "line 176", "L176", "#176", "lines 176-180": the (first) line, and whether
    it came in a loose form. Anything else: no line."""
    if value is None or isinstance(value, int):
        return value, False
    found = _LINE_NUMBER.match(value)
    return (_number(found.group(1)) if found else None), True


def parse_source(raw: str) -> tuple[str, int | None]:
    """ "app.log:176", "app.log line 176", "app.log (L176)": the name and the line it gives."""
    source = _strip(raw)
    found = _SOURCE_LINE.match(source)
    if found is None:
        return source, None
    return _strip(found.group("name")), _number(found.group("a") or found.group("b"))


def _base(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1].casefold()


def _stem(name: str) -> str:
    base = _base(name)
    return base.split(".", 1)[0] if "." in base else base


def files_named(source: str, files: list[FileSource]) -> list[FileSource]:
    """The files a source names: its name as given, its base name, or without extension; a
    source naming several files ("a.log, b.log") names each."""
    for rule in (lambda n: n.casefold(), _base, _stem):
        found = [f for f in files if source and rule(f.name) == rule(source)]
        if found:
            return found
    parts = [p for p in re.split(r"\s*(?:,|;|\band\b)\s*", source) if p]
    if len(parts) > 1:
        return [f for part in parts for f in files_named(part, files)]
    return []


def _day_of(at: time, source: FileSource | None, day: date) -> date:
    """The day a time of day falls on: the file's, within its span when it spans days."""
    if source is None or source.first_ts is None:
        return day
    first, last = source.first_ts, source.last_ts or source.first_ts
    d = first.date()
    while d <= last.date():
        if first <= datetime.combine(d, at, tzinfo=first.tzinfo or UTC) <= last:
            return d
        d += timedelta(days=1)
    return first.date()


def parse_at(
    value: str | None, source: FileSource | None, day: date
) -> tuple[datetime | None, bool]:
    """ISO 8601, or "14:05", "14:05:07 UTC", "2026-11-21 14:05" (UTC when no zone is given):
    the time, and whether it came in a loose form. An unreadable time is left out."""
    if value is None or not value.strip():
        return None, False
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), False
    except ValueError:
        pass
    found = _TIME.search(text)
    if found is None:
        return None, True
    try:
        clock = time(int(found["h"]), int(found["m"]), int(found["s"] or 0))
        on = date.fromisoformat(found["date"]) if found["date"] else _day_of(clock, source, day)
    except ValueError:
        return None, True
    zone: timezone = UTC
    tz = found["tz"]
    if tz and tz[0] in "+-":
        sign = 1 if tz[0] == "+" else -1
        zone = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[-2:])))
    return datetime.combine(on, clock, tzinfo=zone), True


# --- grounding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One citation looked up: the citation to keep (None: dropped, `why`), and whether a
    loose form had to be read."""

    citation: Citation | None
    normalised: bool
    why: str = ""


def _in_file(quote: Quote, source: FileSource, line: int | None) -> tuple[bool, int | None, str]:
    """(found, the line to record, why not)."""
    if source.readable:
        if line is not None:
            window = range(max(1, line - LINE_SLACK), line + LINE_SLACK + 1)
            if any(matches(quote, source.line(n)) for n in window):
                return True, line, ""
            elsewhere = next(iter(source.lines_holding(quote)), None)
            if elsewhere is not None:
                return False, None, f"line {line} does not hold it (line {elsewhere} does)"
            # Not a line of the file but what the summary says of one ("40× ... line 133").
            in_text, stated = source.text_holding(quote)
            if in_text and stated is not None and abs(stated - line) <= LINE_SLACK:
                return True, line, ""
            return False, None, f"not in {source.name}"
        first = next(iter(source.lines_holding(quote)), None)
        if first is not None:
            return True, first, ""
        in_text, stated = source.text_holding(quote)
        return (True, stated, "") if in_text else (False, None, f"not in {source.name}")
    # Only the report is known: a line number can be refuted only by the file's length.
    if line is not None and source.line_count is not None and line > source.line_count:
        return False, None, f"{source.name} has {source.line_count} lines, not {line}"
    in_text, stated = source.text_holding(quote)
    if not in_text:
        return False, None, f"not in what was read of {source.name}"
    return True, line if line is not None else stated, ""


def _in_messages(quote: Quote, source: str, messages: list[MessageSource]) -> MessageSource | None:
    named = [m for m in messages if m.author and m.author.casefold() in source.casefold()]
    for message in named or messages:
        if quote.anchor in message.text and matches(quote, message.text):
            return message
    return None


_LEAD = re.compile(r"^\s*(?P<source>\S+?)(?:\s*[:|—–]\s+|\s+-\s+|\s+)(?P<text>\S.*)$", re.DOTALL)


def _split_bare(raw: LLMCitation, files: list[FileSource]) -> LLMCitation:
    """A bare string that starts with a file of the case ("app.log:176: pool exhausted") is
    that file's citation."""
    if raw.source or not (found := _LEAD.match(raw.text)):
        return raw
    name, line = parse_source(found["source"])
    if not files_named(name, files):
        return raw
    split = LLMCitation(source=name, text=found["text"], line=raw.line or line, at=raw.at)
    split._reshaped = True
    return split


def _in_file_as(
    quotes: list[Quote], source: FileSource, line: int | None
) -> tuple[bool, int | None, str]:
    """`_in_file` for the first of the quote's readings that the file holds. The message alone
    is looked for only when the whole quote is nowhere in the file: a quote found elsewhere
    has the wrong line, whatever part of it the cited line shares."""
    first = _in_file(quotes[0], source, line)
    if first[0] or "does not hold it" in first[2]:
        return first
    for quote in quotes[1:]:
        if quote.usable and (found := _in_file(quote, source, line))[0]:
            return found
    return first


def ground(raw: LLMCitation, sources: CaseSources) -> Verdict:
    """Keep `raw` as a `Citation` when the case holds it; say why not otherwise."""
    raw = _split_bare(raw, sources.files)
    name, line_in_source = parse_source(raw.source)
    line, loose_line = parse_line(raw.line)
    marked = _LINE_MARK.match(raw.text)
    normalised = raw.reshaped or loose_line or line_in_source is not None
    if line is None:
        line = line_in_source
    if line is None and marked:
        line, normalised = _number(marked.group(1)), True  # "L176 text", as the prompt shows
    quotes = quotes_of(raw.text)
    text = _strip(_LINE_MARK.sub("", raw.text))
    if not quotes[0].usable:
        return Verdict(None, normalised, "no quote to look for" if not text else "quote too short")
    files = files_named(name, sources.files)
    if files:
        # "checkout" or "logs/checkout.log" for checkout.log: read as meant.
        normalised = normalised or all(f.name != name for f in files)
        reasons = []
        for source in files:
            found, at_line, why = _in_file_as(quotes, source, line)
            if found:
                at, loose_at = parse_at(raw.at, source, sources.day)
                citation = Citation(source=source.name, text=text, line=at_line, at=at)
                return Verdict(citation, normalised or loose_at)
            reasons.append(why)
        return Verdict(None, normalised, "; ".join(reasons))
    if (
        not name
        or _THREAD_WORDS.search(name)
        or any(m.author and m.author.casefold() in name.casefold() for m in sources.messages)
    ):
        message = _in_messages(quotes[0], name, sources.messages)
        if message is not None:
            at, loose_at = parse_at(raw.at, None, message.at.date())
            citation = Citation(source=f"thread ({message.author})", text=text, at=at or message.at)
            return Verdict(citation, normalised or loose_at)
        if not name:
            # A bare quote: kept when a file holds it, under that file's name.
            for source in sources.files:
                found, at_line, _ = _in_file_as(quotes, source, line)
                if found:
                    at, _ = parse_at(raw.at, source, sources.day)
                    citation = Citation(source=source.name, text=text, line=at_line, at=at)
                    return Verdict(citation, True)
            return Verdict(None, normalised, "no source given and no file or message holds it")
        return Verdict(None, normalised, "no message of the thread says it")
    return Verdict(None, normalised, f"{name} is not a file or message of this case")


@dataclass
class GroundedHypothesis:
    """A model's hypothesis's citations once grounded."""

    supporting: list[Citation] = field(default_factory=list)
    contradicting: list[Citation] = field(default_factory=list)
    dropped_supporting: int = 0
    dropped_contradicting: int = 0

    @property
    def unsupported(self) -> bool:
        """It cited proof and none of it is in the case."""
        return self.dropped_supporting > 0 and not self.supporting

    def confidence(self, claimed: float) -> float:
        """The model's confidence, less for each invented proof: a hypothesis is as strong as
        what the case shows of it. Invented evidence against it costs nothing here."""
        if not self.dropped_supporting:
            return claimed
        lowered = claimed * SUPPORT_DROP_FACTOR**self.dropped_supporting
        if self.unsupported:
            lowered = min(lowered, UNGROUNDED_CAP)
        return round(lowered, 3)


def ground_hypotheses(
    hypotheses: list[LLMHypothesis], sources: CaseSources
) -> tuple[list[GroundedHypothesis], CitationCheck]:
    """Each hypothesis's citations grounded, in order, and what was kept, normalised, dropped."""
    check = CitationCheck()
    out: list[GroundedHypothesis] = []
    for hypothesis in hypotheses:
        grounded = GroundedHypothesis()
        for kind in ("supporting", "contradicting"):
            kept = grounded.supporting if kind == "supporting" else grounded.contradicting
            for raw in getattr(hypothesis, kind):
                verdict = ground(raw, sources)
                if verdict.citation is not None:
                    if verdict.citation not in kept:
                        kept.append(verdict.citation)
                    check.kept += 1
                    check.normalised += verdict.normalised
                    continue
                check.dropped.append(
                    DroppedCitation(
                        hypothesis=hypothesis.statement,
                        source=raw.source,
                        text=raw.text[:300],
                        line=parse_line(raw.line)[0],
                        why=verdict.why,
                    )
                )
                if kind == "supporting":
                    grounded.dropped_supporting += 1
                else:
                    grounded.dropped_contradicting += 1
        out.append(grounded)
    return out, check


def cited_files(hypotheses: list[LLMHypothesis], evidence: list[Evidence]) -> list[Evidence]:
    """The analysed files the citations name, whose content grounding should read."""
    analysed = [e for e in evidence if e.status == "analysed"]
    named = [FileSource(name=e.name, texts=[]) for e in analysed]
    wanted: set[str] = set()
    for hypothesis in hypotheses:
        for raw in [*hypothesis.supporting, *hypothesis.contradicting]:
            name, _ = parse_source(raw.source)
            wanted.update(f.name for f in files_named(name, named))
    return [e for e in analysed if e.name in wanted]


async def gather_sources(
    evidence: list[Evidence],
    history: list[Message],
    day: date,
    hypotheses: list[LLMHypothesis],
    read_file: ReadFile | None,
) -> CaseSources:
    """The case's sources, with the content of the files cited read through `read_file`
    (the store, opening sealed content); a file that cannot be read is grounded on its report."""
    contents: dict[int, bytes | None] = {}
    if read_file is not None:
        for item in cited_files(hypotheses, evidence):
            if item.size_bytes > MAX_CONTENT_BYTES:
                continue
            try:
                contents[item.id] = await read_file(item)
            except Exception as exc:  # a key rotated away, a purge: the report still grounds
                log.warning("content of %s not read for grounding: %s", item.name, exc)
    return await asyncio.to_thread(case_sources, evidence, history, day, contents)
