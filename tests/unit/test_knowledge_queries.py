"""The labelled retrieval set of tests/bench/bench_knowledge.py is well-formed (no database)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[1] / "bench"
CORPUS = BENCH / "knowledge_corpus"
QUERIES = BENCH / "knowledge_queries.yaml"
KINDS = {"error", "paraphrase", "keywords"}
_WORD = re.compile(r"[a-z][a-z0-9_]{2,}")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@pytest.fixture(scope="module")
def queries() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(QUERIES.read_text())
    assert isinstance(loaded, list)
    return loaded


def test_entries_have_the_expected_shape(queries: list[dict[str, Any]]) -> None:
    for entry in queries:
        assert set(entry) == {"query", "kind", "expected"}, entry
        assert isinstance(entry["query"], str) and entry["query"].strip(), entry
        assert entry["kind"] in KINDS, entry
        assert isinstance(entry["expected"], list) and entry["expected"], entry
        assert len(set(entry["expected"])) == len(entry["expected"]), entry


def test_expected_runbooks_exist(queries: list[dict[str, Any]]) -> None:
    missing = {s for e in queries for s in e["expected"] if not (CORPUS / s).is_file()}
    assert not missing


def test_enough_distinct_queries_of_both_main_kinds(queries: list[dict[str, Any]]) -> None:
    assert len(queries) >= 80
    normalised = Counter(" ".join(e["query"].lower().split()) for e in queries)
    assert [q for q, n in normalised.items() if n > 1] == []
    kinds = Counter(e["kind"] for e in queries)
    assert kinds["error"] >= 20 and kinds["paraphrase"] >= 20, kinds


def test_error_queries_are_log_lines_the_runbook_shows(queries: list[dict[str, Any]]) -> None:
    """Most words of an error query appear in an expected runbook (ids and numbers may differ)."""
    for entry in (e for e in queries if e["kind"] == "error"):
        words = set(_words(entry["query"]))
        best = max(
            len(words & set(_words((CORPUS / s).read_text()))) / len(words)
            for s in entry["expected"]
        )
        assert best >= 0.6, (entry["query"], round(best, 2))


def test_paraphrases_do_not_quote_their_runbook(queries: list[dict[str, Any]]) -> None:
    """No run of five words of a paraphrase is copied from an expected runbook."""
    for entry in (e for e in queries if e["kind"] == "paraphrase"):
        words = _words(entry["query"])
        grams = {" ".join(words[i : i + 5]) for i in range(len(words) - 4)}
        for source in entry["expected"]:
            text = " ".join(_words((CORPUS / source).read_text()))
            assert not [g for g in grams if g in text], (entry["query"], source)


def test_corpus_is_a_modest_set_of_markdown_runbooks() -> None:
    runbooks = sorted(CORPUS.rglob("*.md"))
    assert 60 <= len(runbooks) <= 120
    assert sum(p.stat().st_size for p in runbooks) < 1_000_000
    titles = [p.read_text().splitlines()[0] for p in runbooks]
    assert all(t.startswith("# ") for t in titles)
    assert len(set(titles)) == len(titles)
