"""Trace trees pasted as text: one span per line, nested by indentation, with durations."""

from __future__ import annotations

from engine.evidence.analyze import analyze
from engine.evidence.traces.report import TraceReport

TREE = """Trace ID: 4bf92f3577b34da6a3ce929d0e0e4736
└── frontend: GET /checkout (7234ms)
    ├── cart: GET /cart/items (12ms)
    ├── checkout: POST /api/checkout (7190ms)
    │   ├── currency: GET /convert (3ms)
    │   └── orders-db: SELECT * FROM orders WHERE user_id = ? (6512ms) ERROR
    └── ad: GET /ads (8ms)
"""

INDENTED = """GET /checkout 7.23s [frontend]
  POST /api/checkout 7.19s [checkout]
    SELECT orders 6.51s [postgres]
  GET /ads 8ms [ad]
"""


def test_a_rendered_tree_is_read_as_spans_with_their_nesting_and_durations() -> None:
    report = analyze("trace.txt", TREE.encode())
    assert isinstance(report, TraceReport)
    assert {s.service for s in report.services} == {
        "frontend",
        "cart",
        "checkout",
        "currency",
        "orders-db",
    } | {"ad"}
    assert report.suspects[0].service == "orders-db"  # the failing, slow database span
    slow = report.slowest[0]
    assert slow.bottleneck.startswith("orders-db:SELECT") and 6400 < slow.bottleneck_ms < 6600
    assert any("rendered trace tree" in note for note in report.notes)


def test_indentation_and_bracketed_services_without_tree_characters() -> None:
    report = analyze("trace.txt", INDENTED.encode())
    assert isinstance(report, TraceReport)
    durations = {s.service: s.p95_ms for s in report.services}
    assert round(durations["postgres"]) == 6510 and round(durations["ad"]) == 8


def test_kubectl_ages_and_timestamped_logs_are_not_trees() -> None:
    lineage = "Deployment/web  1/1  45s\n└── ReplicaSet/web-6958c5bdd8  1/1  45s\n"
    lineage += "    └── Pod/web-6958c5bdd8-69gtn  1/1  Running  45s\n"
    assert analyze("lineage.txt", lineage.encode()).kind != "traces"
    log = "2024-01-01 10:00:01 INFO done in 12ms\n  db 10ms\n2024-01-01 10:00:02 INFO done 15ms\n"
    log += "  db 11ms\n"
    assert analyze("app.log", log.encode()).kind != "traces"
