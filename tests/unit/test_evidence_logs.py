"""analyze_log + summarize on small, real-looking files: what the user reads in Slack."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import EvidenceRejected
from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.summary import describe_groups, summarize


def checkout_log() -> bytes:
    """A service that is fine, then loses its database pool at 14:02 and peaks at 14:03."""
    lines = [
        f"2026-11-21 14:{minute:02d}:{second:02d},000 INFO checkout.api: GET /api/cart 200"
        for minute in (0, 1)
        for second in range(0, 60, 5)
    ]
    pool = "ERROR checkout.payments: upstream payments-db: connection pool exhausted"
    lines += [f"2026-11-21 14:02:{s:02d},100 {pool}" for s in (10, 20, 30)]
    lines += [f"2026-11-21 14:03:{s:02d},100 {pool}" for s in range(0, 60, 2)]
    warn = "WARNING checkout.api: retrying order"
    lines += [f"2026-11-21 14:04:{s:02d},000 {warn} 77{s}" for s in (1, 2)]
    lines += ["2026-11-21 14:09:30,000 INFO checkout.api: healthy"]
    return ("\n".join(lines) + "\n").encode()


def test_summary_line_for_an_incident() -> None:
    report = analyze_log("checkout.log", checkout_log())
    assert summarize(report) == (
        "checkout.log: 60 lines, 14:00–14:09 UTC, 33 ERROR (1 distinct: "
        "`upstream payments-db: connection pool exhausted`), 2 WARN; "
        "errors start 14:02, peak 14:03 (30/min)"
    )
    assert report.level_counts == {"ERROR": 33, "WARN": 2, "INFO": 25}
    assert report.first_error_ts == datetime(2026, 11, 21, 14, 2, 10, 100000, tzinfo=UTC)
    assert report.busiest_error_minute is not None
    assert report.busiest_error_minute.minute == datetime(2026, 11, 21, 14, 3, tzinfo=UTC)
    assert [m.count for m in report.error_timeline] == [3, 30]
    assert report.kind == "log" and report.formats == ["plain"]
    assert len(report.sha256) == 64 and report.size_bytes == len(checkout_log())


def test_thousands_separator_date_and_no_errors() -> None:
    lines = [f"2026-11-21 23:{i // 60 % 60:02d}:{i % 60:02d} INFO tick {i}" for i in range(1200)]
    lines.append("2026-11-22 00:10:00 WARN late tick")
    report = analyze_log("ticks.log", "\n".join(lines).encode())
    assert summarize(report) == (
        "ticks.log: 1,201 lines, 2026-11-21 23:00–2026-11-22 00:10 UTC, no errors, 1 WARN"
    )
    assert summarize(report, today=date(2026, 11, 21)).startswith("ticks.log: 1,201 lines, 2026")


def test_date_shown_when_log_is_not_from_today() -> None:
    report = analyze_log("a.log", b"2026-11-21 14:00:00 INFO a\n2026-11-21 14:09:00 INFO b\n")
    assert "2026-11-21 14:00–14:09 UTC" in summarize(report, today=date(2026, 11, 25))
    assert "14:00–14:09 UTC" in summarize(report, today=date(2026, 11, 21))


def test_java_service_errors_and_fatal() -> None:
    text = """\
2026-11-21 14:02:05.456 ERROR [exec-1] c.e.checkout.Payments - Payment call failed for order 12345
java.net.SocketTimeoutException: Read timed out
\tat com.example.checkout.PaymentClient.charge(PaymentClient.java:88)
Caused by: java.io.IOException: connection reset by peer
\t... 42 more
2026-11-21 14:02:06.456 ERROR [exec-2] c.e.checkout.Payments - Payment call failed for order 12346
2026-11-21 14:03:00.000 FATAL [main] c.e.checkout.App - Out of memory, shutting down
"""
    report = analyze_log("payments.log", text.encode())
    assert report.record_count == 3  # the stack trace is part of the first record
    assert report.level_counts == {"FATAL": 1, "ERROR": 2}
    line = summarize(report)
    assert line.startswith("payments.log: 7 lines, 14:02–14:03 UTC, 1 FATAL, 2 ERROR (2 distinct: ")
    assert "`Payment call failed for order <*>`" in line
    group = report.error_groups[0]
    assert (group.count, group.first_line, group.example) == (
        2,
        1,
        "Payment call failed for order 12345",
    )
    assert describe_groups(report)[0] == (
        "2× ERROR `Payment call failed for order <*>` (first 2026-11-21 14:02:05 UTC, line 1, "
        "last 2026-11-21 14:02:06 UTC) e.g. `Payment call failed for order 12345`"
    )


def test_nginx_access_log_with_502s() -> None:
    rows = [
        ("14:02:03", "GET /api/cart?id=1", 200),
        ("14:02:04", "POST /api/checkout", 502),
        ("14:02:05", "POST /api/checkout", 502),
        ("14:02:59", "POST /api/checkout", 504),
        ("14:03:05", "GET /favicon.ico", 404),
    ]
    text = "".join(
        f'10.0.0.{i} - - [21/Nov/2026:{t} +0000] "{req} HTTP/1.1" {st} 157 "-" "Mozilla/5.0"\n'
        for i, (t, req, st) in enumerate(rows)
    )
    report = analyze_log("access.log", text.encode())
    assert report.formats == ["access-log"]
    assert summarize(report) == (
        "access.log: 5 lines, 14:02–14:03 UTC, 3 ERROR (2 distinct: `HTTP 502 POST /api/checkout`, "
        "`HTTP 504 POST /api/checkout`), 1 WARN; errors start 14:02"
    )


def test_plain_text_file() -> None:
    text = "\n".join(["Incident notes", "payments were slow", "we restarted the pool"] * 14)
    report = analyze_log("notes.txt", text.encode())
    assert report.kind == "text"
    assert summarize(report) == "notes.txt: 42 lines of text (no log timestamps or levels found)"


def test_no_timestamps_and_unparsed_lines_are_noted() -> None:
    text = (
        "starting up...\nconfig loaded\n"
        "ERROR db: connection refused\nINFO retrying\nERROR db: connection refused\n"
    )
    report = analyze_log("app.out", text.encode())
    assert report.kind == "log"
    assert report.notes == [
        "no timestamps found, so there is no timeline",
        "2 lines could not be parsed as log records (no timestamp or level)",
    ]
    assert summarize(report) == (
        "app.out: 5 lines, no timestamps, 2 ERROR (1 distinct: `db: connection refused`)"
    )


def test_go_panic_is_fatal() -> None:
    text = (
        "2026/11/21 14:02:04 handling POST /checkout\n"
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "\ngoroutine 1 [running]:\nmain.handler(0x0)\n\t/app/main.go:42 +0x1e\n"
    )
    report = analyze_log("api.log", text.encode())
    assert report.level_counts == {"FATAL": 1}
    assert report.error_groups[0].message == (
        "panic: runtime error: invalid memory address or nil pointer dereference"
    )


def test_k8s_and_json_logs() -> None:
    text = (
        '{"log":"2026-11-21T14:02:03Z ERROR payments: card service unavailable\\n",'
        '"stream":"stderr","time":"2026-11-21T14:02:03.5Z"}\n'
        '{"log":"2026-11-21T14:02:04Z INFO payments: ok\\n","stream":"stdout",'
        '"time":"2026-11-21T14:02:04Z"}\n'
    )
    report = analyze_log("pod.log", text.encode())
    assert report.formats == ["docker-json"]
    assert report.level_counts == {"ERROR": 1, "INFO": 1}


def test_syslog_notes_the_assumed_year() -> None:
    text = "Nov 21 14:02:03 web1 sshd[123]: error: PAM: authentication failure\n"
    report = analyze_log("auth.log", text.encode(), reference_year=2026)
    assert report.first_ts == datetime(2026, 11, 21, 14, 2, 3, tzinfo=UTC)
    assert "timestamps without a year (syslog style) were read as 2026" in report.notes


def test_invalid_utf8_and_crlf_still_analyzed() -> None:
    data = b"2026-11-21 14:02:03 ERROR caf\xe9 closed\r\n2026-11-21 14:02:04 INFO ok\r\n"
    report = analyze_log("win.log", data)
    assert report.line_count == 2
    assert report.notes[0] == "1 byte was not valid UTF-8 and was shown as �"
    assert report.error_groups[0].message == "caf� closed"


def test_more_than_three_distinct_errors() -> None:
    text = "".join(f"2026-11-21 14:02:0{i} ERROR failure kind {chr(97 + i)}\n" for i in range(5))
    report = analyze_log("many.log", text.encode())
    assert "5 ERROR (5 distinct, top: `failure kind a`, `failure kind b`, `failure kind c`)" in (
        summarize(report)
    )
    assert describe_groups(report, limit=2)[-1] == "…and 3 more distinct errors"


def test_long_messages_are_truncated_in_the_summary() -> None:
    text = f"2026-11-21 14:02:03 ERROR {'x' * 200} and more\n"
    line = summarize(analyze_log("long.log", text.encode()))
    shown = line.split("`")[1]
    assert len(shown) == 80 and shown.endswith("…")


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\x00\x01\x02\x03" * 100])
def test_rejects_unusable_uploads(data: bytes) -> None:
    with pytest.raises(EvidenceRejected):
        analyze_log("bad.log", data)


def test_timestamps_without_levels_are_not_called_error_free() -> None:
    report = analyze_log("go.log", b"2026/11/21 14:02:03 listening\n2026/11/21 14:05:00 done\n")
    assert summarize(report) == "go.log: 2 lines, 14:02–14:05 UTC, no log levels found"


_FRAGMENTS = [
    "2026-11-21 14:02:03 ",
    "ERROR ",
    "[warn] ",
    "{",
    "}",
    '"log":"',
    '"level":"error"',
    "\n",
    "\t",
    "  at x.y(Z.java:1)\n",
    "Traceback (most recent call last):\n",
    "panic: x\n",
    "Nov 21 14:02:03 h p[1]: ",
    "time=1 level=error msg=x\n",
    "<13>",
    "Caused by: x\n",
    '10.0.0.1 - - [21/Nov/2026:14:02:03 +0000] "GET / HTTP/1.1" 500 1\n',
    "\x00",
    "é",
    "\r",
]


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=4))).map(
            lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
        ),
    )
)
def test_any_upload_gives_a_report_or_a_clear_rejection(data: bytes) -> None:
    try:
        report = analyze_log("fuzz.log", data)
    except EvidenceRejected:
        return
    assert summarize(report).startswith("fuzz.log: ")
    assert sum(report.level_counts.values()) <= report.record_count <= report.line_count
    describe_groups(report)
