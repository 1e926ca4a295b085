"""Pull time, level, message and who logged it out of structured records: JSON, logfmt, CSV rows.

Field names differ between loggers and shippers (zap, logrus, pino, bunyan, structlog,
Serilog, ECS, GCP, journald, fluent-bit, Loki, Elastic, OpenTelemetry) and between the people
who name CSV columns, so a field's role comes from its name once case and separators are
dropped: `PodName`, `pod_name`, `pod name` and `k8s.pod.name` all name a pod. Nested objects
are read through their paths (`{"kubernetes": {"pod_name": ...}}`, `{"log": {"level": ...}}`);
deeper than the top, only names that say what they are (`pod_name`, `service.name`,
`labels.app`) count, so `source.component` of a Kubernetes event or `event.type` of ECS do
not pass for a component or a level.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from engine.evidence.logs.levels import ERROR, level_from_value
from engine.evidence.timestamps import from_epoch, parse_timestamp_value

# Each role: normalised names (lower case, no separators), most telling first.
_TS_NAMES = (
    "timestamp",
    "time",
    "ts",
    "t",
    "datetime",
    "date",
    "asctime",
    "eventtime",
    "timemillis",
    "timeutc",
    "timeunixnano",  # OpenTelemetry
    "realtimetimestamp",  # journald
    "lasttimestamp",  # Kubernetes events
    "firsttimestamp",
)
# "type" last: Kubernetes events say Warning / Normal there.
_LEVEL_NAMES = (
    "level",
    "severity",
    "lvl",
    "loglevel",
    "levelname",
    "l",
    "severitytext",
    "detectedlevel",
    "type",
)
_PRIORITY_NAMES = ("priority",)  # journald: syslog priority 0-7
_MSG_NAMES = ("msg", "message", "m", "mt", "event", "text", "log", "line", "body", "content")
# pino and bunyan nest the error as `err: {message, stack}`, ECS as `error: {message, …}`.
_ERROR_NAMES = ("error", "err", "errormessage", "errmessage", "exceptionmessage")
_STACK_NAMES = (
    "stacktrace",
    "stack",
    "excinfo",
    "exctext",
    "exception",
    "errorstacktrace",
    "errorstack",
    "errstack",
)
# Who logged the record: the service or app it belongs to.
_COMPONENT_NAMES = (
    "service",
    "servicename",
    "app",
    "labelsapp",
    "appkubernetesioname",
    "k8sapp",
    "application",
    "applicationname",
    "component",
    "syslogidentifier",
    "program",
    "job",
)
# Where it ran. A pod before its container: every pod of a chart may run a container
# called "server"; a container before the host, which many containers share.
_HOST_NAMES = (
    "pod",
    "podname",
    "container",
    "containername",
    "host",
    "hostname",
    "node",
    "nodename",
    "instance",
    "involvedobjectname",
)
# The service a record's request went to: a caller's error names its dependency here.
_PEER_NAMES = (
    "upstream",
    "upstreamservice",
    "peerservice",
    "targetservice",
    "dependency",
    "callee",
    "backend",
    "remoteservice",
    "downstream",
)
_ROLES = (
    _TS_NAMES,
    _LEVEL_NAMES,
    _PRIORITY_NAMES,
    _MSG_NAMES,
    _ERROR_NAMES,
    _STACK_NAMES,
    _COMPONENT_NAMES,
    _HOST_NAMES,
    _PEER_NAMES,
)
# name -> (its role, its rank within the role)
_RANKS = {name: (names, rank) for names in _ROLES for rank, name in enumerate(names)}
_KNOWN = frozenset(_RANKS)
# Names that say what they are on their own, at any depth: a pod name under "kubernetes" is
# still a pod name. Short words ("name", "type", "time") need their parent or the top level.
_SELF_NAMED = frozenset(
    {
        "podname",
        "containername",
        "servicename",
        "hostname",
        "nodename",
        "loglevel",
        "levelname",
        "stacktrace",
        "errormessage",
        "appkubernetesioname",
        "lasttimestamp",
        "firsttimestamp",
        "severitytext",
    }
)
# Column names that hold the time and the message in CSV exports.
TIME_COLUMNS = frozenset(_TS_NAMES)
MESSAGE_COLUMNS = frozenset({*_MSG_NAMES, "raw"}) - {"m", "mt"}
# Maps of labels (Loki's stream, Elastic's fields, OpenTelemetry's resource): their keys are
# the names themselves, as at the top level ({"labels": {"pod": ..., "job": ...}}).
_LABEL_MAPS = frozenset({"labels", "stream", "fields", "tags", "attributes", "resource"})
MAX_NAME_CHARS = 80  # a component name longer than this is not a name
_MAX_DEPTH = 6  # object nesting read for fields; deeper values are payload, not metadata
_SEPARATORS = re.compile(r"[^0-9a-z]+")
_LOGFMT_PAIR = re.compile(r'([\w.@/-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
# go-kit's logger may write no level and no msg ("ts=... caller=main.go:108 err=..."): a line
# that opens with a time key whose value is a date or epoch is logfmt as well.
_LOGFMT_HINT = re.compile(r"(?:^|\s)(?:level|lvl|msg|severity)=|^(?:ts|time|timestamp)=\"?\d")
_NO_ERROR = frozenset({"", "none", "null", "nil", "<nil>", "false", "0", "ok"})
_UNESCAPE = re.compile(r"\\(.)")
# Docker / Kubernetes json-file driver: the container's own line sits, unparsed, in "log".
_DOCKER_KEYS = frozenset({"log", "stream", "time", "attrs", "tag"})


class Fields(NamedTuple):
    ts: datetime | None
    level: str | None
    message: str
    stack: list[str]
    component: str | None = None  # service / app / program that logged it
    host: str | None = None  # pod / container / host it ran on
    peer: str | None = None  # the service its request went to (upstream=, peer.service=)


def normalise(name: str) -> str:
    """'PodName', 'pod_name', 'Pod Name' -> 'podname'."""
    return _SEPARATORS.sub("", name.lower())


@lru_cache(maxsize=8192)  # a log repeats the same few keys on every line
def field_name(parent: str, key: str, nested: bool) -> str | None:
    """The role name of `key` (under `parent`, a key itself), or None when it has no role.

    `service.name` and `{"service": {"name": ...}}` are both 'servicename'; a dotted key
    counts as nested, since its last part alone ('name') says nothing.
    """
    parts = key.split(".")
    if len(parts) > 1:
        parent, nested = parts[-2], True
    last = normalise(parts[-1])
    if nested and normalise(parent) in _LABEL_MAPS:
        return last if last in _KNOWN else None
    if nested:
        pair = normalise(parent) + last
        if pair in _KNOWN:
            return pair
        whole = normalise(key)
        if whole in _SELF_NAMED:
            return whole
        return last if last in _SELF_NAMED else None
    return last if last in _KNOWN else None


# role -> (rank of the name within the role, depth, value) of each field that plays it
_Index = dict[tuple[str, ...], list[tuple[int, int, object]]]
_BY_RANK = itemgetter(0, 1)


def _index(obj: dict[str, object]) -> _Index:
    """The fields of `obj` that have a role, nested objects included, best first per role."""
    found: _Index = {}
    _walk(obj, "", 1, found)
    for fields in found.values():
        if len(fields) > 1:
            fields.sort(key=_BY_RANK)  # stable: document order among equals
    return found


def _walk(obj: dict[str, object], parent: str, depth: int, found: _Index) -> None:
    for key, value in obj.items():
        if isinstance(value, dict):
            if depth < _MAX_DEPTH:
                _walk(value, key.rsplit(".", 1)[-1], depth + 1, found)
            continue
        if value is None or value == "":
            continue
        role = _role(parent, key, depth > 1)
        if role is not None:
            found.setdefault(role[0], []).append((role[1], depth, value))


@lru_cache(maxsize=8192)
def _role(parent: str, key: str, nested: bool) -> tuple[tuple[str, ...], int] | None:
    name = field_name(parent, key, nested)
    return None if name is None else _RANKS[name]


def _values(index: _Index, names: tuple[str, ...]) -> Iterator[object]:
    """Non-empty values of a role, in the order of `names`, shallower fields first."""
    return (value for _, _, value in index.get(names, ()))


def _first(index: _Index, names: tuple[str, ...]) -> object:
    fields = index.get(names)
    return fields[0][2] if fields else None


def _first_text(index: _Index, names: tuple[str, ...]) -> str:
    for _, _, value in index.get(names, ()):
        if isinstance(value, str):
            return value
    return ""


def _timestamp(obj: dict[str, object], index: _Index, year: int | None) -> datetime | None:
    for value in _values(index, _TS_NAMES):
        ts = parse_timestamp_value(value, year)
        if ts is not None:
            return ts
    instant = obj.get("instant")  # log4j2 JsonLayout
    if isinstance(instant, dict) and isinstance(instant.get("epochSecond"), int):
        nanos = instant.get("nanoOfSecond")
        fraction = nanos / 1e9 if isinstance(nanos, int) else 0.0
        return from_epoch(instant["epochSecond"] + fraction)
    return None


def _level(index: _Index) -> str | None:
    # The first value that is a level: "type" may hold "Normal", an event's kind.
    for value in _values(index, _LEVEL_NAMES):
        level = level_from_value(value)
        if level is not None:
            return level
    value = _first(index, _PRIORITY_NAMES)
    return level_from_value(value, syslog_priority=True) if value is not None else None


def _error_level(error: object) -> str | None:
    """ERROR for a record without a level that carries an error field (go-kit writes
    `err=...` and no level); an empty one ("err=<nil>", "error": null) is not an error."""
    if isinstance(error, str) and error.strip().lower() not in _NO_ERROR:
        return ERROR
    return None


def _name(index: _Index, names: tuple[str, ...]) -> str | None:
    return _first_text(index, names)[:MAX_NAME_CHARS] or None


def _combine(message: str, error: object, stack: list[str]) -> str:
    """'request failed' + error 'dial tcp: refused' -> 'request failed: dial tcp: refused'."""
    if not isinstance(error, str) or not error:
        return message
    first, _, more = error.partition("\n")
    if more:
        stack.extend(more.splitlines())
    if first in message:
        return message
    return f"{message}: {first}" if message else first


def _wrapped(obj: dict[str, object]) -> tuple[str, dict[str, object]] | None:
    """The record an envelope carries in one of its fields (Elastic's `_source`), when the
    envelope itself has no message: (its key, the record)."""
    for key, value in obj.items():
        if isinstance(value, dict) and any(
            field_name("", k, False) in _MSG_NAMES for k in value if isinstance(value[k], str)
        ):
            return key, value
    return None


def from_json(obj: dict[str, object], year: int | None = None) -> Fields:
    index = _index(obj)
    text = _first_text(index, _MSG_NAMES)
    wrapped = None if text else _wrapped(obj)
    if wrapped is not None:
        key, record = wrapped
        envelope = {k: v for k, v in obj.items() if k != key}
        return merge(from_json(record, year), _fields(envelope, _index(envelope), "", year))
    return _fields(obj, index, text, year)


def _fields(obj: dict[str, object], index: _Index, text: str, year: int | None) -> Fields:
    stack: list[str] = []
    if "\n" in text:
        text, _, more = text.partition("\n")
        stack.extend(more.splitlines())
    error = _first(index, _ERROR_NAMES)
    if isinstance(error, dict):
        error = error.get("message")
    text = _combine(text, error, stack)
    trace = _first(index, _STACK_NAMES)
    if isinstance(trace, str):
        stack.extend(trace.splitlines())
    elif isinstance(trace, list):
        stack.extend(str(frame) for frame in trace)
    return Fields(
        _timestamp(obj, index, year),
        _level(index) or _error_level(error),
        text.strip(),
        stack,
        _name(index, _COMPONENT_NAMES),
        _name(index, _HOST_NAMES),
        _name(index, _PEER_NAMES),
    )


def merge(inner: Fields, outer: Fields) -> Fields:
    """A record opened from inside another: its own values, the wrapper's where it has none."""
    return Fields(
        inner.ts or outer.ts,
        inner.level or outer.level,
        inner.message,
        inner.stack + outer.stack,
        inner.component or outer.component,
        inner.host or outer.host,
        inner.peer or outer.peer,
    )


def records_in(document: object) -> list[dict[str, object]]:
    """The records of a JSON document: an array of them, or the longest array of objects
    inside an envelope (Elastic's `hits.hits`, `{"logs": [...]}`)."""
    if isinstance(document, list):
        return [item for item in document if isinstance(item, dict)]
    best: list[dict[str, object]] = []
    pending: list[tuple[object, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict) and depth < _MAX_DEPTH:
            pending.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            items = [item for item in value if isinstance(item, dict)]
            if len(items) > len(best):
                best = items
    return best


def docker_inner(obj: dict[str, object]) -> str | None:
    """The container's line when `obj` is a Docker json-file record, else None."""
    log = obj.get("log")
    if isinstance(log, str) and obj.keys() <= _DOCKER_KEYS:
        return log.rstrip("\r\n")
    return None


def looks_like_logfmt(text: str) -> bool:
    return logfmt_start(text) is not None


def logfmt_start(text: str) -> int | None:
    """Where the first telling key=value pair (level=, msg=) of `text` starts, or None."""
    if "=" not in text:
        return None
    m = _LOGFMT_HINT.search(text)
    return m.start() if m else None


def parse_logfmt(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for key, raw in _LOGFMT_PAIR.findall(text):
        if raw.startswith('"'):
            raw = _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), raw[1:-1])
        pairs.setdefault(key, raw)
    return pairs


def from_logfmt(pairs: dict[str, str], year: int | None = None) -> Fields:
    obj: dict[str, object] = dict(pairs)
    return from_json(obj, year)
