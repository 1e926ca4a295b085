"""analyze_traces + summarize_traces on small, real-looking exports of one incident.

The incident, rendered in every format: checkout calls inventory, then payments, which
queries payments-db. In every fourth trace payments-db times out twice (1 s each), so payments
and checkout fail too. The analysis must blame payments-db, not its callers.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from engine.core.errors import EvidenceRejected
from engine.evidence.traces.analyze import (
    TraceReport,
    analyze_traces,
    describe_traces,
    looks_like_traces,
    summarize_traces,
)
from tests.samples.traces import (
    BASE_US,
    MS,
    TRACES,
    incident,
    jaeger,
    otlp,
    span_table,
    zipkin,
)

FORMATS = {
    "Jaeger JSON": lambda: jaeger(incident(client_spans=True, db_instrumented=False)),
    "Zipkin JSON": lambda: zipkin(incident(client_spans=True, db_instrumented=False)),
    "OTLP JSON": lambda: otlp(incident(client_spans=False, db_instrumented=True)),
    "CSV span table": lambda: span_table(incident(client_spans=False, db_instrumented=True)),
}


def service(report: TraceReport, name: str) -> dict[str, object]:
    return next(s.model_dump() for s in report.services if s.service == name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_blames_the_deepest_failing_callee(fmt: str) -> None:
    data = FORMATS[fmt]()
    assert looks_like_traces("trace.json", data.decode())
    report = analyze_traces("trace.json", data)
    assert report.format == fmt and report.trace_count == TRACES
    assert [s.service for s in report.suspects] == ["payments-db", "payments", "checkout"]
    db, pay, checkout = report.suspects
    assert db.score > 2 * pay.score and pay.score >= checkout.score
    assert db.reasons[0] == "40% of its spans error"
    assert "callers checkout, payments fail when it fails" in db.reasons
    assert any("of the extra time in 10 slow traces is its own" in r for r in db.reasons)
    assert pay.reasons[1] == "all 10 of its errors come from payments-db"

    db_stats = service(report, "payments-db")
    assert {key: db_stats[key] for key in ("spans", "errors", "error_rate", "p95_ms")} == {
        "spans": 50, "errors": 20, "error_rate": 0.4, "p95_ms": 1000.0,
    }  # fmt: skip
    assert db_stats["errors_from"] is None and db_stats["self_time_p95_ms"] == 1000.0
    assert service(report, "payments")["error_rate"] == 0.25
    # With client spans (Jaeger, Zipkin) a failing checkout trace has 2 failing spans of 3.
    client_spans = fmt in ("Jaeger JSON", "Zipkin JSON")
    assert service(report, "checkout")["errors"] == (20 if client_spans else 10)
    assert service(report, "payments")["errors_from"] == "payments-db"
    assert service(report, "checkout")["errors_from"] == "payments-db"
    assert service(report, "inventory")["errors"] == 0

    edges = {(e.caller, e.callee): (e.calls, e.errors) for e in report.edges}
    assert edges == {
        ("checkout", "inventory"): (40, 0),
        ("checkout", "payments"): (40, 10),
        ("payments", "payments-db"): (50, 20),
    }
    slow = report.slowest[0]
    assert slow.trace_id == f"{1:032x}" and len(report.slowest) == 5
    assert slow.critical_path[0].startswith("checkout:")
    assert slow.critical_path[-1] == slow.bottleneck
    assert slow.bottleneck.lower() == "payments-db:select orders"
    assert slow.bottleneck_ms == pytest.approx(1000.0, abs=1)
    assert slow.duration_ms == pytest.approx(2037.0, abs=1)
    assert report.first_ts == datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


def test_summary_line_and_details() -> None:
    report = analyze_traces("trace.json", FORMATS["OTLP JSON"]())
    assert summarize_traces(report) == (
        "trace.json: 40 traces, 170 spans, 14:00–14:03 UTC; errors in payments-db (40%), "
        "payments (25%, from payments-db), checkout (25%, from payments-db); "
        "slowest path checkout→payments→payments-db 2.0 s"
    )
    lines = describe_traces(report, limit=2)
    assert lines[0].startswith("suspect payments-db (score ")
    assert lines[1].startswith("suspect payments (score ")
    assert lines[2] == (
        f"slow trace {1:032x}: 2.0 s via checkout:POST /checkout → payments:POST /charge → "
        "payments-db:SELECT orders; bottleneck payments-db:SELECT orders (1.0 s of its own)"
    )
    assert "calls payments → payments-db: 50 calls, 20 failed (40%), p95 1.0 s" in lines
    assert report.notes == []


def test_self_time_and_operations() -> None:
    report = analyze_traces("trace.json", FORMATS["CSV span table"]())
    assert report.operations[0].operation == "SELECT orders"
    assert report.operations[0].total_self_ms == pytest.approx(30 * 30 + 20 * 1000)
    payments = service(report, "payments")
    # payments mostly waits on the database: its own time is a few milliseconds
    assert payments["self_time_p95_ms"] == pytest.approx(7.0)
    assert payments["p95_ms"] == pytest.approx(2007.0)


def test_healthy_traces_have_no_suspects() -> None:
    spans = incident(client_spans=False, db_instrumented=True)
    healthy = [replace(s, error=False) for s in spans if int(s.trace, 16) % 4 != 1]
    report = analyze_traces("ok.json", otlp(healthy))
    assert report.suspects == [] and report.trace_count == 30
    assert "no errors" in summarize_traces(report)


def _jaeger_doc(spans: list[dict[str, object]]) -> bytes:
    trace = {"traceID": "t1", "spans": spans, "processes": {"p1": {"serviceName": "api"}}}
    return json.dumps({"data": [trace]}).encode()


def _span(sid: str, parent: str | None, start: int, dur: int) -> dict[str, object]:
    refs = [{"refType": "CHILD_OF", "traceID": "t1", "spanID": parent}] if parent else []
    return {
        "traceID": "t1",
        "spanID": sid,
        "operationName": f"op-{sid}",
        "references": refs,
        "startTime": BASE_US + start,
        "duration": dur,
        "tags": [],
        "processID": "p1",
    }


def test_orphans_cycles_and_clock_skew_are_survived_and_noted() -> None:
    spans = [
        _span("a", None, 0, 100 * MS),
        _span("b", "a", -5 * MS, 40 * MS),  # starts before its parent: clock skew
        _span("c", "missing", 10 * MS, 10 * MS),  # parent not in the file
        _span("d", "e", 0, 5 * MS),  # d and e name each other
        _span("e", "d", 1 * MS, 3 * MS),
    ]
    report = analyze_traces("odd.json", _jaeger_doc(spans))
    assert report.span_count == 5 and report.trace_count == 1
    assert report.notes == [
        "1 span names a parent that is not in the file, so it was read as a root",
        "1 span started before its parent (host clocks disagree) and was moved to start with it",
        "1 loop of spans naming each other as parent was cut at the earliest span",
    ]
    op = {o.operation: o for o in report.operations}
    assert op["op-a"].self_time_p95_ms == pytest.approx(60.0)  # b shifted inside a
    assert report.slowest[0].root == "api:op-a"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"{}", "The JSON holds no traces we can read"),
        (b"[]", "The JSON holds no traces we can read"),
        (b'{"data": [{"id": 1, "name": "x"}]}', "The JSON holds no traces we can read"),
        (b'{"data": []}', "The Jaeger JSON file holds no usable spans"),
        (b'{"data": [{"spans": [{"spanID": "x"}]}]}', "The Jaeger JSON file holds no usable"),
        (b'{"resourceSpans": [', "The file is not valid JSON (Expecting value at line 1"),
        (b"hello, world\nthis is, not a table\n", "The file is not a trace export"),
    ],
)
def test_unreadable_files_are_rejected_clearly(data: bytes, message: str) -> None:
    with pytest.raises(EvidenceRejected) as caught:
        analyze_traces("trace.json", data)
    assert caught.value.user_message.startswith(message)
    assert caught.value.user_message.endswith(".")


def test_json_lines_logs_with_trace_ids_are_not_traces() -> None:
    log = "\n".join(
        json.dumps(
            {
                "timestamp": f"2026-11-21T14:00:0{i}Z",
                "level": "error" if i % 3 == 0 else "info",
                "msg": "charge failed" if i % 3 == 0 else "charged",
                "traceId": f"{i:032x}",
                "spanId": f"{i:016x}",
                "service": "payments",
                "duration_ms": 12,
            }
        )
        for i in range(9)
    )
    assert not looks_like_traces("app.log", log)
    assert not looks_like_traces("app.log", "2026-11-21 14:00:00 INFO trace_id=abc span_id=def")
    assert not looks_like_traces("m.csv", "time,trace_id,cpu,mem\n1,2,3,4\n")


def test_otlp_json_lines_and_secrets_in_operation_names() -> None:
    doc = json.loads(FORMATS["OTLP JSON"]())
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["name"] = "GET /reset?token=Zx9Qv7Lm2Pw4Rt6Yu8Io0As3Df5Gh1Jk"
    half = len(doc["resourceSpans"]) // 2
    lines = [
        {"resourceSpans": doc["resourceSpans"][:half]},
        {"resourceSpans": doc["resourceSpans"][half:]},
    ]
    report = analyze_traces("otel.jsonl", "\n".join(map(json.dumps, lines)).encode())
    assert report.format == "OTLP JSON" and report.trace_count == TRACES
    assert report.redactions == {"secret": 1}
    assert summarize_traces(report).endswith("; masked 1 secret")
    assert not any("Zx9Qv7" in o.operation for o in report.operations)


def slow_database_table() -> bytes:
    """TSV, epoch-millisecond starts, durations with units. payments-db never errors, but in
    every fifth trace it takes 1.5 s; payments gives up after 0.5 s and its callers fail."""
    rows = ["traceID\tspanID\tparentID\tservice.name\tname\tstart\tduration\terror"]
    t0 = BASE_US // MS
    for k in range(20):
        slow = k % 5 == 0
        t = t0 + k * 3000
        chain = [
            ("frontend", "GET /", 0, "520ms" if slow else "20ms"),
            ("checkout", "POST /checkout", 2, "510ms" if slow else "15ms"),
            ("payments", "charge", 4, "0.502s" if slow else "12ms"),
            ("payments-db", "UPDATE balance", 5, "1.5s" if slow else "10ms"),
        ]
        for depth, (service, op, offset, duration) in enumerate(chain):
            parent = f"{k}-{depth - 1}" if depth else ""
            error = "true" if slow and service != "payments-db" else "false"
            row = [f"t{k}", f"{k}-{depth}", parent, service, op, str(t + offset), duration, error]
            rows.append("\t".join(row))
    return ("\n".join(rows) + "\n").encode()


def test_callers_timing_out_on_a_slow_callee_blame_the_callee() -> None:
    data = slow_database_table()
    assert looks_like_traces("spans.tsv", data.decode())
    report = analyze_traces("spans.tsv", data)
    assert report.format == "CSV span table" and report.span_count == 80
    assert [s.service for s in report.suspects] == [
        "payments-db", "payments", "checkout", "frontend"
    ]  # fmt: skip
    db = report.suspects[0]
    assert "callers frontend, checkout, payments fail when it is slow" in db.reasons
    assert not any("of its spans error" in reason for reason in db.reasons)
    assert report.slowest[0].bottleneck == "payments-db:UPDATE balance"
    assert report.slowest[0].duration_ms == 520.0
    # payments-db ran on after payments gave up: only its first 0.5 s held the request up
    assert report.slowest[0].bottleneck_ms == pytest.approx(501.0)
    assert summarize_traces(report) == (
        "spans.tsv: 20 traces, 80 spans, 14:00 UTC; errors in payments (20%, from payments-db), "
        "checkout (20%, from payments-db), frontend (20%, from payments-db); slowest path "
        "frontend→checkout→payments→payments-db 520 ms"
    )
    assert report.notes == []


def test_zipkin_list_of_traces_without_endpoints() -> None:
    def span(trace: str, sid: str, parent: str | None, duration: int) -> dict[str, object]:
        item = {"traceId": trace, "id": sid, "name": "get", "timestamp": BASE_US}
        return item | {"duration": duration} | ({"parentId": parent} if parent else {})

    traces = [[span("a1", "1", None, 900), span("a1", "2", "1", 800)], [span("b2", "1", None, 50)]]
    text = json.dumps(traces)
    assert looks_like_traces("zipkin.json", text)
    report = analyze_traces("zipkin.json", text.encode())
    assert report.format == "Zipkin JSON" and report.trace_count == 2
    assert [s.service for s in report.services] == ["unknown"]
    assert report.slowest[0].duration_ms == 0.9 and report.edges == []
