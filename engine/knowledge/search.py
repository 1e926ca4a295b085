"""Hybrid retrieval over knowledge chunks: pgvector HNSW (cosine) + Postgres full text, fused
by reciprocal rank fusion, filtered by tier and channel.

Only chunks of the latest version of each document exist (engine/store/knowledge.py), so no
version filter is needed. The full-text half is in engine/knowledge/fulltext.py; the
statements are in engine/store/knowledge_search.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from engine.knowledge.chunk import HEADING_SEPARATOR
from engine.knowledge.embed import Embedder, model_name
from engine.knowledge.fulltext import text_ranking
from engine.knowledge.votes import weights
from engine.store import knowledge_search
from engine.store.knowledge import TIERS
from engine.store.knowledge_search import ChunkFilter, RankedChunk
from engine.store.knowledge_spaces import vector_literal

Mode = Literal["hybrid", "vector", "text"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "text")
RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion
MIN_CANDIDATES = 40


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


def _bounded(query: str) -> str:
    if len(query) <= MAX_QUERY_CHARS:
        return query
    cut = query[:MAX_QUERY_CHARS]
    return cut.rsplit(maxsplit=1)[0] if " " in cut else cut


async def search(
    pool: AsyncConnectionPool,
    embedder: Embedder,
    query: str,
    *,
    k: int = 5,
    mode: Mode = "hybrid",
    tiers: Sequence[str] | None = None,
    channel_id: str | None = None,
    per_document: int | None = None,
    votes: bool = True,
) -> list[Hit]:
    """The `k` chunks most relevant to `query`, best first.

    `tiers` limits the tiers searched (all by default). `channel_id` limits results to
    knowledge of no channel plus that channel's; without it every channel's is searched.
    `per_document` caps the chunks of one document (None: no cap). Scores: cosine similarity
    (vector), text rank (text), reciprocal-rank-fusion sum (hybrid), each multiplied by the
    document's Helpful / Outdated weight unless `votes` is False."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}: use one of {', '.join(MODES)}")
    for tier in tiers or ():
        if tier not in TIERS:
            raise ValueError(f"unknown knowledge tier {tier!r}")
    query = _bounded(query.strip())
    if not query or k <= 0:
        return []
    wanted = max(k * 4 if per_document else k * 2, MIN_CANDIDATES)
    filters = ChunkFilter(tiers, channel_id)

    async def by_vector() -> list[tuple[int, float]]:
        vectors = await asyncio.to_thread(embedder.embed, [query])
        async with pool.connection() as conn:
            ranked = await knowledge_search.vector_ranking(
                conn, model_name(embedder), vector_literal(vectors[0]), filters, wanted
            )
        return _pairs(ranked)

    async def by_text() -> list[tuple[int, float]]:
        async with pool.connection() as conn:
            return _pairs(await text_ranking(conn, query, filters, wanted))

    if mode == "vector":
        scored = similar = await by_vector()
    elif mode == "text":
        scored, similar = await by_text(), []
    else:  # the two rankings run side by side, each on its own connection
        similar, text_ranked = await asyncio.gather(by_vector(), by_text())
        scored = _fuse(similar, text_ranked)
    async with pool.connection() as conn:
        return await _hits(conn, scored, dict(similar), k, per_document, votes)


def _pairs(ranked: list[RankedChunk]) -> list[tuple[int, float]]:
    return [(chunk.id, float(chunk.score)) for chunk in ranked]


def _fuse(*rankings: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: sum of 1 / (60 + rank) over the rankings a chunk is in."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


async def _hits(
    conn: AsyncConnection,
    scored: list[tuple[int, float]],
    similarity: dict[int, float],
    k: int,
    per_document: int | None,
    votes: bool,
) -> list[Hit]:
    if not scored:
        return []
    found = await knowledge_search.chunks_with_documents(conn, [chunk_id for chunk_id, _ in scored])
    rows = {chunk.id: chunk for chunk in found}
    if votes:
        weight = await weights(conn, sorted({chunk.document_id for chunk in found}))
        scored = sorted(
            (
                (chunk_id, score * weight.get(rows[chunk_id].document_id, 1.0))
                for chunk_id, score in scored
                if chunk_id in rows
            ),
            key=lambda item: (-item[1], item[0]),
        )
    hits: list[Hit] = []
    per_doc: dict[int, int] = {}
    for chunk_id, score in scored:
        row = rows.get(chunk_id)
        if row is None:  # replaced by a new version since it was ranked
            continue
        if per_document is not None and per_doc.get(row.document_id, 0) >= per_document:
            continue
        per_doc[row.document_id] = per_doc.get(row.document_id, 0) + 1
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
                similarity.get(chunk_id),
            )
        )
        if len(hits) == k:
            break
    return hits
