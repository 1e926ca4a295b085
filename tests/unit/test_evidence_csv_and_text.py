"""CSV log exports become records; Markdown and code stay text, with language and outline."""

from __future__ import annotations

from engine.evidence.analyze import analyze, summarize_report
from engine.evidence.logs.analyze import analyze_log
from engine.evidence.logs.report import LogReport

KIBANA = (
    "@timestamp,log.level,service.name,message\n"
    '2026-11-21T14:00:00.120Z,INFO,checkout,"GET /cart 200"\n'
    '2026-11-21T14:00:01.450Z,ERROR,payments,"pool exhausted\n'
    "java.sql.SQLTransientConnectionException: Connection is not available\n"
    '\tat com.zaxxer.hikari.pool.HikariPool.createTimeoutException(HikariPool.java:696)"\n'
    '2026-11-21T14:00:02.010Z,ERROR,payments,"pool exhausted"\n'
)

SPLUNK = (
    "_time,host,source,_raw\n"
    "2026-11-21T14:00:00.000+0000,web-1,/var/log/app.log,"
    '"2026-11-21 14:00:00,120 ERROR [main] c.a.Pay - pool exhausted"\n'
    "2026-11-21T14:00:01.000+0000,web-1,/var/log/app.log,"
    '"2026-11-21 14:00:01,020 INFO [main] c.a.Api - GET /cart 200"\n'
)


def test_a_csv_export_is_one_record_per_row_with_its_fields() -> None:
    report = analyze_log("kibana.csv", KIBANA.encode())
    assert report.formats == ["csv"]
    assert report.record_count == 3  # the quoted stack trace stays in its row
    assert report.level_counts == {"ERROR": 2, "INFO": 1}
    [group] = report.error_groups
    assert group.message == "pool exhausted" and group.count == 2
    assert group.first_line == 3  # the line the row starts on
    assert {c.name for c in report.components} == {"payments", "checkout"}


def test_a_splunk_export_parses_the_raw_line() -> None:
    report = analyze("splunk.csv", SPLUNK.encode())
    assert isinstance(report, LogReport)
    assert report.level_counts == {"ERROR": 1, "INFO": 1}
    assert report.error_groups[0].message == "pool exhausted"


def test_markdown_is_text_with_its_outline() -> None:
    text = b"# Runbook: payments\n\nSome prose.\n\n## Symptoms\n\n- pool exhausted\n"
    report = analyze("notes.md", text)
    assert isinstance(report, LogReport) and report.kind == "text"
    assert report.language == "Markdown"
    assert report.headings == ["Runbook: payments", "Symptoms"]
    assert "(headings: Runbook: payments › Symptoms)" in summarize_report(report)


def test_code_is_text_in_its_language_without_comment_headings() -> None:
    script = b"#!/usr/bin/env bash\n# restart the pool\nkubectl rollout restart deploy/payments\n"
    report = analyze("fix", script)
    assert isinstance(report, LogReport)
    assert report.language == "shell" and report.headings == []
    assert summarize_report(report) == "fix: 3 lines of shell code"
