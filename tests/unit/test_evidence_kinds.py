"""Evidence kinds as a registry: every report type has one kind, and files reach the right one."""

from __future__ import annotations

from typing import get_args

import pytest

from engine.evidence.analyze import KINDS, analyze, describe_report, detect_kind, summarize_report
from engine.evidence.logs.kind import LOGS
from engine.evidence.reports import AnyReport

SAMPLES = {
    "traces": (
        "spans.json",
        b'{"data": [{"traceID": "t1", "spans": [{"traceID": "t1", "spanID": "a",'
        b' "operationName": "GET /pay", "startTime": 1700000000000000, "duration": 1200,'
        b' "processID": "p1", "references": [], "tags": []}],'
        b' "processes": {"p1": {"serviceName": "checkout"}}}]}',
    ),
    "metrics": (
        "latency.csv",
        b"time,p99_ms\n"
        + b"".join(f"2026-11-21T14:{m:02d}:00Z,{120 + m}\n".encode() for m in range(30)),
    ),
    "config": ("values.yaml", b"replicaCount: 3\nimage:\n  repository: shop/cart\n  tag: 1.4\n"),
    "log": (
        "app.log",
        b"2026-11-21 14:00:01 ERROR checkout: upstream payments-db: connection pool exhausted\n"
        b"2026-11-21 14:00:02 INFO checkout: retrying\n",
    ),
}


def test_every_report_type_has_exactly_one_kind() -> None:
    report_types = set(get_args(AnyReport))
    registered = [kind.report_type for kind in KINDS]
    assert sorted(t.__name__ for t in registered) == sorted(t.__name__ for t in report_types)
    assert len({kind.name for kind in KINDS}) == len(KINDS)


def test_logs_take_whatever_no_other_kind_claims() -> None:
    assert KINDS[-1] is LOGS
    assert detect_kind("notes.txt", b"we restarted the pods at noon, no change") == "log"


@pytest.mark.parametrize("expected", sorted(SAMPLES))
def test_each_kind_reads_and_words_its_own_files(expected: str) -> None:
    name, data = SAMPLES[expected]
    assert detect_kind(name, data) == expected
    report = analyze(name, data)
    assert report.kind == expected
    summary = summarize_report(report)
    assert summary.startswith(f"{name}:"), summary
    assert isinstance(describe_report(report, 3), list)
