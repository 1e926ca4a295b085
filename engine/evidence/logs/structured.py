"""Pull time, level and message out of structured records: JSON objects and logfmt pairs.

Field names differ between loggers (zap, logrus, pino, bunyan, structlog, Serilog, ECS,
GCP, journald), so each role has a list of keys tried in order.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from engine.evidence.logs.levels import level_from_value
from engine.evidence.timestamps import from_epoch, parse_timestamp_value

_TS_KEYS = (
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "@t",
    "t",
    "datetime",
    "date",
    "asctime",
    "eventTime",
    "timeMillis",
    "__REALTIME_TIMESTAMP",
    "lastTimestamp",  # Kubernetes events
    "firstTimestamp",
)
# Column names that hold the time in CSV exports.
TIME_COLUMNS = frozenset({k.lower() for k in _TS_KEYS} | {"_time", "time_utc", "date_time"})
# "type" last: Kubernetes events say Warning / Normal there.
_LEVEL_KEYS = (
    "level",
    "severity",
    "lvl",
    "loglevel",
    "log_level",
    "levelname",
    "log.level",
    "@l",
    "type",
)
_PRIORITY_KEYS = ("PRIORITY", "priority")  # journald: syslog priority 0-7
_MSG_KEYS = ("msg", "message", "@m", "@mt", "MESSAGE", "event", "text", "log")
_ERROR_KEYS = ("error", "err", "error.message", "exception.message")
_STACK_KEYS = (
    "stack_trace",
    "stacktrace",
    "stack",
    "exc_info",
    "exc_text",
    "exception",
    "error.stack_trace",
    "error.stack",
)
# Who logged the record. Service-like names first; pods and hosts are where it ran.
_COMPONENT_KEYS = (
    "service",
    "service.name",
    "service_name",
    "serviceName",
    "app",
    "application",
    "component",
    "container_name",
    "container",
    "SYSLOG_IDENTIFIER",
    "program",
)
_HOST_KEYS = (
    "pod",
    "pod_name",
    "kubernetes.pod_name",
    "k8s.pod.name",
    "host",
    "hostname",
    "host.name",
    "_HOSTNAME",
    "instance",
    "node",
)
# The service a record's request went to: a caller's error names its dependency here.
_PEER_KEYS = (
    "upstream",
    "upstream_service",
    "peer.service",
    "peer_service",
    "target_service",
    "dependency",
    "callee",
    "backend",
    "remote_service",
    "downstream",
)
# Docker / Kubernetes json-file driver: the container's own line sits, unparsed, in "log".
_DOCKER_KEYS = frozenset({"log", "stream", "time", "attrs", "tag"})

_KEY_SETS: dict[tuple[str, ...], frozenset[str]] = {
    keys: frozenset(keys)
    for keys in (
        _TS_KEYS,
        _LEVEL_KEYS,
        _PRIORITY_KEYS,
        _MSG_KEYS,
        _ERROR_KEYS,
        _STACK_KEYS,
        _COMPONENT_KEYS,
        _HOST_KEYS,
        _PEER_KEYS,
    )
}

MAX_NAME_CHARS = 80  # a component name longer than this is not a name
_LOGFMT_PAIR = re.compile(r'([\w.@/-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')
_LOGFMT_HINT = re.compile(r"(?:^|\s)(?:level|lvl|msg|severity)=")
_UNESCAPE = re.compile(r"\\(.)")


class Fields(NamedTuple):
    ts: datetime | None
    level: str | None
    message: str
    stack: list[str]
    component: str | None = None  # service / app / program that logged it
    host: str | None = None  # pod / host / instance it ran on
    peer: str | None = None  # the service its request went to (upstream=, peer.service=)


def _first(obj: dict[str, object], keys: tuple[str, ...]) -> object:
    if _KEY_SETS[keys].isdisjoint(obj):  # most roles are absent from most records
        return None
    for key in keys:
        value = obj.get(key)
        if value is not None and value != "":
            return value
    return None


def _first_text(obj: dict[str, object], keys: tuple[str, ...]) -> str:
    if _KEY_SETS[keys].isdisjoint(obj):
        return ""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _nested(obj: dict[str, object], outer: str, inner: str) -> object:
    """ECS-style nesting: {"log": {"level": "error"}}, {"error": {"message": ...}}."""
    value = obj.get(outer)
    return value.get(inner) if isinstance(value, dict) else None


def _timestamp(obj: dict[str, object], year: int | None) -> datetime | None:
    value = _first(obj, _TS_KEYS)
    if value is None:
        instant = obj.get("instant")  # log4j2 JsonLayout
        if isinstance(instant, dict) and isinstance(instant.get("epochSecond"), int):
            nanos = instant.get("nanoOfSecond")
            fraction = nanos / 1e9 if isinstance(nanos, int) else 0.0
            return from_epoch(instant["epochSecond"] + fraction)
        return None
    if isinstance(value, str) and value.isdecimal() and len(value) >= 16:
        return from_epoch(int(value))  # journald microseconds, as a string
    return parse_timestamp_value(value, year)


def _level(obj: dict[str, object]) -> str | None:
    value = _first(obj, _LEVEL_KEYS) or _nested(obj, "log", "level")
    if value is not None:
        return level_from_value(value)
    value = _first(obj, _PRIORITY_KEYS)
    return level_from_value(value, syslog_priority=True) if value is not None else None


def _name(obj: dict[str, object], keys: tuple[str, ...], *nested: tuple[str, str]) -> str | None:
    """A component or host name: flat keys first, then ECS / Kubernetes nesting."""
    found = _first_text(obj, keys)
    for outer, inner in nested:
        if found:
            break
        value = _nested(obj, outer, inner)
        if isinstance(value, str):
            found = value
    return found[:MAX_NAME_CHARS] or None


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


def from_json(obj: dict[str, object], year: int | None = None) -> Fields:
    text = _first_text(obj, _MSG_KEYS)
    stack: list[str] = []
    if "\n" in text:
        text, _, more = text.partition("\n")
        stack.extend(more.splitlines())
    error = _first(obj, _ERROR_KEYS)
    if isinstance(error, dict):
        error = error.get("message")
    text = _combine(text, error, stack)
    trace = _first(obj, _STACK_KEYS) or _nested(obj, "error", "stack_trace")
    if isinstance(trace, str):
        stack.extend(trace.splitlines())
    elif isinstance(trace, list):
        stack.extend(str(frame) for frame in trace)
    component = _name(obj, _COMPONENT_KEYS, ("service", "name"), ("kubernetes", "container_name"))
    host = _name(
        obj, _HOST_KEYS, ("kubernetes", "pod_name"), ("host", "name"), ("involvedObject", "name")
    )
    peer = _name(obj, _PEER_KEYS, ("peer", "service"))
    return Fields(_timestamp(obj, year), _level(obj), text.strip(), stack, component, host, peer)


def docker_inner(obj: dict[str, object]) -> str | None:
    """The container's line when `obj` is a Docker json-file record, else None."""
    log = obj.get("log")
    if isinstance(log, str) and obj.keys() <= _DOCKER_KEYS:
        return log.rstrip("\r\n")
    return None


def looks_like_logfmt(text: str) -> bool:
    return "=" in text and _LOGFMT_HINT.search(text) is not None


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
