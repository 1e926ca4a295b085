"""Which column of a span table plays which role, from its name and a look at its cells.

Tools name the same thing "trace_id", "TraceID", "Trace ID" or "traceid", so a header is
reduced to its words (camelCase split, any separator) and compared with the words run
together. Each role accepts a pattern of such names; a column the name picks must also hold
what the role needs in its first cells (times that parse, numeric durations), so a "time"
column of weekday names or a "duration" column of text is passed over for the next candidate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine.evidence.timestamps import parse_timestamp_value

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Unit words a column name may end with.
_UNIT = (
    r"(?:ms|millis|milliseconds|us|micros|microseconds|ns|nano|nanos|nanoseconds"
    r"|s|sec|secs|seconds)"
)
_TIME = rf"(?:time|timestamp|ts|at)?(?:unix|epoch)?{_UNIT}?"

# Role -> accepted names (words run together), most preferred first: a column matching an
# earlier name wins over one matching a later name. Pod, container and host only say where a
# span ran; they stand in for a missing service column.
_PATTERNS: dict[str, tuple[str, ...]] = {
    "trace": ("traceid", "trace"),
    "span": ("spanid", "span", "id"),
    "parent": ("parentspanid", "parentid", "parentspan", "parent"),
    "service": ("(?:resource)?(?:service|svc)(?:name)?", "app(?:lication)?(?:name)?"),
    "pod": ("(?:k8s)?pod(?:name)?",),
    "container": ("(?:k8s)?container(?:name)?",),
    "host": ("(?:host|node|instance)(?:name)?",),
    "operation": (
        "(?:span)?(?:operation|op)(?:name)?",
        "spanname",
        "name",
        "endpoint(?:name)?",
        "(?:http)?(?:route|url|target)",
        "path",
    ),
    "start": (rf"(?:span)?(?:start|begin)(?:ed)?{_TIME}",),
    "end": (rf"(?:span)?(?:end|finish|stop)(?:ed)?{_TIME}",),
    "timestamp": (rf"(?:time|timestamp|ts|date){_UNIT}?",),
    "duration": (rf"(?:span)?(?:duration|latency|elapsed|took)({_UNIT})?",),
    "kind": ("(?:span)?kind", "spantype"),
    "peer": ("(?:peer|remote)(?:service)?(?:name)?",),
}
_COMPILED = {role: [re.compile(p) for p in names] for role, names in _PATTERNS.items()}
# Every column that can say a span failed; any of them saying so makes it an error.
_FLAG = re.compile(r"(?:is|has|with)?(?:error|err|failed|failure)")
_STATUS = re.compile(r"(?:otel|span|http|response)?status(?:code)?")
# Where the service comes from, in order of preference, per row.
SERVICE_SOURCES = ("service", "pod", "container", "host")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_MIN_EPOCH = 1e8  # 1973 in seconds; any epoch in a finer unit is larger still
# How many cells a content check looks at; enough to see past a few blanks.
_SAMPLE_ROWS = 50


def words(header: str) -> list[str]:
    """'StartTimeUnixNano' -> ['start', 'time', 'unix', 'nano']; 'trace_id' -> ['trace', 'id']."""
    # "Duration (µs)": the micro sign is the unit's first letter, not a separator.
    spaced = _CAMEL.sub("_", header.strip().replace("µ", "u").replace("μ", "u"))
    return [word for word in _NON_WORD.split(spaced.lower()) if word]


def name_key(header: str) -> str:
    return "".join(words(header))


def _is_time(value: str) -> bool:
    # Small numbers are offsets from the trace's start, not dates in the early 1970s.
    if _NUMBER.fullmatch(value):
        return float(value) >= _MIN_EPOCH
    return parse_timestamp_value(value) is not None


def _is_number(value: str) -> bool:
    # A duration may carry its unit ("12ms"); the number in front is what must be there.
    return re.match(r"\s*[-+]?\d", value) is not None


_CONTENT: dict[str, Callable[[str], bool]] = {
    "start": _is_time,
    "end": _is_time,
    "timestamp": _is_time,
    "duration": _is_number,
}


def _fits(role: str, cells: list[str]) -> bool:
    """Whether most non-empty sample cells hold what `role` needs (no sample: trust the name)."""
    check = _CONTENT.get(role)
    values = [cell for cell in cells if cell]
    if check is None or not values:
        return True
    return sum(map(check, values)) * 2 > len(values)


@dataclass
class Columns:
    """Column index per role, and every column that can flag an error."""

    index: dict[str, int] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # the headers as written
    flags: list[int] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def has(self, *roles: str) -> bool:
        return all(role in self.index for role in roles)

    def unit_word(self, role: str) -> str | None:
        """The unit a column's name ends with ('duration_ms' -> 'ms'), if any."""
        if role not in self.index:
            return None
        key = name_key(self.names[self.index[role]])
        m = next(filter(None, (p.fullmatch(key) for p in _COMPILED[role])), None)
        return m.group(1) if m and m.re.groups else None

    @property
    def is_span_table(self) -> bool:
        has_time = self.has("duration") or self.has("start", "end")
        has_who = any(self.has(role) for role in (*SERVICE_SOURCES, "operation"))
        return self.has("trace", "span") and has_time and has_who


def find_columns(headers: Sequence[str], sample: Sequence[Sequence[str]] = ()) -> Columns:
    """Roles of a table's columns; `sample` (first data rows) vetoes names whose cells do not
    fit. A column plays one role; roles earlier in _PATTERNS choose first."""
    keys = [name_key(header) for header in headers]
    columns = Columns(names=list(headers))

    def cells(i: int) -> list[str]:
        return [row[i].strip() for row in sample[:_SAMPLE_ROWS] if i < len(row)]

    taken: set[int] = set()
    for role, patterns in _COMPILED.items():
        found = next(
            (
                i
                for pattern in patterns
                for i, key in enumerate(keys)
                if i not in taken and pattern.fullmatch(key) and _fits(role, cells(i))
            ),
            None,
        )
        if found is not None:
            columns.index[role] = found
            taken.add(found)
    if "start" not in columns.index and "timestamp" in columns.index:
        # A lone time column is when the span started (Zipkin's "timestamp").
        columns.index["start"] = columns.index.pop("timestamp")
    columns.flags = [i for i, key in enumerate(keys) if _FLAG.fullmatch(key) and i not in taken]
    columns.statuses = [
        i for i, key in enumerate(keys) if _STATUS.fullmatch(key) and i not in taken
    ]
    return columns
