"""One incident rendered as trace exports in every format we read.

Checkout calls inventory, then payments, which queries payments-db. In every fourth trace
payments-db times out twice (1 s each), so payments and checkout fail too.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime

BASE_US = int(datetime(2026, 11, 21, 14, 0, tzinfo=UTC).timestamp()) * 1_000_000
MS = 1000
TRACES = 40


@dataclass
class S:
    """A span as the test thinks of it, rendered below into each export format."""

    trace: str
    id: str
    parent: str | None
    service: str
    op: str
    start: int  # epoch µs
    dur: int  # µs
    error: bool = False
    kind: str = "server"
    peer: str | None = None


class OneTrace:
    """Spans of one trace, with ids unique in the file (trace number, then a counter)."""

    def __init__(self, number: int, client_spans: bool) -> None:
        self.trace = f"{number:032x}"
        self.number = number
        self.client_spans = client_spans
        self.spans: list[S] = []

    def span(self, parent: S | None, service: str, op: str, start: int, dur: int) -> S:
        span_id = f"{self.number:08x}{len(self.spans) + 1:08x}"
        span = S(self.trace, span_id, parent.id if parent else None, service, op, start, dur)
        self.spans.append(span)
        return span

    def call(self, parent: S, service: str, op: str, start: int, dur: int) -> S:
        """The callee's server span; with client spans, under a client span of the caller."""
        if not self.client_spans:
            return self.span(parent, service, op, start, dur)
        client = self.span(parent, parent.service, op, start, dur)
        client.kind = "client"
        return self.span(client, service, op, start + 500, dur - MS)


def incident(*, client_spans: bool, db_instrumented: bool) -> list[S]:
    """With `client_spans`, each call has a client span in the caller (Jaeger, Zipkin);
    without `db_instrumented`, payments-db appears only as payments' client spans."""
    spans: list[S] = []
    for k in range(TRACES):
        failing = k % 4 == 0
        t = BASE_US + k * 6_000_000
        trace = OneTrace(k + 1, client_spans)
        root = trace.span(None, "checkout", "POST /checkout", t, 0)
        trace.call(root, "inventory", "GET /stock", t + 2 * MS, 20 * MS)
        attempts = [1000 * MS, 1000 * MS] if failing else [30 * MS]
        pay_start = t + 25 * MS
        pay_dur = 2 * MS + sum(a + MS for a in attempts) + 3 * MS
        payments = trace.call(root, "payments", "POST /charge", pay_start, pay_dur)
        cursor = payments.start + 2 * MS
        for attempt in attempts:
            db_service = "payments-db" if db_instrumented else "payments"
            db = trace.span(payments, db_service, "SELECT orders", cursor, attempt)
            if not db_instrumented:
                db.kind, db.peer = "client", "payments-db"
            cursor += attempt + MS
        root.dur = pay_start + pay_dur + 5 * MS - t
        for span in trace.spans:
            # the timeouts fail every span on the way up; inventory is fine
            span.error = failing and span.service != "inventory" and span.op != "GET /stock"
        spans += trace.spans
    return spans


def jaeger(spans: list[S]) -> bytes:
    services = sorted({s.service for s in spans})
    process = {name: f"p{i + 1}" for i, name in enumerate(services)}
    traces = []
    for trace, group in itertools.groupby(spans, key=lambda s: s.trace):
        items = []
        for s in group:
            tags: list[dict[str, object]] = [
                {"key": "span.kind", "type": "string", "value": s.kind}
            ]
            if s.error:
                tags.append({"key": "error", "type": "bool", "value": True})
            if s.peer:
                tags.append({"key": "peer.service", "type": "string", "value": s.peer})
            if s.op.startswith("POST") and s.kind == "server":
                tags.append(
                    {"key": "http.status_code", "type": "int64", "value": 500 if s.error else 200}
                )
            refs = (
                [{"refType": "CHILD_OF", "traceID": trace, "spanID": s.parent}] if s.parent else []
            )
            items.append(
                {
                    "traceID": trace,
                    "spanID": s.id,
                    "operationName": s.op,
                    "references": refs,
                    "startTime": s.start,
                    "duration": s.dur,
                    "tags": tags,
                    "logs": [],
                    "processID": process[s.service],
                    "warnings": None,
                }
            )
        procs = {pid: {"serviceName": name, "tags": []} for name, pid in process.items()}
        traces.append({"traceID": trace, "spans": items, "processes": procs, "warnings": None})
    doc = {"data": traces, "total": 0, "limit": 0, "offset": 0, "errors": None}
    return json.dumps(doc, indent=2).encode()


def zipkin(spans: list[S]) -> bytes:
    """Zipkin v2 with B3 shared spans: the server half reuses its client's span id."""
    by_id = {s.id: s for s in spans}
    alias = {
        s.id: s.parent
        for s in spans
        if s.parent and s.kind == "server" and by_id[s.parent].kind == "client"
    }
    out = []
    for s in spans:
        shared = s.id in alias
        item: dict[str, object] = {
            "traceId": s.trace,
            "id": alias.get(s.id, s.id),
            "kind": s.kind.upper(),
            "name": s.op.lower(),
            "timestamp": s.start,
            "duration": s.dur,
            "localEndpoint": {"serviceName": s.service, "ipv4": "10.0.0.7"},
            "tags": {"http.path": "/x"} | ({"error": "timeout"} if s.error else {}),
        }
        parent = by_id[s.parent].parent if shared and s.parent else s.parent
        if parent:
            item["parentId"] = alias.get(parent, parent)
        if shared:
            item["shared"] = True
        if s.peer:
            item["remoteEndpoint"] = {"serviceName": s.peer, "port": 5432}
        out.append(item)
    return json.dumps(out).encode()


def otlp(spans: list[S]) -> bytes:
    resources = []
    for service in sorted({s.service for s in spans}):
        items = [
            {
                "traceId": s.trace,
                "spanId": s.id,
                "parentSpanId": s.parent or "",
                "name": s.op,
                "kind": 2,
                "startTimeUnixNano": str(s.start * 1000),
                "endTimeUnixNano": str((s.start + s.dur) * 1000),
                "attributes": [{"key": "http.method", "value": {"stringValue": "POST"}}],
                "status": {"code": 2, "message": "deadline exceeded"} if s.error else {},
            }
            for s in spans
            if s.service == service
        ]
        resource = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
        scope = {"scope": {"name": "io.opentelemetry.http"}, "spans": items}
        resources.append({"resource": resource, "scopeSpans": [scope]})
    return json.dumps({"resourceSpans": resources}).encode()


def span_table(spans: list[S]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["trace_id", "span_id", "parent_span_id", "service", "operation", "start_time",
         "duration_ms", "status"]
    )  # fmt: skip
    for s in spans:
        start = datetime.fromtimestamp(s.start / 1e6, UTC).isoformat().replace("+00:00", "Z")
        status = "ERROR" if s.error else "OK"
        writer.writerow([s.trace, s.id, s.parent or "", s.service, s.op, start, s.dur / MS, status])
    return out.getvalue().encode()
