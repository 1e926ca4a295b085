"""Trace exports in JSON -> one flat list of spans: Jaeger, Zipkin (v2, and v1 leniently), OTLP.

Every format is reduced to the same `Span` so the analysis never knows where a trace came
from. Readers never raise on odd fields: a span missing what we need is skipped and counted,
because one malformed span should not cost the user the other thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_SERVICE = "unknown"
# Zipkin and OTLP tag errors in several ways; an HTTP 5xx counts as an error everywhere.
_HTTP_STATUS_KEYS = ("http.status_code", "http.response.status_code")
_OTLP_KIND = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    operation: str
    start_us: float | None = field(default=None)  # epoch microseconds; None when unknown
    duration_us: float = 0.0
    error: bool = False
    kind: str = ""  # "client", "server", ... lower case; "" when the source does not say
    peer: str | None = None  # the remote service a client span calls, when the span names it
    shared: bool = False  # Zipkin: the server half of a span id shared with its client


@dataclass
class Parsed:
    format: str
    spans: list[Span] = field(default_factory=list)
    skipped: int = 0  # span objects without the ids or duration the analysis needs


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # some exporters write numeric ids
    return None


def _number(value: object) -> float | None:
    """JSON numbers, and the decimal strings OTLP uses for 64-bit integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value == value else None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "ok", "unset")
    return bool(value)


def _tag_error(key: str, value: object) -> bool:
    if key == "error":
        return _truthy(value)
    if key == "otel.status_code":
        return isinstance(value, str) and value.upper() == "ERROR"
    if key in _HTTP_STATUS_KEYS:
        status = _number(value)
        return status is not None and status >= 500
    return False


def _span(
    ids: tuple[object, object, object], service: str, start_us: object, duration_us: object
) -> Span | None:
    """A span with the fields every format has; None without ids or a usable duration."""
    trace_id, span_id, parent_id = (_text(value) for value in ids)
    duration = _number(duration_us)
    if trace_id is None or span_id is None or duration is None or duration < 0:
        return None
    start = _number(start_us)
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent_id if parent_id and parent_id.strip("0") else None,
        service=service,
        operation="",
        start_us=start or None,  # 0 is what exporters write when they do not know
        duration_us=duration,
    )


# --- Jaeger: {"data": [{"traceID", "spans": [...], "processes": {...}}]} ---------------------


def _jaeger_parent(raw: dict[str, Any], trace_id: object) -> object:
    refs = [ref for ref in raw.get("references") or [] if isinstance(ref, dict)]
    # CHILD_OF is the caller; FOLLOWS_FROM (async) only when there is nothing else.
    refs.sort(key=lambda ref: ref.get("refType") != "CHILD_OF")
    for ref in refs:
        if ref.get("traceID") in (None, trace_id):
            return ref.get("spanID")
    return raw.get("parentSpanID")


def _jaeger_trace(trace: dict[str, Any], parsed: Parsed) -> None:
    processes = trace.get("processes")
    processes = processes if isinstance(processes, dict) else {}
    for raw in trace.get("spans") or []:
        if not isinstance(raw, dict):
            parsed.skipped += 1
            continue
        process = raw.get("process") or processes.get(raw.get("processID")) or {}
        service = _text(process.get("serviceName")) if isinstance(process, dict) else None
        trace_id = raw.get("traceID")
        ids = (trace_id, raw.get("spanID"), _jaeger_parent(raw, trace_id))
        start, duration = raw.get("startTime"), raw.get("duration")
        span = _span(ids, service or UNKNOWN_SERVICE, start, duration)
        if span is None:
            parsed.skipped += 1
            continue
        span.operation = _text(raw.get("operationName")) or ""
        for tag in raw.get("tags") or []:
            if not isinstance(tag, dict) or not isinstance(tag.get("key"), str):
                continue
            key, value = tag["key"], tag.get("value")
            span.error = span.error or _tag_error(key, value)
            if key == "span.kind" and isinstance(value, str):
                span.kind = value.lower()
            elif key == "peer.service":
                span.peer = _text(value)
        parsed.spans.append(span)


# --- Zipkin v2: [{"traceId", "id", "parentId", "localEndpoint": {...}, "tags": {...}}] -------


def _zipkin_service(raw: dict[str, Any]) -> str | None:
    endpoint = raw.get("localEndpoint")
    if isinstance(endpoint, dict) and _text(endpoint.get("serviceName")):
        return _text(endpoint.get("serviceName"))
    # Zipkin v1 keeps the endpoint on each annotation instead.
    for note in (raw.get("annotations") or []) + (raw.get("binaryAnnotations") or []):
        if isinstance(note, dict) and isinstance(note.get("endpoint"), dict):
            name = _text(note["endpoint"].get("serviceName"))
            if name:
                return name
    return None


def _zipkin_span(raw: dict[str, Any], parsed: Parsed) -> None:
    ids = (raw.get("traceId"), raw.get("id"), raw.get("parentId"))
    service = _zipkin_service(raw) or UNKNOWN_SERVICE
    span = _span(ids, service, raw.get("timestamp"), raw.get("duration"))
    if span is None:
        parsed.skipped += 1
        return
    span.operation = _text(raw.get("name")) or ""
    span.kind = str(raw.get("kind") or "").lower()
    span.shared = raw.get("shared") is True
    tags = raw.get("tags")
    if isinstance(tags, dict):
        # Zipkin marks an error by the presence of the tag; its value is the message.
        span.error = "error" in tags or any(_tag_error(k, tags.get(k)) for k in _HTTP_STATUS_KEYS)
        span.peer = _text(tags.get("peer.service"))
    for note in raw.get("binaryAnnotations") or []:
        if isinstance(note, dict) and note.get("key") == "error":
            span.error = True
    remote = raw.get("remoteEndpoint")
    if isinstance(remote, dict) and _text(remote.get("serviceName")):
        span.peer = _text(remote.get("serviceName"))
    parsed.spans.append(span)


# --- OTLP JSON: {"resourceSpans": [{"resource": {...}, "scopeSpans": [{"spans": [...]}]}]} ----


def _get(obj: dict[str, Any], *keys: str) -> Any:
    """The first key present: OTLP JSON allows lowerCamelCase and the proto's snake_case."""
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def _any_value(value: object) -> object:
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "intValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    return None


def _attributes(raw: object) -> dict[str, object]:
    if not isinstance(raw, list):
        return {}
    return {
        item["key"]: _any_value(item.get("value"))
        for item in raw
        if isinstance(item, dict) and isinstance(item.get("key"), str)
    }


def _otlp_status_error(status: object) -> bool:
    code = status.get("code") if isinstance(status, dict) else None
    return code == 2 or (isinstance(code, str) and code.upper() in ("2", "STATUS_CODE_ERROR"))


def _otlp_span(raw: dict[str, Any], service: str, parsed: Parsed) -> None:
    start = _number(_get(raw, "startTimeUnixNano", "start_time_unix_nano"))
    end = _number(_get(raw, "endTimeUnixNano", "end_time_unix_nano"))
    ids = (_get(raw, "traceId", "trace_id"), _get(raw, "spanId", "span_id"))
    parent = _get(raw, "parentSpanId", "parent_span_id")
    start_us = start / 1000 if start is not None else None
    duration_us = (end - start) / 1000 if start is not None and end is not None else None
    span = _span((*ids, parent), service, start_us, duration_us)
    if span is None:
        parsed.skipped += 1
        return
    span.operation = _text(raw.get("name")) or ""
    kind = raw.get("kind")
    if isinstance(kind, int):
        span.kind = _OTLP_KIND.get(kind, "")
    elif isinstance(kind, str):
        span.kind = kind.lower().removeprefix("span_kind_")
    attributes = _attributes(raw.get("attributes"))
    span.peer = _text(attributes.get("peer.service"))
    span.error = _otlp_status_error(raw.get("status")) or any(
        _tag_error(key, attributes.get(key)) for key in _HTTP_STATUS_KEYS
    )
    parsed.spans.append(span)


def _otlp_document(doc: dict[str, Any], parsed: Parsed) -> None:
    # Tempo's API answers {"batches": [...]} with the same resource-spans shape.
    for resource_spans in _get(doc, "resourceSpans", "resource_spans", "batches") or []:
        if not isinstance(resource_spans, dict):
            continue
        resource = resource_spans.get("resource")
        attributes = _attributes(resource.get("attributes") if isinstance(resource, dict) else [])
        service = _text(attributes.get("service.name")) or UNKNOWN_SERVICE
        scopes = _get(resource_spans, "scopeSpans", "scope_spans", "instrumentationLibrarySpans")
        for scope in scopes or []:
            for raw in (scope.get("spans") or []) if isinstance(scope, dict) else []:
                if isinstance(raw, dict):
                    _otlp_span(raw, service, parsed)
                else:
                    parsed.skipped += 1


# --- which one -------------------------------------------------------------------------------


def _documents(value: object) -> list[dict[str, Any]]:
    """Top-level objects; one level of lists is flattened (Zipkin's UI exports a list of
    traces, each a list of spans; JSON lines give a list of documents)."""
    items: Iterable[object] = value if isinstance(value, list) else [value]
    flat: list[dict[str, Any]] = []
    for item in items:
        for inner in item if isinstance(item, list) else [item]:
            if isinstance(inner, dict):
                flat.append(inner)
    return flat


def _jaeger_traces(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    data = doc.get("data")
    if isinstance(data, list):
        yield from (trace for trace in data if isinstance(trace, dict))
    elif isinstance(doc.get("spans"), list):
        yield doc


def _format_of(doc: dict[str, Any]) -> str | None:
    if any(key in doc for key in ("resourceSpans", "resource_spans", "batches")):
        return "OTLP JSON"
    data = doc.get("data")
    if isinstance(data, list) and all(isinstance(t, dict) and "spans" in t for t in data[:3]):
        return "Jaeger JSON"
    if isinstance(doc.get("spans"), list) and ("traceID" in doc or "processes" in doc):
        return "Jaeger JSON"
    if "traceId" in doc and "id" in doc:
        return "Zipkin JSON"
    return None


def parse_json_traces(value: object) -> Parsed | None:
    """Spans from a decoded JSON document (or a list of JSON-lines documents); None when the
    document is none of the formats we know."""
    docs = _documents(value)
    fmt = next((found for doc in docs if (found := _format_of(doc))), None)
    if fmt is None:
        return None
    parsed = Parsed(fmt)
    for doc in docs:
        if _format_of(doc) != fmt:
            parsed.skipped += 1
        elif fmt == "OTLP JSON":
            _otlp_document(doc, parsed)
        elif fmt == "Jaeger JSON":
            for trace in _jaeger_traces(doc):
                _jaeger_trace(trace, parsed)
        else:
            _zipkin_span(doc, parsed)
    return parsed
