"""The labelled queries over the real alert-rules corpus of tests/bench/bench_knowledge.py are
well-formed, and tune and report queries are kept apart (no database, no model)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.bench import alert_rules

QUERIES = Path(__file__).resolve().parents[1] / "bench" / "knowledge_queries_alerts.yaml"


@pytest.fixture(scope="module")
def queries() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(QUERIES.read_text())
    assert isinstance(loaded, list)
    return loaded


def test_entries_have_the_expected_shape(queries: list[dict[str, Any]]) -> None:
    for entry in queries:
        assert set(entry) == {"query", "kind", "expected", "split"}, entry
        assert entry["query"].strip() and entry["kind"] in {"alert", "error", "chat"}, entry
        assert entry["split"] in {"tune", "report"}, entry
        assert entry["expected"] and len(set(entry["expected"])) == len(entry["expected"])


def test_enough_report_queries_and_none_repeated(queries: list[dict[str, Any]]) -> None:
    splits = Counter(e["split"] for e in queries)
    assert splits["report"] >= 30 and splits["tune"] >= 30, splits
    normalised = Counter(" ".join(e["query"].lower().split()) for e in queries)
    assert [q for q, n in normalised.items() if n > 1] == []  # nothing in both halves


@pytest.mark.skipif(not alert_rules.RULES_FILE.is_file(), reason="the shared data is absent")
def test_expected_pages_are_services_of_the_rules_file(queries: list[dict[str, Any]]) -> None:
    pages = {page.slug: page for page in alert_rules.pages()}
    assert len(pages) >= 80 and sum(p.rules for p in pages.values()) > 1000
    assert {s for e in queries for s in e["expected"]} <= set(pages)
    postgres = pages["postgresql"].text
    assert (
        postgres.startswith("# PostgreSQL\n")
        and "- alert: PostgresqlTooManyConnections" in postgres
    )


def test_alert_names_are_written_as_rule_files_carry_them() -> None:
    assert alert_rules.alert_name("Kubernetes Job failed") == "KubernetesJobFailed"
    assert alert_rules.alert_name("Prometheus TSDB WAL corruptions") == (
        "PrometheusTsdbWalCorruptions"
    )
    assert alert_rules.alert_name("MySQL too many connections (> 80%)") == (
        "MysqlTooManyConnections80"
    )
