"""Which token is the level, and what it maps to."""

from __future__ import annotations

import pytest

from engine.evidence.logs.levels import (
    canonical_level,
    find_level,
    level_at_start,
    level_from_status,
    level_from_trace,
    level_from_value,
)


@pytest.mark.parametrize(
    ("head", "level"),
    [
        (" ERROR checkout.payments: boom", "ERROR"),
        (" WARNING app: disk at 91%", "WARN"),
        (" [main] ERROR c.e.PaymentClient - Payment call failed", "ERROR"),
        (" ERROR 12345 --- [main] c.e.App : failed", "ERROR"),
        (" - checkout - CRITICAL - out of memory", "FATAL"),
        (" [error] 1234#0: *5 connect() failed", "ERROR"),
        (" [warn] low disk", "WARN"),
        (" Error: connection refused", "ERROR"),
        (" SEVERE: servlet threw", "ERROR"),
        (" NOTICE: server started", "INFO"),
        (" panic: boom", "FATAL"),
        (" INFO [http] handler: request failed with ERROR", "INFO"),  # earliest token wins
        (" DEBUG retrying after error", "DEBUG"),
    ],
)
def test_level_in_header_position(head: str, level: str) -> None:
    found = find_level(head)
    assert found is not None and found[0] == level


@pytest.mark.parametrize(
    "head",
    [
        " retrying after error in payment call",
        " error connecting to the database",  # lower-case prose, no colon
        " Alert fired for disk usage",
        " on-error handler installed",
        " ERR_CONNECTION_REFUSED while fetching",
    ],
)
def test_prose_is_not_a_level(head: str) -> None:
    assert find_level(head) is None


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("ERROR something broke", "ERROR"),
        ("[warn] x", "WARN"),
        ("Error: x", "ERROR"),
        ("WARNING:root:disk almost full", "WARN"),
        ("ERRO[0003] logrus says", "ERROR"),
        ("Alert fired", None),
        ("info about the release", None),
    ],
)
def test_level_at_line_start(line: str, level: str | None) -> None:
    found = level_at_start(line)
    assert (found[0] if found else None) == level


def test_field_values_and_aliases() -> None:
    assert canonical_level("warning") == "WARN"
    assert canonical_level("Err") == "ERROR"
    assert canonical_level("crit") == "FATAL"
    assert canonical_level("emerg") == "FATAL"
    assert canonical_level("trace") == "TRACE"
    assert canonical_level("banana") is None
    assert level_from_value(50) == "ERROR"  # pino / bunyan
    assert level_from_value(30) == "INFO"
    assert level_from_value("3", syslog_priority=True) == "ERROR"  # journald PRIORITY
    assert level_from_value(True) is None
    assert level_from_value("²") is None  # isdigit() but not int()-able


def test_http_status() -> None:
    assert [level_from_status(code) for code in (200, 301, 404, 502)] == [
        "INFO",
        "INFO",
        "WARN",
        "ERROR",
    ]


def test_traces_without_level() -> None:
    python = "Traceback (most recent call last):\n  File x\nValueError: x"
    assert level_from_trace(python) == "ERROR"
    assert level_from_trace("boom\n\tat com.example.Foo.bar(Foo.java:12)") == "ERROR"
    assert level_from_trace("panic: runtime error\n\ngoroutine 1 [running]:") == "FATAL"
    assert level_from_trace("all good, 0 errors") is None
