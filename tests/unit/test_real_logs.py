"""Log exports as real tools write them: records inside records, names in any spelling.

Synthetic inputs have the shapes of Docker's json-file driver, CRI, fluent-bit, Elastic and
Loki exports; the Java lines with a trace context come from DeepTraLog's TrainTicket logs
(read from ../shared/data at run time, never copied here).
"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.evidence.analyze import detect_kind
from engine.evidence.components import canonical
from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.records import Record, iter_csv_records, iter_records

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real-incidents"
DEEPTRALOG = DATA / "deeptralog" / "TraceLogData" / "F05.zip"


def _docker(line: str, time: str) -> str:
    record = json.dumps({"log": line + "\n", "stream": "stdout", "time": time})
    return '"' + record.replace('"', '""') + '"'


DOCKER_IN_CSV = "\n".join(
    [
        "Timestamp,PodName,Log",
        "2022-03-01T16:42:22.000Z,orders-6b7c8d9f5-x2k4p,"
        + _docker(
            "16:42:22.382 INFO  c.x.OrderServiceImpl#532 - order 17 created",
            "2022-03-01T16:42:22.382123456Z",
        ),
        "2022-03-01T16:42:23.000Z,orders-6b7c8d9f5-x2k4p,"
        + _docker(
            "16:42:23.100 ERROR c.x.OrderServiceImpl#540 - order 18 failed: timeout",
            "2022-03-01T16:42:23.100200Z",
        ),
        "2022-03-01T16:42:24.000Z,orders-6b7c8d9f5-q7w8e,"
        + _docker(
            "16:42:24.100 ERROR c.x.OrderServiceImpl#540 - order 19 failed: timeout",
            "2022-03-01T16:42:24.1Z",
        ),
        "2022-03-01T16:42:25.000Z,travel-77f8d9c6b5-xyz12,"
        + _docker("16:42:25.000 WARN  c.x.TravelServiceImpl#12 - slow", "2022-03-01T16:42:25Z"),
    ]
)


def _at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def test_a_runtime_record_in_a_csv_cell_is_opened() -> None:
    records = list(iter_csv_records(DOCKER_IN_CSV.splitlines(), ","))
    first = records[0]
    assert first.message == "order 17 created"  # the logger and its line number are header
    assert first.level == "INFO"
    assert first.ts == _at(2022, 3, 1, 16, 42, 22, 382123)  # the record's own time, not the row's
    assert first.host == "orders-6b7c8d9f5-x2k4p"
    assert [r.level for r in records] == ["INFO", "ERROR", "ERROR", "WARN"]
    assert records[2].ts == _at(2022, 3, 1, 16, 42, 24, 100000)


def test_errors_are_counted_per_workload_of_the_pod_column() -> None:
    report = analyze_log("pods.csv", DOCKER_IN_CSV.encode())
    assert report.level_counts == {"ERROR": 2, "WARN": 1, "INFO": 1}
    by_name = {c.name: c for c in report.components}
    assert set(by_name) == {"orders", "travel"}  # replicas are one component
    assert by_name["orders"].errors == 2 and by_name["orders"].records == 3
    assert set(by_name["orders"].hosts) == {"orders-6b7c8d9f5-x2k4p", "orders-6b7c8d9f5-q7w8e"}
    [group] = report.error_groups
    assert group.example == "order 18 failed: timeout"


def test_fluent_bit_records_are_opened_and_named_from_kubernetes_metadata() -> None:
    kubernetes = {
        "pod_name": "cart-7d9f8c6b5-x2k4p",
        "namespace_name": "shop",
        "container_name": "server",
        "host": "node-3",
        "labels": {"app": "cart"},
    }
    lines = [
        json.dumps(
            {
                "date": 1646150542.382123,
                "log": "2022-03-01T16:02:22.382Z stdout F 2022-03-01 16:02:22.380 ERROR [main] "
                "c.x.Cart - cart failed: redis timeout",
                "kubernetes": kubernetes,
            }
        ),
        json.dumps(
            {
                "date": 1646150544.0,
                "log": json.dumps({"level": "warn", "msg": "slow payment", "ts": 1646150544123})
                + "\n",
                "stream": "stderr",
                "kubernetes": {"pod_name": "payment-5c6d7f8b9-abcde"},
            }
        ),
    ]
    cart, payment = iter_records(lines)
    assert (cart.level, cart.message) == ("ERROR", "cart failed: redis timeout")
    assert cart.ts == _at(2022, 3, 1, 16, 2, 22, 380000)
    assert (cart.component, cart.host) == ("cart", "cart-7d9f8c6b5-x2k4p")
    assert (payment.level, payment.message) == ("WARN", "slow payment")
    assert payment.ts == _at(2022, 3, 1, 16, 2, 24, 123000)
    assert (payment.component, payment.host) == (None, "payment-5c6d7f8b9-abcde")


def _hit(ts: str, level: str, message: str, pod: str) -> dict[str, object]:
    source = {
        "@timestamp": ts,
        "message": message,
        "log": {"level": level},
        "kubernetes": {"pod": {"name": pod}, "container": {"name": "server"}},
    }
    return {"_index": "logs-2022.03.01", "_id": "x", "_score": 1.0, "_source": source}


HITS = [
    _hit("2022-03-01T16:02:22.382123Z", "error", "payment declined", "payment-5c6d7f8b9-abcde"),
    _hit("2022-03-01T16:02:23Z", "info", "ok", "payment-5c6d7f8b9-fghij"),
    _hit("2022-03-01T16:02:24.5+01:00", "error", "payment declined", "cart-7d9f8c6b5-x2k4p"),
]


@pytest.mark.parametrize(
    "document",
    [
        {"took": 3, "timed_out": False, "hits": {"total": {"value": 3}, "hits": HITS}},
        HITS,
    ],
    ids=["search-answer", "hit-list"],
)
def test_an_elastic_answer_is_read_from_its_sources(document: object) -> None:
    for text in (json.dumps(document), json.dumps(document, indent=2)):
        assert detect_kind("hits.json", text.encode()) == "log"  # not a config's settings
        report = analyze_log("hits.json", text.encode())
        assert report.record_count == 3
        assert report.level_counts == {"ERROR": 2, "INFO": 1}
        assert report.first_ts == _at(2022, 3, 1, 15, 2, 24, 500000)
        assert report.last_ts == _at(2022, 3, 1, 16, 2, 23)
        errors = {c.name: c.errors for c in report.components}
        assert errors == {"payment": 1, "cart": 1}
        assert report.error_groups[0].example == "payment declined"


def test_cri_lines_keep_the_runtime_time_and_read_the_app_line() -> None:
    lines = [
        "2022-01-01T00:00:00.000000001Z stdout F "
        "2022-01-01 00:00:00.000 ERROR [main] c.x.Foo - boom",
        "2022-01-01T00:00:01.5Z stderr F plain message here",
        "2022-01-01T01:00:02+01:00 stdout P WARN partial line",
    ]
    boom, plain, partial = iter_records(lines)
    assert (boom.level, boom.message, boom.format) == ("ERROR", "boom", "cri")
    assert boom.ts == _at(2022, 1, 1)
    assert (plain.message, plain.ts) == ("plain message here", _at(2022, 1, 1, 0, 0, 1, 500000))
    assert (partial.level, partial.ts) == ("WARN", _at(2022, 1, 1, 0, 0, 2))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1646150542, _at(2022, 3, 1, 16, 2, 22)),
        (1646150542.25, _at(2022, 3, 1, 16, 2, 22, 250000)),
        (1646150542382, _at(2022, 3, 1, 16, 2, 22, 382000)),
        (1646150542382123, _at(2022, 3, 1, 16, 2, 22, 382123)),
        (1646150542382123456, _at(2022, 3, 1, 16, 2, 22, 382123)),
        ("1646150542382123456", _at(2022, 3, 1, 16, 2, 22, 382123)),
        ("2022-03-01T16:02:22Z", _at(2022, 3, 1, 16, 2, 22)),
        ("2022-03-01T16:02:22.3Z", _at(2022, 3, 1, 16, 2, 22, 300000)),
        ("2022-03-01T16:02:22.382123456Z", _at(2022, 3, 1, 16, 2, 22, 382123)),
        ("2022-03-01T17:02:22.382+01:00", _at(2022, 3, 1, 16, 2, 22, 382000)),
    ],
)
def test_times_in_any_unit_and_precision(value: object, expected: datetime) -> None:
    [record] = iter_records([json.dumps({"ts": value, "level": "info", "msg": "x"})])
    assert record.ts is not None
    assert abs(record.ts - expected) <= timedelta(microseconds=1)  # ns go through a float


@pytest.mark.parametrize(
    ("key", "role"),
    [
        ("pod", "host"),
        ("pod name", "host"),
        ("PodName", "host"),
        ("POD_NAME", "host"),
        ("k8s.pod.name", "host"),
        ("kubernetes.pod_name", "host"),
        ("container", "host"),
        ("container_name", "host"),
        ("host", "host"),
        ("hostname", "host"),
        ("node", "host"),
        ("instance", "host"),
        ("service", "component"),
        ("service.name", "component"),
        ("serviceName", "component"),
        ("Service Name", "component"),
        ("app", "component"),
        ("kubernetes.labels.app", "component"),
        ("job", "component"),
    ],
)
def test_component_fields_in_any_spelling(key: str, role: str) -> None:
    value = "checkout-7d9f8c6b5-x2k4p"
    line = json.dumps({"time": "2026-11-21T14:00:00Z", "level": "error", "msg": "x", key: value})
    csv = ["Time,Level,Message," + key, f"2026-11-21T14:00:00Z,ERROR,x,{value}"]
    [from_json] = iter_records([line])
    [from_csv] = iter_csv_records(csv, ",")
    for record in (from_json, from_csv):
        assert getattr(record, role) == value
    # Errors count per workload: a pod or host name is reduced to it, a service name is one.
    name = canonical(value) if role == "host" else value
    report = analyze_log("export.csv", "\n".join(csv).encode())
    assert [(c.name, c.errors) for c in report.components] == [(name, 1)]


def test_names_in_nested_objects_say_what_they_are() -> None:
    line = json.dumps(
        {
            "time": "2026-11-21T14:00:00Z",
            "type": "Warning",
            "message": "Back-off restarting failed container",
            "source": {"component": "kubelet", "host": "node-1"},  # who reported it
            "involvedObject": {"kind": "Pod", "name": "cart-7c9d-x2"},
            "metadata": {"name": "cart-7c9d-x2.17a3b", "namespace": "shop"},
        }
    )
    [record] = iter_records([line])
    assert (record.level, record.component, record.host) == ("WARN", None, "cart-7c9d-x2")


def test_a_nested_error_object_adds_its_message_and_stack() -> None:
    """pino and bunyan write `err: {message, stack}`: the reason must stay with the message."""
    line = json.dumps(
        {
            "level": 50,
            "time": 1794481435038,
            "service": "cart",
            "err": {
                "message": "connect ECONNREFUSED 10.96.112.40:6379",
                "stack": "Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect",
            },
            "msg": "failed to load cart",
        }
    )
    [record] = iter_records([line])
    assert record.message == "failed to load cart: connect ECONNREFUSED 10.96.112.40:6379"
    assert any("TCPConnectWrap" in frame for frame in record.continuation)


def test_a_loki_export_with_labels_reads_the_line_inside() -> None:
    line = json.dumps(
        {
            "line": 'level=error msg="cart failed" ts=2022-03-01T16:02:22.382Z',
            "timestamp": "1646150542382123456",
            "labels": {"pod": "cart-7d9f8c6b5-x2k4p", "job": "shop/cart"},
        }
    )
    [record] = iter_records([line])
    assert (record.level, record.message) == ("ERROR", "cart failed")
    assert record.ts == _at(2022, 3, 1, 16, 2, 22, 382000)
    assert record.host == "cart-7d9f8c6b5-x2k4p"


def test_a_time_of_day_line_has_its_level_and_logger_stripped() -> None:
    [record] = iter_records(["16:42:22.382 [main] ERROR c.x.Order:42 - order failed"])
    assert (record.ts, record.level, record.message) == (None, "ERROR", "order failed")


# --- Java lines with a trace context before the thread ----------------------------------------

SKYWALKING_LINE = (
    "2021-08-10 13:48:00.036 [SW_CTX:[ts-travel-service,874a8132c42a4541aebce8c6c926aa22@"
    "10.244.2.115,28ed71db936d43bcaa80edc27897aa98.40.16285744770300027,"
    "28ed71db936d43bcaa80edc27897aa98.40.16285744770300026,0]] [http-nio-12346-exec-4] "
    "ERROR travel.controller.TravelController -request trips left time out: Read timed out"
)


def test_a_trace_context_block_names_the_service() -> None:
    sleuth = (
        "2021-08-10 13:48:01.000  INFO [checkout,5e3b2c1d9f8a7b6c,5e3b2c1d9f8a7b6c,true] 1 --- "
        "[main] c.e.Checkout : order placed"
    )
    thread_only = "2021-08-10 13:48:02.000 [http-nio-8080-exec-1] WARN c.e.Foo - slow, retrying"
    context, spring, plain = iter_records([SKYWALKING_LINE, sleuth, thread_only])
    assert (context.level, context.component) == ("ERROR", "ts-travel-service")
    assert context.message == "request trips left time out: Read timed out"
    assert context.ts == _at(2021, 8, 10, 13, 48, 0, 36000)
    assert (spring.level, spring.component, spring.message) == ("INFO", "checkout", "order placed")
    assert (plain.level, plain.component, plain.message) == ("WARN", None, "slow, retrying")


def test_pairs_inside_a_java_message_do_not_make_it_logfmt() -> None:
    line = SKYWALKING_LINE.replace(
        "ERROR travel.controller.TravelController -request trips left time out: Read timed out",
        "INFO  travel.service.TravelServiceImpl -Routes Response is : Response(status=1, "
        "msg=Success, data={id=f3d4})",
    )
    [record] = iter_records([line])
    assert (record.format, record.level) == ("plain", "INFO")
    assert record.message.startswith("Routes Response is")


def _deeptralog_lines(limit: int) -> list[str]:
    if not DEEPTRALOG.exists():
        pytest.skip(f"DeepTraLog data not present at {DEEPTRALOG}")
    with zipfile.ZipFile(DEEPTRALOG) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".log"))
        with archive.open(name) as member:
            return [member.readline().decode().rstrip("\n") for _ in range(limit)]


def test_real_deeptralog_lines_have_time_level_logger_and_service() -> None:
    lines = [line for line in _deeptralog_lines(200) if line]
    records: list[Record] = list(iter_records(lines))
    assert len(records) == len(lines)  # one record per line, no stack traces in this excerpt
    assert all(r.ts is not None and r.ts.year == 2021 for r in records)
    assert all(r.level in ("ERROR", "WARN", "INFO") for r in records)
    assert any(r.level == "ERROR" for r in records)
    assert all(r.component and r.component.startswith("ts-") for r in records)
    # The logger ("travel.controller.TravelController -") is header, not message.
    logger = re.compile(r"[\w$]+(?:\.[\w$]+)+\s*-")
    assert not any(logger.match(r.message) or r.message.startswith("-") for r in records)


def test_a_json_document_without_log_records_is_read_as_before() -> None:
    settings = '{\n  "name": "checkout",\n  "replicas": [{"zone": "a"}, {"zone": "b"}]\n}\n'
    report = analyze_log("notes.txt", settings.encode())
    assert (report.kind, report.formats) == ("text", ["text"])
    bracketed = "[2026-11-21 14:00:00] ERROR payment failed\n[2026-11-21 14:00:01] INFO ok\n"
    report = analyze_log("app.log", bracketed.encode())
    assert report.record_count == 2 and report.level_counts == {"ERROR": 1, "INFO": 1}
