"""Span tables from real tools, read right: times, durations and their units, services,
parent links, errors, and the erroring callee named first.

Real data: DeepTraLog (Zhang et al., ICSE 2022), SkyWalking exports of the TrainTicket system
under injected faults, at ../shared/data/real-incidents/deeptralog/ (see its README). Each
test reads a few hundred spans (whole traces) of one run's ERROR_ table straight out of the
archive; nothing is copied into the repository, and the tests skip where the data is absent.
Which service is at fault comes from the paper's fault list: F05 a timeout between two
services, F08 a request refused by a downstream service, F23 (in F06.zip) a database that
cannot be reached.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.core.errors import EvidenceRejected
from engine.evidence.analyze import analyze
from engine.evidence.archives import expand
from engine.evidence.traces.analyze import (
    TraceReport,
    analyze_traces,
    looks_like_traces,
    summarize_traces,
)

ROOT = Path(__file__).resolve().parents[2]
TRACE_LOG_DATA = ROOT.parent / "shared" / "data" / "real-incidents" / "deeptralog" / "TraceLogData"
EXCERPT_SPANS = 300


def _member(archive: str, run: str) -> tuple[str, str]:
    """The name and text of a run's ERROR_ span table inside a DeepTraLog archive."""
    path = TRACE_LOG_DATA / archive
    if not path.is_file():
        pytest.skip(f"DeepTraLog data not found at {path}")
    with zipfile.ZipFile(path) as archive_file:
        name = next(
            n for n in archive_file.namelist() if n.startswith(f"{run}/") and "/ERROR_" in n
        )
        return name, archive_file.read(name).decode()


def _excerpt(text: str, spans: int = EXCERPT_SPANS) -> str:
    """The header and the rows of the first traces, whole, until `spans` rows are taken."""
    rows = list(csv.reader(io.StringIO(text)))
    trace = rows[0].index("TraceId")
    kept: list[list[str]] = []
    seen: set[str] = set()
    for row in rows[1:]:
        if row[trace] not in seen:
            if len(kept) >= spans:
                break
            seen.add(row[trace])
        kept.append(row)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([rows[0], *kept])
    return out.getvalue()


def _real(archive: str, run: str) -> tuple[TraceReport, str]:
    _, text = _member(archive, run)
    data = _excerpt(text)
    assert looks_like_traces("ERROR_SpanData.csv", data)
    return analyze_traces("ERROR_SpanData.csv", data.encode()), data


def _assert_read_right(report: TraceReport, data: str) -> None:
    """Services from the Service column, 2021 dates, milliseconds that agree with the raw
    StartTime/EndTime columns, and parents linked across services."""
    rows = list(csv.DictReader(io.StringIO(data)))
    assert report.span_count == len(rows) and report.trace_count < len(rows)
    named = {row["Service"] for row in rows}
    assert "unknown" not in {s.service for s in report.services}
    assert named <= {s.service for s in report.services}
    assert report.first_ts is not None and report.last_ts is not None
    assert report.first_ts.year == 2021 and report.last_ts.year == 2021
    first = min(int(row["StartTime"]) for row in rows)  # epoch milliseconds
    assert report.first_ts == datetime.fromtimestamp(first / 1000, UTC)

    def ms(row: dict[str, str]) -> int:
        return int(row["EndTime"]) - int(row["StartTime"])

    assert max(s.p99_ms for s in report.services) <= max(map(ms, rows))
    # The slowest request is the longest root span (a root's parent is written -1).
    roots = [row for row in rows if row["ParentSpan"] == "-1"]
    assert report.slowest[0].duration_ms == max(map(ms, roots))
    # Every link but the roots' is found.
    assert not any("names a parent that is not in the file" in note for note in report.notes)
    assert any(edge.caller != edge.callee for edge in report.edges)
    assert report.error_count > 0


def test_a_refused_request_blames_the_service_that_refused_it() -> None:
    """F08-01: order-service's calls to station-service are answered 403."""
    report, data = _real("F08.zip", "F08-01")
    _assert_read_right(report, data)
    assert [s.service for s in report.suspects][:2] == ["ts-station-service", "ts-order-service"]
    assert "callers ts-order-service fail when it fails" in report.suspects[0].reasons
    edge = next(e for e in report.edges if e.callee == "ts-station-service")
    assert edge.caller == "ts-order-service" and edge.errors == edge.calls
    assert edge.p95_ms < 1000  # a refusal is quick


def test_a_timeout_blames_the_callee_that_did_not_answer() -> None:
    """F05-01: travel-service gives up on ticketinfo-service after 20 s; the callee's own
    spans are missing from most traces (they had not finished), so the failed client call
    stands for it."""
    report, data = _real("F05.zip", "F05-01")
    _assert_read_right(report, data)
    assert report.suspects[0].service == "ts-ticketinfo-service"
    assert report.slowest[0].duration_ms == pytest.approx(20_000, rel=0.01)
    assert any("ts-ticketinfo-service with no span of the callee" in n for n in report.notes)
    travel = next(s for s in report.services if s.service == "ts-travel-service")
    assert travel.errors_from == "ts-ticketinfo-service"


def test_an_unreachable_database_is_named_before_the_services_that_call_it() -> None:
    """F23-05: price-service cannot reach its database; every caller up the chain fails."""
    report, data = _real("F06.zip", "F23-05")
    _assert_read_right(report, data)
    assert [s.service for s in report.suspects] == [
        "ts-price-mongo", "ts-price-service", "ts-admin-basic-info-service"
    ]  # fmt: skip
    assert report.slowest[0].critical_path[-1] == "ts-price-mongo:MongoDB/FindOperation"
    assert summarize_traces(report).startswith(
        "ERROR_SpanData.csv: 75 traces, 300 spans, 13:45–14:01 UTC; errors in ts-price-mongo "
        "(100%), ts-price-service (100%, from ts-price-mongo)"
    )


def test_an_uploaded_archive_reads_its_span_tables(tmp_path: Path) -> None:
    """A run's folder zipped as people share it: an ERROR_ table, an empty SUCCESS_ table."""
    name, text = _member("F08.zip", "F08-01")
    header = text.split("\n", 1)[0] + "\n"
    archive = tmp_path / "F08-01.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr(name, _excerpt(text))
        out.writestr(name.replace("ERROR_", "SUCCESS_"), header)
    members = {
        m.path.rsplit("/", 1)[-1][:6]: m for m in expand(archive.name, archive.read_bytes()).members
    }
    report = analyze(members["ERROR_"].path, members["ERROR_"].data)
    assert isinstance(report, TraceReport)
    assert report.suspects[0].service == "ts-station-service"
    with pytest.raises(EvidenceRejected, match="has its header but no spans"):
        analyze(members["SUCCES"].path, members["SUCCES"].data)


def _pod_table(with_end: bool) -> bytes:
    """Two pods per trace, times in epoch nanoseconds, Duration a bare number of µs."""
    columns = ["TraceID", "SpanID", "ParentID", "PodName", "OperationName", "StartTimeUnixNano"]
    rows = [[*columns, *(["EndTimeUnixNano"] if with_end else []), "Duration"]]
    t0 = 1_700_000_000_000_000_000
    chain = [
        ("frontend-7d9f8c6b5-x2k4p", "GET /cart", 0, 12_000),
        ("cartservice-5c8d7f9b6-q8w2z", "GetCart", 1_000_000, 10_200),
    ]
    for k in range(10):
        for depth, (pod, operation, offset_ns, micros) in enumerate(chain):
            start = t0 + k * 1_000_000_000 + offset_ns
            end = [str(start + micros * 1000)] if with_end else []
            parent = f"s{k}-{depth - 1}" if depth else ""
            rows.append(
                [f"t{k}", f"s{k}-{depth}", parent, pod, operation, str(start), *end, str(micros)]
            )
    return "".join(",".join(row) + "\n" for row in rows).encode()


def test_pod_names_nanosecond_times_and_microsecond_durations() -> None:
    data = _pod_table(with_end=True)
    assert looks_like_traces("spans.csv", data.decode())
    report = analyze_traces("spans.csv", data)
    assert {s.service: s.p50_ms for s in report.services} == {
        "frontend": 12.0, "cartservice": 10.2
    }  # fmt: skip
    assert report.notes == ["durations have no unit; read as microseconds, as end − start agrees"]
    assert report.first_ts == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert report.edges[0].caller == "frontend" and report.edges[0].callee == "cartservice"
    assert summarize_traces(report) == (
        "spans.csv: 10 traces, 20 spans, 22:13 UTC; no errors; slowest path "
        "frontend→cartservice 12 ms"
    )


def test_bare_durations_without_end_times_are_judged_by_size_and_said_so() -> None:
    report = analyze_traces("spans.csv", _pod_table(with_end=False))
    assert {s.service: s.p50_ms for s in report.services} == {
        "frontend": 12.0, "cartservice": 10.2
    }  # fmt: skip
    assert report.notes == [
        "durations have no unit; read as microseconds judged by their size (median 11,100); "
        "a column name like duration_ms makes the unit certain"
    ]


@pytest.mark.parametrize(
    "headers",
    [
        ["trace_id", "span_id", "parent_span_id", "service.name", "name", "start", "duration_ms"],
        ["TraceId", "SpanId", "ParentSpanId", "ServiceName", "SpanName", "Start", "DurationMs"],
        ["Trace ID", "Span ID", "Parent ID", "Service", "Endpoint", "Timestamp", "Latency (ms)"],
        ["TRACE-ID", "SPAN-ID", "PARENT", "CONTAINER", "URL", "START_TIME", "ELAPSED_MS"],
    ],
)
def test_column_roles_come_from_names_in_any_case_or_separator(headers: list[str]) -> None:
    start = "2021-08-07T10:00:00Z"
    rows = [headers, ["t1", "a", "", "api", "GET /", start, "30"]]
    rows.append(["t1", "b", "a", "db", "SELECT", start, "20"])
    report = analyze_traces("spans.csv", "".join(",".join(r) + "\n" for r in rows).encode())
    assert [(e.caller, e.callee, e.p95_ms) for e in report.edges] == [("api", "db", 20.0)]
    assert report.first_ts == datetime(2021, 8, 7, 10, tzinfo=UTC) and report.notes == []


def test_a_time_column_that_holds_no_times_is_not_taken_for_one() -> None:
    rows = ["trace,span,service,time,took_ms", "t1,a,api,Monday,12", "t1,b,api,Tuesday,5"]
    report = analyze_traces("spans.csv", "\n".join(rows).encode())
    assert report.first_ts is None and report.span_count == 2
