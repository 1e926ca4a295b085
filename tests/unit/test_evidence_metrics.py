"""Metrics evidence on small, real-looking uploads: what the user reads in Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.errors import EvidenceRejected
from engine.evidence.metrics.analyze import (
    analyze_metrics,
    describe_series,
    looks_like_metrics,
    summarize_metrics,
)
from tests.samples.metrics import JITTER, latency_csv

# 2026-11-21 14:00:00 UTC
T0 = 1_795_269_600


def at(minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 21, 14, minute, second, tzinfo=UTC)


def test_wide_csv_level_shift_and_spike_in_one_line() -> None:
    text = latency_csv()
    assert looks_like_metrics("latency.csv", text)
    report = analyze_metrics("latency.csv", text.encode())

    assert summarize_metrics(report) == (
        "latency.csv: 3 series, 14:00–14:30 UTC; p99_latency_ms rose 120→850 at 14:02 "
        "(level shift); error_rate spiked to 0.31 at 14:03"
    )
    assert report.kind == "metrics" and report.format == "csv-wide"
    assert (report.first_ts, report.last_ts) == (at(0), at(30))
    assert [s.name for s in report.series] == ["p99_latency_ms", "error_rate", "cpu_pct"]
    latency, errors, cpu = report.series
    [shift] = latency.shifts
    assert (shift.at, shift.before, shift.after) == (at(2), 120, 850)
    assert latency.spikes == [] and latency.unit_hint == "ms" and latency.points == 31
    [spike] = errors.spikes
    assert (spike.at, spike.value) == (at(3), 0.31)
    assert spike.baseline == pytest.approx(0.01, abs=0.003)
    assert errors.shifts == []  # one bad minute is a spike, not a new level
    assert cpu.shifts == [] and cpu.spikes == [] and (cpu.min, cpu.max) == (37, 43)
    assert len(report.sha256) == 64 and report.size_bytes == len(text)


def test_describe_series_puts_notable_series_first_with_times() -> None:
    report = analyze_metrics("latency.csv", latency_csv().encode())
    lines = describe_series(report, limit=2)
    assert lines[0].startswith("p99_latency_ms: 31 points 14:00–14:30 UTC; min 118,")
    assert lines[0].endswith("; level shift 120→850 at 14:02")
    assert lines[1].startswith("error_rate: 31 points")
    assert lines[1].endswith("; spike 0.31 at 14:03 (baseline 0.01)")
    assert lines[2] == "…and 1 more series"


def test_nothing_notable_says_the_ranges() -> None:
    rows = ["timestamp,cpu_pct,rss_bytes"]
    rows += [f"{T0 + 60 * m},{40 + JITTER[m % 7]},{2.0e9 + 1e6 * m}" for m in range(30)]
    report = analyze_metrics("host.csv", "\n".join(rows).encode())
    assert summarize_metrics(report) == (
        "host.csv: 2 series, 14:00–14:29 UTC; no level shifts or spikes; "
        "cpu_pct 37–43, rss_bytes 2G–2.03G"
    )


NODE_EXPORTER = """\
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 1.0236e+06
node_cpu_seconds_total{cpu="0",mode="iowait"} 1234.56
# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 3.42
# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.
# TYPE node_memory_MemAvailable_bytes gauge
node_memory_MemAvailable_bytes 1.84e+08
# HELP node_network_receive_errs_total Network device statistic receive_errs.
# TYPE node_network_receive_errs_total counter
node_network_receive_errs_total{device="eth0"} 1523
node_network_receive_errs_total{device="lo"} 0
# HELP node_filesystem_readonly Filesystem read-only status.
# TYPE node_filesystem_readonly gauge
node_filesystem_readonly{device="/dev/sda1",mountpoint="/"} 0
# HELP http_request_duration_seconds A histogram of request latencies.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} 9120
http_request_duration_seconds_bucket{le="+Inf"} 9644
http_request_duration_seconds_sum 812.5
http_request_duration_seconds_count 9644
# HELP go_gc_duration_seconds A summary of the pause duration of GC cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} NaN
# TYPE up gauge
up{instance="db-1:9100",job="node"} 0
"""


def test_exposition_scrape_reports_samples_and_notable_ones() -> None:
    assert looks_like_metrics("scrape.txt", NODE_EXPORTER)
    report = analyze_metrics("scrape.txt", NODE_EXPORTER.encode())
    assert report.format == "prometheus-text"
    assert report.series_count == 13 and len(report.series) == 12  # the NaN one has no value
    assert all(s.points == 1 and not s.shifts and not s.spikes for s in report.series)
    assert report.first_ts is None  # a scrape without timestamps
    assert "a single scrape (one value per series), so there is no time series" in report.notes
    assert (
        "1 NaN, infinite or out-of-range (beyond ±1e300) values were left out of the statistics"
        in report.notes
    )
    # Notable series are ranked first, so they survive the series cap on big scrapes.
    assert [s.name for s in report.series[:2]] == [
        "node_network_receive_errs_total{device=eth0}",
        "up{instance=db-1:9100,job=node}",
    ]
    assert summarize_metrics(report) == (
        "scrape.txt: 13 series, one value per series (no time series); non-zero errors: "
        "node_network_receive_errs_total{device=eth0}=1,523, "
        "up{instance=db-1:9100,job=node}=0 (target down)"
    )
    lines = describe_series(report, limit=3)
    assert lines[:2] == [
        "node_network_receive_errs_total{device=eth0} = 1,523",
        "up{instance=db-1:9100,job=node} = 0",
    ]


def test_exposition_with_varying_timestamps_is_a_time_series() -> None:
    # Several scrapes of a counter, 15 s apart (Prometheus text timestamps are milliseconds):
    # 10 errors per scrape, then 120 from 14:01:30 on.
    lines = ["# TYPE app_errors_total counter"]
    total = 0
    for i in range(20):
        total += 10 if i < 6 else 120
        lines.append(f'app_errors_total{{route="/pay"}} {total} {(T0 + 15 * i) * 1000}')
    report = analyze_metrics("scrapes.prom", "\n".join(lines).encode())
    [series] = report.series
    assert series.name == "rate(app_errors_total{route=/pay})" and series.unit_hint == "/s"
    [shift] = series.shifts
    assert (shift.at, round(shift.before, 2), shift.after) == (at(1, 30), 0.67, 8)
    assert "counters (…_total) are shown as per-second rates, rate(…)" in report.notes
    assert summarize_metrics(report).endswith(
        "rate(app_errors_total{route=/pay}) rose 0.667→8/s at 14:01:30 (level shift)"
    )


def test_long_format_csv_one_series_per_metric_and_labels() -> None:
    rows = ["timestamp,metric,host,value"]
    for minute in range(30):
        for host in ("web-1", "web-2"):
            busy = host == "web-2" and minute >= 15
            rows.append(f"{T0 + 60 * minute},cpu_pct,{host},{(90 if busy else 30) + minute % 3}")
    text = "\n".join(rows) + "\n"
    assert looks_like_metrics("cpu.csv", text)
    report = analyze_metrics("cpu.csv", text.encode())
    assert report.format == "csv-long"
    assert [s.name for s in report.series] == ["cpu_pct{host=web-1}", "cpu_pct{host=web-2}"]
    [shift] = report.series[1].shifts
    assert (shift.at, shift.before, shift.after) == (at(15), 31, 91)
    assert report.series[0].shifts == []
    assert summarize_metrics(report) == (
        "cpu.csv: 2 series, 14:00–14:29 UTC; cpu_pct{host=web-2} rose 31→91 at 14:15 (level shift)"
    )


def query_range() -> dict[str, object]:
    errors, latency = [], []
    total = 0
    for i in range(30):
        ts = T0 + 60 * i
        total += 6 if i < 12 else 240  # 0.1/s, then 4/s from 14:12
        errors.append([ts, str(total)])
        latency.append([ts, "2.5" if i == 20 else f"{0.2 + JITTER[i % 7] / 100:.2f}"])
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"__name__": "http_requests_total", "code": "500", "job": "api"},
                    "values": errors,
                },
                {"metric": {"job": "api", "quantile": "0.99"}, "values": latency},
            ],
        },
    }


def test_query_range_json_two_series() -> None:
    text = json.dumps(query_range())
    assert looks_like_metrics("prom.json", text)
    report = analyze_metrics("prom.json", text.encode())
    assert report.format == "prometheus-json-matrix"
    errors, latency = report.series
    assert errors.name == "rate(http_requests_total{code=500,job=api})"
    [shift] = errors.shifts
    assert (shift.at, shift.before, shift.after) == (at(12), 0.1, 4)
    assert latency.name == "{job=api,quantile=0.99}"
    [spike] = latency.spikes
    assert (spike.at, spike.value) == (at(20), 2.5)
    assert summarize_metrics(report) == (
        "prom.json: 2 series, 14:00–14:29 UTC; "
        "rate(http_requests_total{code=500,job=api}) rose 0.1→4/s at 14:12 (level shift); "
        "{job=api,quantile=0.99} spiked to 2.5 at 14:20"
    )


def test_instant_query_json_is_one_value_per_series() -> None:
    doc = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"__name__": "up", "job": "db"}, "value": [T0 + 0.5, "0"]},
                {"metric": {"__name__": "up", "job": "api"}, "value": [T0 + 0.5, "1"]},
            ],
        },
    }
    report = analyze_metrics("up.json", json.dumps(doc).encode())
    assert report.format == "prometheus-json-vector"
    assert report.first_ts == datetime(2026, 11, 21, 14, 0, 0, 500000, tzinfo=UTC)
    assert summarize_metrics(report) == (
        "up.json: 2 series, one value per series at 14:00:00 UTC (no time series); "
        "non-zero errors: up{job=db}=0 (target down)"
    )


def test_ten_thousand_columns_are_capped_with_a_note() -> None:
    width = 10_000
    header = "time," + ",".join(f"s{i}" for i in range(width))
    rows = [f"{T0 + 60 * r}," + ",".join(str(r % 3) for _ in range(width)) for r in range(3)]
    text = "\n".join([header, *rows])
    assert looks_like_metrics("wide.csv", text)
    report = analyze_metrics("wide.csv", text.encode())
    assert len(report.series) == 200 and report.series_count == width
    assert "10,000 series found; only the first 200 were analysed" in report.notes
    assert summarize_metrics(report).startswith("wide.csv: 10,000 series, 14:00–14:02 UTC;")
    assert describe_series(report)[-1] == "…and 9,995 more series"


def test_ragged_rows_are_noted_not_fatal() -> None:
    text = (
        "time,a,b\n"
        "2026-11-21T14:00:00Z,1,2\n"
        "2026-11-21T14:01:00Z,1\n"
        "2026-11-21T14:02:00Z,1,2,3\n"
        "not a time,1,2\n"
        "2026-11-21T14:03:00Z,1,2\n"
    )
    report = analyze_metrics("ragged.csv", text.encode())
    assert [s.points for s in report.series] == [4, 3]
    assert report.notes == [
        "2 rows had a different number of cells than the header; "
        "missing cells were skipped and extra ones ignored",
        "1 row was skipped: no readable time",
    ]


def test_tsv_with_units_in_cells_and_epoch_milliseconds() -> None:
    rows = ["ts\tp95 latency"]
    rows += [f"{(T0 + 60 * m) * 1000}\t{'1.2 s' if m >= 10 else '120 ms'}" for m in range(20)]
    report = analyze_metrics("grafana.tsv", "\n".join(rows).encode())
    assert report.format == "tsv-wide"
    [series] = report.series
    assert series.unit_hint == "ms" and (series.min, series.max) == (120, 1200)
    assert summarize_metrics(report).endswith(
        "p95 latency rose 120→1,200 ms at 14:10 (level shift)"
    )


def test_one_spike_is_not_a_level_shift_and_a_ramp_is_neither() -> None:
    rows = ["time,queue_depth,heap_mb"]
    for m in range(40):
        depth = 900 if m == 20 else 10 + JITTER[m % 7]
        rows.append(f"{T0 + 60 * m},{depth},{100 + 10 * m}")  # heap grows steadily: no step
    report = analyze_metrics("queue.csv", "\n".join(rows).encode())
    depth, heap = report.series
    assert depth.shifts == [] and [(s.at, s.value) for s in depth.spikes] == [(at(20), 900)]
    assert heap.shifts == [] and heap.spikes == []


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "The file is empty (0 bytes)"),
        (b"hello world\nthis is not metrics\n", "not in a metrics format FaultMaven reads"),
        (b"time,value\n", "a header but no data rows"),
        (b"host,region\nweb-1,eu\nweb-2,us\n", "no columns of numbers"),
        (b"time,value\n2026-11-21T14:00:00Z,NaN\n", "no columns of numbers"),
        (b'{"status": "success", "data": ', "looks like JSON but does not parse"),
        (
            b'{"status":"error","errorType":"bad_data","error":"parse error at char 5"}',
            "Prometheus error response (bad_data: parse error at char 5)",
        ),
        (b'{"level":"info","msg":"started"}', "not a Prometheus query response"),
        (b"\x00\x01\x02\x03" * 100, "looks binary"),
    ],
)
def test_unreadable_input_is_rejected_with_one_clear_sentence(data: bytes, says: str) -> None:
    with pytest.raises(EvidenceRejected) as caught:
        analyze_metrics("upload", data)
    message = caught.value.user_message
    assert says in message
    assert message.endswith(".") and "\n" not in message


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("export.csv", "timestamp,level,message\n2026-11-21T14:00:00Z,ERROR,db timeout\n" * 3),
        (
            "requests.csv",
            "timestamp,status,message\n"
            + "2026-11-21T14:00:00Z,500,upstream payments-db connection pool exhausted\n" * 5,
        ),
        ("app.log", "2026-11-21 14:00:00,123 INFO checkout.api: GET /cart 200 12\n" * 5),
        ("app.jsonl", '{"ts":"2026-11-21T14:00:00Z","level":"info","msg":"ok","took":12}\n' * 5),
        ("access.log", '10.0.0.1 - - [21/Nov/2026:14:00:00 +0000] "GET / HTTP/1.1" 200 512\n' * 5),
        ("values.yaml", "replicas: 3\nimage: checkout:1.4.2\n"),
        ("notes.txt", "latency 120\nerrors 3\n"),
    ],
)
def test_logs_and_other_files_are_not_claimed(name: str, text: str) -> None:
    assert not looks_like_metrics(name, text)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_detection_never_raises_and_analysis_only_rejects_cleanly(text: str) -> None:
    looks_like_metrics("upload.csv", text)
    try:
        report = analyze_metrics("upload.csv", text.encode())
    except EvidenceRejected:
        return
    assert summarize_metrics(report).startswith("upload.csv: ")
