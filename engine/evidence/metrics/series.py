"""Series as the metrics parsers hand them over, before statistics: names, points, units.

Every parser (Prometheus text, query JSON, CSV) produces the same `ParsedMetrics`, so the
statistics and the wording never know which format a file was in.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_SERIES = 200  # past this, a file is a dump, not a question; more would only slow replies

NO_TIME = math.nan  # a point without a timestamp (a scrape without them, a CSV without times)

_SPECIAL = {"nan": math.nan, "+inf": math.inf, "inf": math.inf, "-inf": -math.inf}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PLAIN_LABEL = re.compile(r"[^\s,{}=\"]*")
_NAME_TOKENS = re.compile(r"[A-Za-z]+|%")
# Name tokens -> unit, checked from the end of the name so `requests_seconds_total` is s.
_UNIT_TOKENS = {
    "ms": "ms",
    "millis": "ms",
    "milliseconds": "ms",
    "seconds": "s",
    "secs": "s",
    "sec": "s",
    "us": "µs",
    "microseconds": "µs",
    "ns": "ns",
    "nanoseconds": "ns",
    "bytes": "bytes",
    "percent": "%",
    "pct": "%",
    "%": "%",
    "ratio": "ratio",
    "celsius": "°C",
}
# Name words that make a non-zero value worth showing even in a single scrape.
_ERROR_WORD = re.compile(
    r"errors?|errs?|fail(?:s|ed|ures?)?|timeouts?|drop(?:s|ped)?|rejected|refused|panics?"
    r"|oom(?:killed)?|restarts|evicted|unhealthy|throttled|exceptions?|5xx|denied|aborted"
)
_SERVER_ERROR_CODE = re.compile(r"(?:code|status|status_code|response_code)=\"?5\d\d\b")


@dataclass(slots=True)
class RawSeries:
    """Points in file order; `times` are epoch seconds, NO_TIME where the file gave none."""

    name: str
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    unit: str | None = None
    component: str | None = None  # what the file's layout says it is about (SeriesStats)

    def add(self, ts: float, value: float) -> None:
        self.times.append(ts)
        self.values.append(value)


@dataclass(slots=True)
class ParsedMetrics:
    format: str
    series: list[RawSeries]
    series_count: int  # before the MAX_SERIES cap
    notes: list[str] = field(default_factory=list)


class SeriesTable:
    """Series by name in first-seen order, at most MAX_SERIES of them; later ones are counted."""

    def __init__(self) -> None:
        self.by_name: dict[str, RawSeries] = {}
        self.dropped: set[str] = set()

    def get(self, name: str) -> RawSeries | None:
        found = self.by_name.get(name)
        if found is None and name not in self.dropped:
            if len(self.by_name) < MAX_SERIES:
                found = self.by_name[name] = RawSeries(name)
            elif len(self.dropped) < 100 * MAX_SERIES:  # bounded memory; the count is a floor
                self.dropped.add(name)
        return found

    def parsed(self, fmt: str, notes: list[str]) -> ParsedMetrics:
        count = len(self.by_name) + len(self.dropped)
        if self.dropped:
            notes.append(cap_note(count))
        return ParsedMetrics(fmt, list(self.by_name.values()), count, notes)


def cap_note(count: int, which: str = "first") -> str:
    return f"{count:,} series found; only the {which} {MAX_SERIES} were analysed"


def parse_number(text: str) -> float | None:
    """A sample value: decimal or exponent notation, NaN, +Inf, -Inf; None for anything else."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return float(text)
    return _SPECIAL.get(text.lower())


def series_name(metric: str, labels: Iterable[tuple[str, str]]) -> str:
    """`http_requests_total{code=500,job=api}`: labels compact, quoted only when they must be."""
    parts = [
        f"{key}={value if _PLAIN_LABEL.fullmatch(value) else json.dumps(value)}"
        for key, value in labels
        if value != "" and key != "__name__"  # an empty label is an absent one (Prometheus)
    ]
    if not parts:
        return metric
    return f"{metric}{{{','.join(parts)}}}"


def metric_part(name: str) -> str:
    return name.split("{", 1)[0]


def unit_from_name(name: str) -> str | None:
    tokens = _NAME_TOKENS.findall(metric_part(name).lower())
    for token in reversed(tokens):
        if token in _UNIT_TOKENS:
            return _UNIT_TOKENS[token]
    return None


def is_error_like(name: str) -> bool:
    """Error counters, failed checks, 5xx responses: values an SRE looks at first."""
    metric = metric_part(name).lower()
    if any(_ERROR_WORD.fullmatch(word) for word in re.split(r"[^a-z0-9]+", metric)):
        return True
    return bool(_SERVER_ERROR_CODE.search(name))


def is_counter(name: str) -> bool:
    """Prometheus naming: counters end in _total. (Histogram _count and _sum are counters too,
    but so many gauges end in _count that the name alone cannot tell.)"""
    return metric_part(name).endswith("_total")
