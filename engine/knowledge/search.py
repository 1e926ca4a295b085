"""Knowledge search: documents ranked by their chunks' pgvector HNSW (cosine) similarity and
full-text BM25 over fields, fused with weights, filtered by tier and channel.

Search ranks documents, not chunks: a long page whose many sections each mention the query's
words would otherwise fill the results with its sections, pushing out the short page that
is about the symptom. A document scores by its best chunk in each half (its highest BM25, its
highest cosine similarity); the halves are fused as a weighted sum of normalised scores
(BM25 over the score of a chunk holding every query word, cosine as is), not by reciprocal
rank, which throws away how much better the first is than the second. The text half's weight
was chosen by cross-validation over the tune queries of tests/bench/bench_knowledge.py (both
corpora, 5 folds). A document's second and third sections add a little; Helpful / Outdated
verdicts multiply the result. Each document is shown by its best sections (by the same
fusion, chunk by chunk).

Only chunks of the latest version of each document exist (engine/store/knowledge.py), so no
version filter is needed. The full-text half is in engine/knowledge/fulltext.py; the
statements are in engine/store/knowledge_search.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from psycopg_pool import AsyncConnectionPool

from engine.knowledge.chunk import HEADING_SEPARATOR
from engine.knowledge.embed import Embedder, model_name
from engine.knowledge.fulltext import NO_TEXT, TextScores, text_scores
from engine.knowledge.votes import weights
from engine.store import knowledge_search
from engine.store.knowledge import TIERS
from engine.store.knowledge_search import ChunkFilter, RankedChunk
from engine.store.knowledge_spaces import Space, find_space, vector_literal

Mode = Literal["hybrid", "vector", "text"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "text")
# The text half's share of a document's hybrid score (the vector half has the rest): each of
# the five folds of the bench's cross-validation chose 0.7 from 0, 0.1, ... 1.
# Other fusions, compared by tests/bench/knowledge_fusion_cv.py (5-fold CV x 10 shuffles over
# the 152 tune queries, held-out MRR): this weighted sum 0.923; min-max per query 0.917
# (vector half only 0.922); z-score 0.914; RRF, k and weight by CV, 0.899; CombMNZ 0.914;
# text weight adapted to the text half's best score 0.917, its IDF coverage 0.920, the halves'
# disagreement 0.922, its lead over the second page 0.923; top-2 chunks per half 0.915;
# geometric 0.913. None is better: on 13 of the 15 tune misses no text weight at all puts the
# expected page first (neither half ranks it first).
TEXT_WEIGHT = 0.7
# What a document's second and third best sections add to its score, as a share of theirs.
SECTION_BONUS = 0.05
# Chunks read from the HNSW index: its candidate list (ef_search) holds this many anyway.
VECTOR_CANDIDATES = 100
# Chunks read beyond `k`: one may be gone (its document replaced) since it was ranked.
SPARE = 3


@dataclass(frozen=True)
class Hit:
    document_id: int
    title: str
    source: str
    heading: str
    text: str
    score: float
    tier: str
    channel_id: str | None = None
    chunk_id: int = 0
    link: str | None = None
    similarity: float | None = None  # cosine similarity to the query, when it was measured

    @property
    def section(self) -> str:
        """The innermost heading of the chunk ("" for a document's opening text)."""
        last = self.heading.split(HEADING_SEPARATOR)[-1].strip() if self.heading else ""
        return "" if last == self.title else last


# The embedding model reads 256 tokens, and Postgres refuses a text query of thousands of
# words (18,000 pasted words: StatementTooComplex). A query is its first 2,000 characters.
MAX_QUERY_CHARS = 2000


def bounded(query: str) -> str:
    """The query as searched: stripped, at most MAX_QUERY_CHARS, cut between words."""
    query = query.strip()
    if len(query) <= MAX_QUERY_CHARS:
        return query
    cut = query[:MAX_QUERY_CHARS]
    return cut.rsplit(maxsplit=1)[0] if " " in cut else cut


@dataclass(frozen=True)
class Ranked:
    """A document's place in the results: its score and its chunks, best first."""

    document_id: int
    score: float
    chunks: list[int]


def rank_documents(
    text: TextScores,
    similar: Sequence[RankedChunk],
    *,
    mode: Mode,
    text_weight: float = TEXT_WEIGHT,
) -> list[Ranked]:
    """Documents by score, best first, each with its chunks found, best first.

    A document's score in each half is its best chunk's: BM25 (text), cosine similarity
    (vector). Hybrid: text_weight x BM25 / ideal + (1 - text_weight) x similarity, the two
    halves taken each at the document's best chunk; its chunks are ordered by the same sum
    over each chunk's own scores. Its next two chunks add SECTION_BONUS of theirs."""
    cosine = {c.id: c.score for c in similar}
    document_of = dict(text.documents)
    document_of.update((c.id, c.document_id) for c in similar)
    if mode == "text":
        chunk_score = dict(text.chunks)
    elif mode == "vector":
        chunk_score = dict(cosine)
    else:
        ideal = text.ideal or 1.0
        chunk_score = {
            chunk: text_weight * text.chunks.get(chunk, 0.0) / ideal
            + (1.0 - text_weight) * cosine.get(chunk, 0.0)
            for chunk in document_of
        }
    best_text: dict[int, float] = {}
    best_vector: dict[int, float] = {}
    chunks: dict[int, list[int]] = {}
    for chunk, document in document_of.items():
        chunks.setdefault(document, []).append(chunk)
        if chunk in text.chunks:
            best_text[document] = max(best_text.get(document, 0.0), text.chunks[chunk])
        if chunk in cosine:
            best_vector[document] = max(best_vector.get(document, -1.0), cosine[chunk])
    ranked = []
    for document, own in chunks.items():
        own.sort(key=lambda c: (-chunk_score[c], c))
        if mode == "hybrid":
            score = text_weight * best_text.get(document, 0.0) / (text.ideal or 1.0)
            score += (1.0 - text_weight) * max(best_vector.get(document, 0.0), 0.0)
        else:
            score = chunk_score[own[0]]
        # A page that answers in more than one section is a little likelier to be the one;
        # two sections at most, so that a long page cannot win by its length.
        score += SECTION_BONUS * sum(max(chunk_score[c], 0.0) for c in own[1:3])
        ranked.append(Ranked(document, score, own))
    ranked.sort(key=lambda r: (-r.score, r.document_id))
    return ranked


async def search(
    pool: AsyncConnectionPool,
    embedder: Embedder,
    query: str,
    *,
    k: int = 5,
    mode: Mode = "hybrid",
    tiers: Sequence[str] | None = None,
    channel_id: str | None = None,
    per_document: int | None = 1,
    votes: bool = True,
    text_weight: float = TEXT_WEIGHT,
) -> list[Hit]:
    """The `k` most relevant sections of the documents most relevant to `query`: documents
    best first, each with its best `per_document` sections (None: all those found), best
    first.

    `tiers` limits the tiers searched (all by default). `channel_id` limits results to
    knowledge of no channel plus that channel's; without it every channel's is searched.
    Scores are the document's: cosine similarity (vector), BM25 (text), the weighted fusion
    (hybrid, `text_weight` for the text half), each multiplied by the document's Helpful /
    Outdated weight unless `votes` is False."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    for tier in tiers or ():
        if tier not in TIERS:
            raise ValueError(f"unknown knowledge tier {tier!r}")
    query = bounded(query)
    if not query or k <= 0:
        return []
    filters = ChunkFilter(tiers, channel_id)
    space: Space | None = None
    query_vector: str | None = None

    async def by_vector() -> list[RankedChunk]:
        nonlocal space, query_vector
        vectors = await asyncio.to_thread(embedder.embed, [query])
        async with pool.connection() as conn:
            space = await find_space(conn, model_name(embedder))
            if space is None:  # nothing was ever embedded by this model
                return []
            query_vector = vector_literal(vectors[0])
            return await knowledge_search.vector_ranking(
                conn, space, query_vector, filters, max(VECTOR_CANDIDATES, 2 * k)
            )

    async def by_text() -> TextScores:
        async with pool.connection() as conn:
            return await text_scores(conn, query, filters)

    if mode == "vector":
        text, similar = NO_TEXT, await by_vector()
    elif mode == "text":
        text, similar = await by_text(), []
    else:  # the two halves run side by side, each on its own connection
        similar, text = await asyncio.gather(by_vector(), by_text())
    ranked = rank_documents(text, similar, mode=mode, text_weight=text_weight)
    if not ranked:
        return []
    async with pool.connection() as conn:
        if votes:
            weight = await weights(conn, [r.document_id for r in ranked])
            if weight:
                ranked = sorted(
                    (
                        Ranked(r.document_id, r.score * weight.get(r.document_id, 1.0), r.chunks)
                        for r in ranked
                    ),
                    key=lambda r: (-r.score, r.document_id),
                )
        chosen: list[tuple[int, float]] = []  # (chunk, its document's score), in order
        for document in ranked:
            own = document.chunks if per_document is None else document.chunks[:per_document]
            chosen += [(chunk, document.score) for chunk in own]
            if len(chosen) >= k + SPARE:
                break
        rows = {
            row.id: row
            for row in await knowledge_search.chunks_with_documents(
                conn,
                [chunk for chunk, _ in chosen],
                space=space,
                query_vector=query_vector,
            )
        }
    hits: list[Hit] = []
    for chunk_id, score in chosen:
        row = rows.get(chunk_id)
        if row is None:  # replaced by a new version since it was ranked
            continue
        hits.append(
            Hit(
                row.document_id,
                row.title,
                row.source,
                row.heading,
                row.text,
                score,
                row.tier,
                row.channel_id,
                chunk_id,
                row.link,
                row.similarity,
            )
        )
        if len(hits) == k:
            break
    return hits
