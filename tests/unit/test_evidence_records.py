"""Lines -> records: one record per logged event, with its stack trace attached."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from engine.evidence.logs.records import Record, iter_records

PYTHON = """\
2026-11-21 14:02:01,003 INFO checkout.api: GET /api/cart 200
2026-11-21 14:02:03,123 ERROR checkout.payments: charge failed for order 9912
Traceback (most recent call last):
  File "/app/checkout/payments.py", line 88, in charge
    conn = pool.get(timeout=3)
  File "/app/db/pool.py", line 41, in get
    raise PoolExhausted("connection pool exhausted")
db.pool.PoolExhausted: connection pool exhausted
2026-11-21 14:02:04,500 WARNING checkout.api: retrying order 9912 after error
"""

JAVA = """\
2026-11-21 14:02:05.456 ERROR [http-nio-8080-exec-1] c.e.checkout.Payments - Payment call failed
java.net.SocketTimeoutException: Read timed out
\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)
\tat com.example.checkout.PaymentClient.charge(PaymentClient.java:88)
Caused by: java.io.IOException: connection reset by peer
\tat com.example.http.Conn.read(Conn.java:12)
\t... 42 more
2026-11-21 14:02:06.001 INFO  [main] c.e.checkout.App - recovered
"""

GO_PANIC = """\
2026/11/21 14:02:04 handling POST /checkout
panic: runtime error: invalid memory address or nil pointer dereference
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5c3e]

goroutine 1 [running]:
main.handler(0x0)
\t/app/main.go:42 +0x1e
net/http.HandlerFunc.ServeHTTP(0xc000012345, {0x7f, 0xc0000})
\t/usr/local/go/src/net/http/server.go:2136 +0x29
exit status 2
"""


def records(text: str, year: int | None = 2026) -> list[Record]:
    return list(iter_records(text.splitlines(), reference_year=year))


def test_python_traceback_is_one_record() -> None:
    recs = records(PYTHON)
    assert [(r.line, r.level) for r in recs] == [(1, "INFO"), (2, "ERROR"), (9, "WARN")]
    error = recs[1]
    assert error.message == "charge failed for order 9912"  # logger name stripped
    assert error.line_count == 7
    assert error.ts == datetime(2026, 11, 21, 14, 2, 3, 123000, tzinfo=UTC)


def test_java_stack_with_caused_by_is_one_record() -> None:
    recs = records(JAVA)
    assert len(recs) == 2
    assert recs[0].level == "ERROR"
    assert recs[0].message == "Payment call failed"
    assert recs[0].continuation[-1] == "\t... 42 more"


def test_go_panic_is_its_own_fatal_record() -> None:
    recs = records(GO_PANIC)
    assert len(recs) == 2
    panic = recs[1]
    assert panic.level == "FATAL"
    assert panic.message.startswith("panic: runtime error")
    assert panic.ts == recs[0].ts  # the last time seen before the crash
    assert panic.line_count == 9


def test_bare_traceback_takes_its_exception_line_as_message() -> None:
    text = "2026-11-21 14:02:03 INFO worker started\n" + "\n".join(PYTHON.splitlines()[2:8])
    recs = records(text)
    assert len(recs) == 2
    crash = recs[1]
    assert crash.level == "ERROR"  # no level token, but a traceback
    assert crash.error_message() == "db.pool.PoolExhausted: connection pool exhausted"


def test_docker_json_lines_rejoin_a_traceback() -> None:
    text = "\n".join(
        [
            '{"log":"2026-11-21 14:02:03,123 ERROR app.main: boom\\n","stream":"stderr",'
            '"time":"2026-11-21T14:02:03.123456789Z"}',
            '{"log":"Traceback (most recent call last):\\n","stream":"stderr",'
            '"time":"2026-11-21T14:02:03.124Z"}',
            '{"log":"  File \\"app.py\\", line 3, in <module>\\n","stream":"stderr",'
            '"time":"2026-11-21T14:02:03.124Z"}',
            '{"log":"ValueError: bad input\\n","stream":"stderr",'
            '"time":"2026-11-21T14:02:03.124Z"}',
            '{"log":"listening on :8080\\n","stream":"stdout","time":"2026-11-21T14:02:09Z"}',
        ]
    )
    recs = records(text)
    assert [(r.format, r.level, r.message) for r in recs] == [
        ("docker-json", "ERROR", "boom"),
        ("docker-json", None, "listening on :8080"),
    ]
    assert recs[0].continuation[-1] == "ValueError: bad input"
    assert recs[1].ts == datetime(2026, 11, 21, 14, 2, 9, tzinfo=UTC)  # from the wrapper


def test_json_lines() -> None:
    text = (
        '{"ts":"2026-11-21T14:02:04.000Z","level":"error","msg":"request failed",'
        '"error":"dial tcp 10.0.3.7:5432: connect: connection refused"}\n'
        '{"time":1795269724,"severity":"WARNING","message":"slow","stack_trace":"a\\nb"}\n'
    )
    first, second = records(text)
    assert first.format == "json"
    assert first.message == "request failed: dial tcp 10.0.3.7:5432: connect: connection refused"
    assert second.level == "WARN" and second.continuation == ["a", "b"]
    assert second.ts == datetime(2026, 11, 21, 14, 2, 4, tzinfo=UTC)


def test_logfmt() -> None:
    text = (
        'time=2026-11-21T14:02:04Z level=error msg="query failed" err="pq: deadlock detected"\n'
        'time="2026-11-21T14:02:05Z" level=warning msg="retrying" attempt=2\n'
    )
    first, second = records(text)
    assert (first.format, first.level, first.message) == (
        "logfmt",
        "ERROR",
        "query failed: pq: deadlock detected",
    )
    assert second.level == "WARN"


def test_syslog_without_year_rolls_over_new_year() -> None:
    text = (
        "Dec 31 23:59:58 web1 sshd[123]: error: PAM: authentication failure for root\n"
        "Jan  1 00:00:01 web1 systemd[1]: payments.service: Failed with result 'exit-code'.\n"
    )
    first, second = records(text, year=2026)
    assert first.format == "syslog" and first.level == "ERROR"
    assert first.message == "sshd: error: PAM: authentication failure for root"
    assert second.ts == datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_access_log_levels_from_status() -> None:
    text = (
        '10.0.0.1 - - [21/Nov/2026:14:02:03 +0000] "GET /api/cart?id=1 HTTP/1.1" 200 51 "-" "-"\n'
        '10.0.0.2 - - [21/Nov/2026:14:02:04 +0000] "POST /api/checkout HTTP/1.1" 502 157 "-" "-"\n'
        '10.0.0.4 - - [21/Nov/2026:14:02:05 +0000] "GET /favicon.ico HTTP/1.1" 404 0 "-" "-"\n'
    )
    recs = records(text)
    assert [r.level for r in recs] == ["INFO", "ERROR", "WARN"]
    assert recs[1].message == "HTTP 502 POST /api/checkout"
    assert recs[1].group_key == "HTTP 502 POST /api/checkout"


def test_plain_text_lines_stay_separate() -> None:
    recs = records("Meeting notes\nthe db was slow again\n  (indented detail)\nnext steps\n")
    assert [r.message for r in recs] == ["Meeting notes", "the db was slow again", "next steps"]
    assert all(r.ts is None and r.level is None for r in recs)


def test_streams_lazily() -> None:
    def endless() -> Iterator[str]:
        n = 0
        while True:
            n += 1
            yield f"2026-11-21 14:02:03 INFO line {n}"

    stream = iter_records(endless())
    assert next(stream).message == "line 1"
    assert next(stream).message == "line 2"


def test_more_header_styles() -> None:
    text = "\n".join(
        [
            "2026-11-21 14:02:03.123 ERROR 12345 --- [main] c.e.checkout.App : startup failed",
            "2026-11-21 14:02:03,123 - checkout - WARNING - disk at 91%",
            "E1121 14:02:03.123456    1 reflector.go:138] failed to list *v1.Pod",
            "2026-11-21T14:02:03.5Z stderr F 2026-11-21 14:02:03,100 ERROR app.main: boom",
            "2026-11-21T14:02:03.123456+00:00 web1 sshd[123]: error: maximum attempts",
            "<11>Nov 21 14:02:03 web1 app: disk failure",
            "[ERROR] 2026-11-21 14:02:03 level first",
            "2026/11/21 14:02:03 [error] 1234#0: *5 connect() failed (111: Connection refused)",
        ]
    )
    got = [(r.format, r.level, r.message) for r in records(text)]
    assert got == [
        ("plain", "ERROR", "startup failed"),
        ("plain", "WARN", "disk at 91%"),
        ("glog", "ERROR", "failed to list *v1.Pod"),
        ("cri", "ERROR", "boom"),
        ("syslog", "ERROR", "sshd: error: maximum attempts"),
        ("syslog", "ERROR", "app: disk failure"),  # level from the <PRI> prefix
        ("plain", "ERROR", "level first"),
        ("plain", "ERROR", "connect() failed (111: Connection refused)"),
    ]
    assert all(r.ts is not None and r.ts.minute == 2 for r in records(text))


def test_postgres_via_syslog_has_its_level_after_the_prefix() -> None:
    from engine.evidence.logs.records import iter_records

    line = (
        "Oct 19 06:00:42 payments-db-1 postgres[50443]: [57-1] user=payments_app,db=payments,"
        'client=10.244.1.31 FATAL:  password authentication failed for user "payments_app"'
    )
    [record] = iter_records([line], reference_year=2026)
    assert record.level == "FATAL" and record.host == "payments-db-1"
    assert record.message == 'postgres: password authentication failed for user "payments_app"'


def test_kubernetes_events_have_levels_and_objects() -> None:
    from engine.evidence.logs.records import iter_records

    table = [
        "LAST SEEN              TYPE      REASON      OBJECT           COUNT   MESSAGE",
        "2026-09-17T19:05:28Z   Warning   BackOff     pod/cart-7c9d-x2   4    Back-off restarting",
    ]
    exporter = (
        '{"reason":"Unhealthy","message":"Liveness probe failed","type":"Warning",'
        '"lastTimestamp":"2026-11-12T10:39:32Z",'
        '"involvedObject":{"kind":"Pod","name":"cart-7c9d-x2"}}'
    )
    records = list(iter_records([*table, exporter]))
    by_level = [(r.level, r.host, r.message) for r in records if r.level]
    assert by_level == [
        ("WARN", "cart-7c9d-x2", "BackOff: Back-off restarting"),
        ("WARN", "cart-7c9d-x2", "Liveness probe failed"),
    ]
    assert records[-1].ts is not None
