"""Real metric exports nobody here wrote, read right: components, times, the call graph.

Data: `../shared/data/real-incidents/` (see its README): ChangeRCA (Yu et al., FSE 2024),
per-pod CSVs `<pod>_<caller>_<callee>.csv` and a `Source,Target,Weight` call graph; RCD Sock
Shop (Ikram et al., NeurIPS 2022), wide CSVs `time,<svc>_cpu,…,<svc>_lat_99`. Skipped when
the data is not there. Only tuning cases are used here (ChangeRCA 2023-09-22, Sock Shop runs
1 and 2); the others are for the benchmark's report alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.evidence.analyze import analyze, summarize_report
from engine.evidence.metrics.report import MetricsReport
from engine.evidence.suspects.ranking import rank_case_suspects
from engine.evidence.topology.report import CallGraphReport
from engine.investigate.reasoner import investigate_offline

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "real-incidents"
CHANGERCA = DATA / "changerca" / "data" / "2023-09-22" / "2023-09-22_1"
SOCKSHOP = DATA / "rcd-sockshop" / "sock-shop-data"

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is not there")


def read(path: Path) -> object:
    return analyze(path.name, path.read_bytes())


def test_a_pod_file_names_its_pod_and_reads_go_times_without_an_epoch_series() -> None:
    report = read(CHANGERCA / "adservice-v1-59dcc9f97-z9dj5_frontend_adservice.csv")
    assert isinstance(report, MetricsReport)
    names = {s.name for s in report.series}
    assert {"SuccessRate", "Latency"} <= names
    assert "Timestamp" not in names  # the same time again, as epoch seconds
    assert {s.component for s in report.series} == {"adservice-v1-59dcc9f97-z9dj5"}
    assert report.first_ts is not None
    assert report.first_ts.replace(microsecond=0) == datetime(2023, 9, 22, 15, 39, tzinfo=UTC)
    assert "6 series of adservice-v1-59dcc9f97-z9dj5" in summarize_report(report)


def test_a_source_target_table_is_a_call_graph() -> None:
    report = read(CHANGERCA / "dependency.csv")
    assert isinstance(report, CallGraphReport)
    edges = {(e.caller, e.callee) for e in report.edges}
    assert ("frontend", "adservice") in edges and ("checkoutservice", "cartservice") in edges
    assert summarize_report(report).startswith("call graph: ")


def test_wide_columns_name_their_service() -> None:
    report = read(SOCKSHOP / "carts-cpu" / "1" / "anomalous.csv")
    assert isinstance(report, MetricsReport)
    by_name = {s.name: s.component for s in report.series}
    assert by_name["carts-db_cpu"] == "carts-db"
    assert by_name["carts_lat_99"] == "carts"
    assert by_name["queue-master_mem"] == "queue-master"


def test_a_cpu_hog_is_named_by_its_saturated_cpu() -> None:
    suspects = rank_case_suspects([read(SOCKSHOP / "payment-cpu" / "1" / "anomalous.csv")])
    assert suspects[0].component == "payment"
    assert "saturated" in suspects[0].reasons[0]


def test_a_faulty_release_is_found_from_the_time_in_the_question() -> None:
    reports = []
    for path in sorted(CHANGERCA.glob("*.csv")):
        reports.append(read(path))
    question = (
        "users report failing and slow requests since about 15:59 UTC on 2023-09-22; "
        "which component is the root cause?"
    )
    result = investigate_offline(question, [], reports)
    assert result.suspects[0].component == "adservice"
    reasons = " ".join(result.suspects[0].reasons)
    assert "SuccessRate" in reasons and "adservice-v" in reasons  # the pod stays in the reason
