"""One case in the shapes real exports take, end to end: a log CSV whose cells hold container
runtime records, a span table with pods and nanosecond times, a day of per-pod metrics, and a
question with the time. The faulty service leads; a change hours before the time is ignored."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from engine.evidence.analyze import analyze
from engine.investigate.reasoner import investigate_offline

T0 = datetime(2024, 3, 11, 8, 30, tzinfo=UTC)
ONSET = datetime(2024, 3, 11, 8, 43, tzinfo=UTC)
PODS = {
    "frontend": "frontend-7c9d8f6b5-q2x7z",
    "orders": "orders-5d8f7c9b4-abcde",
    "payments": "payments-6c7d8e9f5-fghij",
}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def log_csv(rnd: random.Random) -> bytes:
    rows = ["Timestamp,PodName,Log"]
    for second in range(0, 30 * 60, 10):
        at = T0 + timedelta(seconds=second)
        for service, pod in PODS.items():
            failing = at >= ONSET and rnd.random() < 0.8
            clock = f"{at:%H:%M:%S}"
            if service == "payments" and failing:
                line = f"{clock}.123 ERROR c.x.PaymentImpl#88 - charge failed: pool exhausted\n"
            elif service == "orders" and failing:
                line = f"{clock}.456 ERROR c.x.OrderImpl#532 - call to payments failed: 500\n"
            else:
                line = f"{clock}.789 INFO  c.x.Handler#12 - request ok in {rnd.randint(5, 30)} ms\n"
            record = json.dumps({"log": line, "stream": "stdout", "time": iso(at)})
            rows.append(f'{iso(at)},{pod},"' + record.replace('"', '""') + '"')
    return ("\n".join(rows) + "\n").encode()


def span_csv() -> bytes:
    rows = [
        "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration"
    ]
    for i in range(120):
        start = int((ONSET + timedelta(seconds=i)).timestamp() * 1e9)
        chain = [("frontend", "/api/v1/checkout", 240_000), ("orders", "/api/v1/orders", 230_000)]
        chain.append(("payments", "/api/v1/paymentservice/charge", 220_000))
        for depth, (service, operation, micros) in enumerate(chain):
            parent = f"{i:015x}{depth - 1}" if depth else ""
            begin = start + depth * 1000
            rows.append(
                f"{i:032x},{i:015x}{depth},{parent},{PODS[service]},{operation},"
                f"{begin},{begin + micros * 1000},{micros}"
            )
    return ("\n".join(rows) + "\n").encode()


def metrics_csv(rnd: random.Random) -> bytes:
    rows = ["timestamp,pod,metric,value"]
    for minute in range(0, 24 * 60, 5):
        at = datetime(2024, 3, 11, tzinfo=UTC) + timedelta(minutes=minute)
        for service, pod in PODS.items():
            cpu = 90.0 if service == "orders" and 180 <= minute < 200 else 20 + rnd.random() * 3
            latency = 30 + rnd.random() * 5
            if service == "payments" and at >= ONSET:
                latency = 400 + rnd.random() * 20
            rows.append(f"{iso(at)},{pod},cpu_usage_percent,{cpu:.2f}")
            rows.append(f"{iso(at)},{pod},request_latency_ms,{latency:.2f}")
    return ("\n".join(rows) + "\n").encode()


def test_the_failing_service_leads_from_logs_spans_and_a_day_of_metrics() -> None:
    rnd = random.Random(1)
    reports = [
        analyze("logs.csv", log_csv(rnd)),
        analyze("spans.csv", span_csv()),
        analyze("metrics.csv", metrics_csv(rnd)),
    ]
    assert [r.kind for r in reports] == ["log", "traces", "metrics"]
    question = "users report failing and slow requests since about 08:43 UTC on 2024-03-11"
    result = investigate_offline(question, [], reports)
    names = [s.component for s in result.suspects]
    assert names[0] == "payments" and "orders" in names and "unknown" not in names
    reasons = " ".join(result.suspects[0].reasons)
    assert "logs.csv" in reasons and "payments-6c7d8e9f5-fghij" in reasons  # the pod stays
    everything = " ".join(r for s in result.suspects for r in s.reasons)
    assert "cpu_usage_percent" not in everything  # the 03:00 CPU blip is hours away


def test_a_log_cut_to_the_incident_minutes_still_names_who_fails() -> None:
    """Exports of "the fault minute and the next two" have no minutes before the incident to
    compare with: every error in them is the incident's."""
    rnd = random.Random(2)
    lines = log_csv(rnd).decode().splitlines()
    cut = [lines[0]] + [line for line in lines[1:] if "08:43" <= line[11:16] < "08:46"]
    report = analyze("logs.csv", ("\n".join(cut) + "\n").encode())
    question = "checkout fails since 08:43 UTC on 2024-03-11"
    result = investigate_offline(question, [], [report])
    assert [s.component for s in result.suspects][:1] == ["payments"]
    reasons = " ".join(result.suspects[0].reasons)
    assert "the log starts inside it" in reasons and "named in" in reasons
    # Without a stated time there is no window to put them in: only steady noise.
    assert investigate_offline("checkout fails", [], [report]).suspects == []
