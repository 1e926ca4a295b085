"""Masking for the template miner: the parts of a message that are obviously values become `<*>`.

Every rule below is about the shape of a token, never about a particular product's log, so
it holds for logs the miner has never seen. What masking cannot know (a user name, a host
without digits) the clusterer learns from how messages differ
(`engine.evidence.logs.mining`).

Speed matters (millions of lines): a message is masked token by token through caches keyed
by the token's *shape*, the token with every digit turned into "0", so "user=12345" and
"user=67890" cost one regex pass between them. Constants that contain digits ("ssh2",
"log4j") keep a "0" after masking their shape; only those go through the regexes again with
their real digits.
"""

from __future__ import annotations

import re
from typing import TypeVar

WILDCARD = "<*>"
# Inside the miner a variable is this one private-use character, so a wildcard can never be
# split by prefix/suffix arithmetic and cannot clash with a literal "<*>" in a log.
VAR = "\ue000"

_DIGITS = str.maketrans("123456789", "000000000")
_BYTE_DIGITS = bytes.maketrans(b"123456789", b"000000000")
# Past this many characters str.translate's per-call lookups are paid off: a whole file.
_BYTES_UP_TO = 4096
_MAX_CACHE = 200_000  # entries per token cache; cleared when full, to bound memory
# Message shapes remembered with their masking: short ones, which repeat; a few MB at most.
_MAX_SHAPED_MESSAGES = 8_192
_SHAPED_MESSAGE_CHARS = 200
_T = TypeVar("_T")

_HEXCH = "0-9a-fA-F"
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_DAYS = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"

# Applied in order to one whitespace-free token; each is a value in any log.
_TOKEN_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A UUID before the hex rules, which would see its groups as several values.
    (re.compile(rf"[{_HEXCH}]{{8}}(?:-[{_HEXCH}]{{4}}){{3}}-[{_HEXCH}]{{12}}"), VAR),
    # MAC addresses, WWNs and other colon-separated hex ids.
    (re.compile(rf"(?<![\w:])[{_HEXCH}]{{2}}(?::[{_HEXCH}]{{2}}){{3,}}(?![\w:])"), VAR),
    # Files: an absolute or ./relative path is one value, up to a ':' or closing punctuation
    # ("loading /a/b: failed", "(/tmp/x)"). Before the URL rule so "/a/b" is not a scheme.
    (re.compile(r"(?:^|(?<=[(\['\"=]))\.{0,2}/[^\s:,)\]'\"]+"), VAR),
)
# A URL is its scheme and one value ("hdfs://<*>"), or two for a bare address ("<*>:<*>").
# The lookbehind starts a scheme only where a run of scheme characters starts: the match is
# the same, but a megabyte-long word is no longer scanned to its end from every character.
_URL = re.compile(r"(?<![\w.+-])([A-Za-z][\w.+-]*://)([^\s\])\"',;]+)")
_ADDRESS_ONLY = re.compile(r"[\w.-]+:\d+")
# host:port and host/ip:port: the host part of an address is a value even when it is a
# name ("db-3:5432"), as long as it looks like a host (a digit, dot or dash in it).
_ADDRESS = re.compile(
    r"(?<![\w.:/@-])(?=[\w.-]*[\d.-])[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?:\d+(?![\w.])"
)
_LATER_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Ids made of words and numbers joined by '_' ("blk_-42", "job_1445_0020", "rdd_2_0").
    (
        re.compile(
            r"(?<![\w.-])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*_-?\d+(?:_[A-Za-z0-9]+)*(?!\w)"
        ),
        VAR,
    ),
    # Instance names: several dashed words ending in a number ("mesos-slave-13", "web-api-7").
    # One word ("utf-8", "sha-256") is too often a constant.
    (re.compile(r"(?<![\w.-])[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z][A-Za-z0-9]*)+-\d+(?![\w.-])"), VAR),
    # Host names: three or more dotted labels, the first with a digit and the last a word
    # ("ip-10-0-0-7.ec2.internal", "node7.example.com"); class names ("org.apache.Foo") have
    # no digit up front, versions ("6.1.26") no word at the end.
    (
        re.compile(
            r"(?<![\w.-])[A-Za-z0-9-]*\d[A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+\.[A-Za-z]+(?![\w.-])"
        ),
        VAR,
    ),
    # Hex: 0x..., or six or more hex digits with at least one digit (hashes, addresses), or
    # eight or more of a-f (a register of all f's); no English word is that.
    (
        re.compile(
            rf"(?<![A-Za-z0-9])(?:0x[{_HEXCH}]+|(?=[{_HEXCH}]*\d)[{_HEXCH}]{{6,}}|[a-f]{{8,}})"
            r"(?![A-Za-z0-9])"
        ),
        VAR,
    ),
    (re.compile(r"(?<![A-Za-z0-9])v\d+(?:\.\d+)+(?![A-Za-z0-9])"), VAR),  # versions: v2.0.1
    # Generated ids and keys: 16+ letters and digits with at least three digits
    # ("NDVXBRAQ...K674EW4Q", "a8Kq2mZ9x7Lp3Rt0"); names with a digit ("Slf4jLogger") are shorter.
    (
        re.compile(
            r"(?<![A-Za-z0-9])(?=(?:[A-Za-z]*\d){3})(?=\d*[A-Za-z])[A-Za-z0-9]{16,}(?![A-Za-z0-9])"
        ),
        VAR,
    ),
    # Numbers standing alone or between punctuation ("uid=0", "core.42", "(-1)", "45ms",
    # "16K"); digits glued to letters ("ssh2", "log4j", "L1") are part of a name.
    # A value just masked counts as a neighbour, so "<*>-1" stays two values, not a sign.
    (
        re.compile(rf"(?<![A-Za-z0-9{VAR}])[-+]?\d+(?:\.\d+)*(?:[A-Za-z]{{1,2}})?(?![A-Za-z0-9])"),
        VAR,
    ),
    (re.compile(r"(?<![\w.-])(?:true|false|null)(?![\w.-])"), VAR),
    # "1.2.3-4", "10-20", "a_1_2" pieces: one value, not several.
    (re.compile(f"{VAR}(?:[-._]?{VAR})+"), VAR),
    # "<memory:<*>>" would read as a broken placeholder: a key's value takes the '>' that
    # closes its wrapper. "<<*>>" (a whole value in angle brackets) keeps both.
    (re.compile(f"(?<=[:=]){VAR}>"), VAR),
)

_RUN = re.compile(f"{VAR}(?: {VAR})+")

# Across tokens, on the masked message (only for messages not seen before).
_CROSS_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A size printed with its unit ("17.2 KB"): loggers pick the unit per value.
    (re.compile(f"{VAR} (?:[KMGTP]i?B|B)(?=[\\s,;:)\\]]|$)"), VAR),
    # Day and month names next to a day number are part of a date ("Sat Jun 18 02:23:10").
    (re.compile(rf"(?<!\S)(?:{_DAYS}|{_MONTHS})(?= (?:(?:{_MONTHS}) )?{VAR}(?:\s|:|$))"), VAR),
    # Several values in a row read as one: lists of ids of any length, dates, "1 -2".
    (_RUN, VAR),
)


def _address(m: re.Match[str]) -> str:
    host = m.group(0).rpartition(":")[0]
    return f"{VAR}/{VAR}:{VAR}" if "/" in host else f"{VAR}:{VAR}"


def _url(m: re.Match[str]) -> str:
    rest = m.group(2)
    return m.group(1) + (f"{VAR}:{VAR}" if _ADDRESS_ONLY.fullmatch(rest) else VAR)


def mask_token(token: str) -> str:
    """One whitespace-free token with its values replaced by VAR."""
    for rx, repl in _TOKEN_RULES:
        token = rx.sub(repl, token)
    token = _ADDRESS.sub(_address, _URL.sub(_url, token))
    for rx, repl in _LATER_RULES:
        token = rx.sub(repl, token)
    return token


def mask_across(masked: str) -> str:
    """The rules that look at neighbouring tokens of an already token-masked message."""
    if VAR not in masked:
        return masked
    for rx, repl in _CROSS_RULES:
        masked = rx.sub(repl, masked)
    return masked


def shape_of(text: str) -> str:
    """`text` with every ASCII digit turned into "0", the key of the token caches."""
    if len(text) > _BYTES_UP_TO:
        return text.translate(_DIGITS)
    # As bytes: str.translate looks each distinct character up in a dict, call after call
    # (2 µs for a log message), bytes.translate indexes a table. UTF-8 spells every other
    # character with bytes >= 0x80, so only the ASCII digits change either way. The default
    # codec arguments are the quickest to parse; a lone surrogate, which strict UTF-8
    # refuses, is kept as it was by surrogatepass.
    try:
        return text.encode().translate(_BYTE_DIGITS).decode()
    except UnicodeEncodeError:
        return (
            text.encode("utf-8", "surrogatepass")
            .translate(_BYTE_DIGITS)
            .decode("utf-8", "surrogatepass")
        )


class _ShapeCache(dict[str, str]):
    """token shape -> masked shape, computed on first sight; a "0" left in it means a
    constant with digits, masked from the real token instead."""

    def __missing__(self, shape: str) -> str:
        if len(self) >= _MAX_CACHE:
            self.clear()
        masked = self[shape] = mask_token(shape)
        return masked


class _TokenCache(dict[str, str]):
    """exact token -> masked token, for tokens whose digits are part of a constant."""

    def __missing__(self, token: str) -> str:
        if len(self) >= _MAX_CACHE:
            self.clear()
        masked = self[token] = mask_token(token)
        return masked


class Masker:
    """Masks messages token by token; keeps its caches between calls."""

    def __init__(self) -> None:
        self._shapes = _ShapeCache()
        self._exact = _TokenCache()
        # Shape of a short message -> its masked form, where the shape alone decides it:
        # messages that differ only in their numbers ("took 41 ms") share one. Callers that
        # mask every line look here first (a dict lookup is cheaper than a call).
        self.known: dict[str, str] = {}
        # ...and where the real digits of some tokens decide them ("ssh2"): the masked
        # tokens and those tokens' positions.
        self._partly_known: dict[str, tuple[list[str], list[int]]] = {}

    def mask(self, text: str, shape: str | None = None) -> str:
        """The message's tokens, masked, joined by single spaces (VAR marks a value).

        `shape` is `text` through `shape_of`, when the caller has it already (translating
        a whole file at once is several times faster than line by line). The result is not
        yet `mask_across`-ed: callers cache on it and apply that once per distinct result.
        """
        if shape is None:
            shape = shape_of(text)
        known = self.known.get(shape)
        if known is not None:
            return known
        partly = self._partly_known.get(shape)
        if partly is None:
            masked = list(map(self._shapes.__getitem__, shape.split()))
            # A "0" left means a constant with digits ("ssh2"): those tokens are masked
            # from the real text. Other digits (non-ASCII) were not turned into "0", so the
            # shape kept them.
            exact_at = [i for i, token in enumerate(masked) if "0" in token]
            if not exact_at:
                return self._remember(self.known, shape, " ".join(masked))
            partly = self._remember(self._partly_known, shape, (masked, exact_at))
        masked, exact_at = partly
        tokens = text.split()
        parts = masked.copy()
        for i in exact_at:
            parts[i] = self._exact[tokens[i]]
        return " ".join(parts)

    @staticmethod
    def _remember(memory: dict[str, _T], shape: str, value: _T) -> _T:
        if len(shape) <= _SHAPED_MESSAGE_CHARS:
            if len(memory) >= _MAX_SHAPED_MESSAGES:
                memory.clear()
            memory[shape] = value
        return value


def collapse_runs(masked: str) -> str:
    """Neighbouring wildcards as one: a template learnt word by word can gain them."""
    return _RUN.sub(VAR, masked) if VAR in masked else masked


def render(masked: str) -> str:
    """A masked message or template as users see it."""
    return masked.replace(VAR, WILDCARD)
