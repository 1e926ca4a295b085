"""Hybrid retrieval over knowledge chunks: pgvector HNSW (cosine) + Postgres full text, fused
by reciprocal rank fusion, filtered by tier and channel.

Only chunks of the latest version of each document exist (engine/store/knowledge.py), so no
version filter is needed. The full-text half is in engine/knowledge/fulltext.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import AsyncConnection, sql
from psycopg_pool import AsyncConnectionPool

from engine.knowledge.chunk import HEADING_SEPARATOR
from engine.knowledge.embed import Embedder, model_name
from engine.knowledge.fulltext import text_ranking
from engine.knowledge.spaces import find_space, vector_literal
from engine.knowledge.votes import weights
from engine.store.knowledge import TIERS

Mode = Literal["hybrid", "vector", "text"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "text")
RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion
MIN_CANDIDATES = 40
# HNSW candidate list; with iterative scans (pgvector 0.8) filtered queries keep scanning
# until they have enough rows, so this only trades recall against time.
EF_SEARCH = 100


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
    query = query.strip()
    if not query or k <= 0:
        return []
    wanted = max(k * 4 if per_document else k * 2, MIN_CANDIDATES)
    filters = _filters(tiers, channel_id)
    params: dict[str, Any] = {"tiers": list(tiers or ()), "channel": channel_id, "n": wanted}

    async def by_vector() -> list[tuple[int, float]]:
        vectors = await asyncio.to_thread(embedder.embed, [query])
        async with pool.connection() as conn:
            return await _vector_ranking(
                conn, model_name(embedder), vector_literal(vectors[0]), filters, params
            )

    async def by_text() -> list[tuple[int, float]]:
        async with pool.connection() as conn:
            return await text_ranking(conn, query, filters, params)

    if mode == "vector":
        scored = similar = await by_vector()
    elif mode == "text":
        scored, similar = await by_text(), []
    else:  # the two rankings run side by side, each on its own connection
        similar, text_ranked = await asyncio.gather(by_vector(), by_text())
        scored = _fuse(similar, text_ranked)
    async with pool.connection() as conn:
        return await _hits(conn, scored, dict(similar), k, per_document, votes)


def _filters(tiers: Sequence[str] | None, channel_id: str | None) -> sql.Composable:
    clauses: list[sql.Composable] = []
    if tiers is not None:
        clauses.append(sql.SQL("tier = ANY(%(tiers)s)"))
    if channel_id is not None:
        clauses.append(sql.SQL("(channel_id IS NULL OR channel_id = %(channel)s)"))
    if not clauses:
        return sql.SQL("TRUE")
    return sql.SQL(" AND ").join(clauses)


async def _vector_ranking(
    conn: AsyncConnection,
    model: str,
    query_vector: str,
    filters: sql.Composable,
    params: dict[str, Any],
) -> list[tuple[int, float]]:
    """(chunk id, cosine similarity), nearest first, by this model's embeddings."""
    space = await find_space(conn, model)
    if space is None:  # nothing was ever embedded by this model
        return []
    distance = space.distance("query")
    # Relaxed iterative scans return rows almost in order: sort them again outside.
    statement = sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT id, {distance} AS distance FROM knowledge_chunks"
        " WHERE {space} AND {filters} ORDER BY {distance} LIMIT %(n)s)"
        " SELECT id, 1 - distance FROM candidates ORDER BY distance, id"
    ).format(distance=distance, space=space.predicate, filters=filters)
    async with conn.transaction():
        await conn.execute(
            sql.SQL(
                "SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = relaxed_order"
            ).format(sql.Literal(EF_SEARCH))
        )
        cur = await conn.execute(statement, {**params, "query": query_vector})
        return [(int(row[0]), float(row[1])) for row in await cur.fetchall()]


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
    cur = await conn.execute(
        "SELECT c.id, c.document_id, d.title, d.source, c.heading, c.text, c.tier, c.channel_id,"
        " d.link FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id"
        " WHERE c.id = ANY(%s)",
        ([chunk_id for chunk_id, _ in scored],),
    )
    rows = {row[0]: row for row in await cur.fetchall()}
    if votes:
        weight = await weights(conn, sorted({row[1] for row in rows.values()}))
        scored = sorted(
            (
                (chunk_id, score * weight.get(rows[chunk_id][1], 1.0))
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
        _, document_id, title, source, heading, text, tier, channel, link = row
        if per_document is not None and per_doc.get(document_id, 0) >= per_document:
            continue
        per_doc[document_id] = per_doc.get(document_id, 0) + 1
        hits.append(
            Hit(
                document_id,
                title,
                source,
                heading,
                text,
                score,
                tier,
                channel,
                chunk_id,
                link,
                similarity.get(chunk_id),
            )
        )
        if len(hits) == k:
            break
    return hits
