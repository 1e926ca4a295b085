"""BM25 over fields and the ranking of documents from their chunks (no database)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from engine.knowledge.fulltext import FIELD_WEIGHTS, K1, B, TextScores, idf
from engine.knowledge.fulltext import bm25 as fulltext_bm25
from engine.knowledge.search import rank_documents
from engine.store.knowledge_search import RankedChunk, TermFrequencies

WORDS = ["oom", "disk", "full", "pod", "zebra", "kafka", "lag", "other"]


def _chunk(
    chunk_id: int, words: dict[str, str], *, length: int = 20, document: int = 0
) -> TermFrequencies:
    """A chunk holding `words`, each with the fields of its occurrences ("AD": title, text),
    as the store gives it for the query words WORDS."""
    frequencies = [sum(FIELD_WEIGHTS[f] for f in words.get(w, "")) for w in WORDS]
    return TermFrequencies(chunk_id, document or chunk_id, length, frequencies)


def bm25(chunks: list[TermFrequencies], query: list[str], **kwargs: Any) -> TextScores:
    """BM25 for the words of `query` (a subset of WORDS): the others are not asked."""
    keep = [WORDS.index(w) for w in query]
    asked = [
        TermFrequencies(c.id, c.document_id, c.length, [c.frequencies[i] for i in keep])
        for c in chunks
        if any(c.frequencies[i] for i in keep)
    ]
    return fulltext_bm25(asked, query, **kwargs)


def test_the_score_is_textbook_bm25() -> None:
    found = [_chunk(1, {"oom": "D"}, length=10), _chunk(2, {"disk": "D"}, length=30)]
    scores = bm25(found, ["oom", "disk"], documents=10)
    # one document in ten holds each word; chunk 1 is half the average length (20)
    expected = math.log(1 + (10 - 1 + 0.5) / (1 + 0.5))
    expected *= (K1 + 1) / (1 + K1 * (1 - B + B * 10 / 20))
    assert scores.chunks[1] == pytest.approx(expected)
    assert scores.chunks[1] > scores.chunks[2]  # same word rarity, shorter chunk
    assert scores.documents == {1: 1, 2: 2}


def test_a_rare_word_weighs_more_than_a_common_one() -> None:
    # each chunk its own document
    common = [_chunk(i, {"pod": "D"}) for i in range(1, 9)]
    found = [*common, _chunk(9, {"pod": "D", "zebra": "D"}), _chunk(10, {"zebra": "D"})]
    scores = bm25(found, ["pod", "zebra"], documents=12)  # pod in 9 pages of 12, zebra in 2
    assert scores.chunks[10] > 2 * scores.chunks[1]
    assert idf(1, 100) > idf(50, 100) > idf(100, 100) > 0


def test_repeated_words_saturate_and_fields_are_boosted() -> None:
    found = [
        _chunk(1, {"kafka": "D"}),
        _chunk(2, {"kafka": "DDDDDDDDDD"}),
        _chunk(3, {"kafka": "A"}),
        _chunk(4, {"other": "D"}),
    ]
    scores = bm25(found, ["kafka"], documents=4)
    assert scores.chunks[2] < (K1 + 1) * scores.chunks[1]  # ten times the word, not ten times
    assert FIELD_WEIGHTS["A"] > FIELD_WEIGHTS["D"]
    assert scores.chunks[3] > scores.chunks[1]  # a title word counts more than a text word
    assert all(0 < scores.chunks[i] < scores.ideal for i in (1, 2, 3))
    assert 4 not in scores.chunks  # no word of the query: not a candidate


def test_a_word_on_every_section_of_one_page_is_not_common() -> None:
    """IDF counts documents: a page's title is on each of its chunks."""
    page = [_chunk(i, {"kafka": "AD"}, document=1) for i in range(1, 31)]
    other = [
        _chunk(40, {"lag": "D"}, document=2),
        _chunk(41, {"lag": "D"}, document=3),
        _chunk(42, {"kafka": "D"}, document=4),
    ]
    scores = bm25(page + other, ["kafka", "lag"], documents=20)
    # kafka is on 31 chunks and lag on 2, but each is on two pages: they weigh the same
    assert scores.chunks[42] == pytest.approx(scores.chunks[40])


def test_an_estimated_frequency_stands_in_for_rows_not_scored() -> None:
    found = [_chunk(1, {"pod": "D", "zebra": "D"})]
    alone = bm25(found, ["pod", "zebra"], documents=1000)
    known = bm25(found, ["pod", "zebra"], documents=1000, known_frequency={"pod": 700.0})
    assert known.chunks[1] < alone.chunks[1]
    assert bm25([], ["pod"], documents=10).chunks == {}


def test_documents_rank_by_their_best_chunk_not_by_how_many_chunks_match() -> None:
    # a long page (document 1) whose eight sections mention the words in passing, and a short
    # page (document 2) about them
    long_page = [_chunk(i, {"disk": "D"}, length=60, document=1) for i in range(1, 9)]
    short_page = [_chunk(20, {"disk": "AD", "full": "AD"}, length=15, document=2)]
    text = bm25(long_page + short_page, ["disk", "full"], documents=50)
    for mode in ("text", "hybrid"):
        ranked = rank_documents(text, [], mode=mode)  # type: ignore[arg-type]
        assert [r.document_id for r in ranked] == [2, 1]
        assert len(ranked[1].chunks) == 8  # all its sections, under one entry


def test_the_fusion_weight_moves_between_the_two_halves() -> None:
    text = bm25(
        [_chunk(1, {"disk": "AD"}, document=1), _chunk(2, {"disk": "D"}, document=2)],
        ["disk"],
        documents=50,
    )
    similar = [RankedChunk(2, 2, 0.9), RankedChunk(1, 1, 0.3)]
    by_text = rank_documents(text, similar, mode="hybrid", text_weight=1.0)
    by_vector = rank_documents(text, similar, mode="hybrid", text_weight=0.0)
    assert [r.document_id for r in by_text] == [1, 2]
    assert [r.document_id for r in by_vector] == [2, 1]
    assert by_vector[0].score == pytest.approx(0.9)
    vector_only = rank_documents(text, similar, mode="vector")
    assert [(r.document_id, r.score) for r in vector_only] == [(2, 0.9), (1, 0.3)]


def test_a_documents_sections_are_ordered_by_the_same_fusion() -> None:
    text = bm25(
        [_chunk(1, {"disk": "D"}, document=7), _chunk(2, {"disk": "DDD"}, document=7)],
        ["disk"],
        documents=50,
    )
    similar = [RankedChunk(1, 7, 0.8), RankedChunk(3, 7, 0.2)]
    [document] = rank_documents(text, similar, mode="hybrid", text_weight=0.5)
    assert document.chunks[0] == 1 and set(document.chunks) == {1, 2, 3}
