"""Queries of knowledge search: chunks nearest to a query vector (pgvector HNSW, cosine),
chunks ranked by full text (tsvector, GIN), and the chunks found with their documents.

How the rankings are fused and weighed is engine/knowledge/search.py; which rows the
full-text ranking reads is decided by engine/knowledge/fulltext.py. Filters and the
embedding space's cast are composed with `psycopg.sql`: the planner must see the space's
index predicate as a literal, and a filter left out must not be in the statement at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import class_row

from engine.store.knowledge_spaces import Space, find_space

# HNSW candidate list; with iterative scans (pgvector 0.8) filtered queries keep scanning
# until they have enough rows, so this only trades recall against time.
EF_SEARCH = 100

SEARCH_SETTINGS = sql.SQL(
    "SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = relaxed_order"
).format(sql.Literal(EF_SEARCH))

# All of the query's words (an OR of its lexemes), and the query as a phrase.
_ANY_WORD = "replace(plainto_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery"
_PHRASE = "phraseto_tsquery('english', %(text)s)"

# Each word of the query with the fraction of chunks estimated to hold it, from the lexeme
# frequencies ANALYZE keeps for the tsvector column, and the table's estimated row count.
WORD_FREQUENCIES = """
WITH words AS (
    SELECT DISTINCT word FROM unnest(tsvector_to_array(to_tsvector('english', %(text)s))) word
), stats AS (
    SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs
    FROM pg_stats s
    WHERE s.schemaname = current_schema() AND s.tablename = 'knowledge_chunks'
      AND s.attname = 'tsv'
)
SELECT w.word,
       coalesce(
           (SELECT st.freqs[array_position(st.elems, w.word)] FROM stats st
            WHERE w.word = ANY(st.elems)),
           -- not among the most common: at most as frequent as the least common listed
           (SELECT st.freqs[array_length(st.elems, 1) + 1] FROM stats st),
           0
       ) AS freq,
       (SELECT greatest(reltuples, 0) FROM pg_class
        WHERE oid = 'knowledge_chunks'::regclass) AS total
FROM words w
"""


@dataclass(frozen=True)
class ChunkFilter:
    """Which chunks a search reads: of these tiers (all when None), and of no channel or
    this one (every channel's when None)."""

    tiers: Sequence[str] | None = None
    channel_id: str | None = None

    def clause(self) -> sql.Composable:
        clauses: list[sql.Composable] = []
        if self.tiers is not None:
            clauses.append(sql.SQL("tier = ANY(%(tiers)s)"))
        if self.channel_id is not None:
            clauses.append(sql.SQL("(channel_id IS NULL OR channel_id = %(channel)s)"))
        if not clauses:
            return sql.SQL("TRUE")
        return sql.SQL(" AND ").join(clauses)

    def params(self) -> dict[str, Any]:
        return {"tiers": list(self.tiers or ()), "channel": self.channel_id}


@dataclass(frozen=True)
class RankedChunk:
    id: int
    score: float


@dataclass(frozen=True)
class WordFrequency:
    word: str
    freq: float  # estimated fraction of chunks holding the word
    total: float | None  # estimated chunks in the table


@dataclass(frozen=True)
class ChunkWithDocument:
    id: int
    document_id: int
    title: str
    source: str
    heading: str
    text: str
    tier: str
    channel_id: str | None
    link: str | None


def vector_ranking_statement(space: Space, filters: ChunkFilter) -> sql.Composed:
    distance = space.distance("query")
    # Relaxed iterative scans return rows almost in order: sort them again outside.
    return sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT id, {distance} AS distance FROM knowledge_chunks"
        " WHERE {space} AND {filters} ORDER BY {distance} LIMIT %(n)s)"
        " SELECT id, 1 - distance AS score FROM candidates ORDER BY distance, id"
    ).format(distance=distance, space=space.predicate, filters=filters.clause())


async def vector_ranking(
    conn: AsyncConnection, model: str, query_vector: str, filters: ChunkFilter, limit: int
) -> list[RankedChunk]:
    """Chunks by cosine similarity to `query_vector` (pgvector text), nearest first, among
    those embedded by `model`."""
    space = await find_space(conn, model)
    if space is None:  # nothing was ever embedded by this model
        return []
    async with conn.transaction(), conn.cursor(row_factory=class_row(RankedChunk)) as cur:
        await cur.execute(SEARCH_SETTINGS)
        await cur.execute(
            vector_ranking_statement(space, filters),
            {**filters.params(), "n": limit, "query": query_vector},
        )
        return await cur.fetchall()


async def word_frequencies(conn: AsyncConnection, text: str) -> list[WordFrequency]:
    """The lexemes of `text` (none when it holds only stop words) and their frequencies."""
    async with conn.cursor(row_factory=class_row(WordFrequency)) as cur:
        await cur.execute(WORD_FREQUENCIES, {"text": text})
        return await cur.fetchall()


def count_candidates_statement(filters: ChunkFilter) -> sql.Composed:
    return sql.SQL(
        "SELECT count(*) FROM (SELECT 1 FROM knowledge_chunks"
        " WHERE tsv @@ %(candidates)s::tsquery AND {filters} LIMIT %(limit)s) AS probe"
    ).format(filters=filters.clause())


async def count_candidates(
    conn: AsyncConnection, candidates: str, filters: ChunkFilter, limit: int
) -> int:
    """How many chunks the tsquery `candidates` selects, counted up to `limit`."""
    cur = await conn.execute(
        count_candidates_statement(filters),
        {**filters.params(), "candidates": candidates, "limit": limit},
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


def text_ranking_statement(filters: ChunkFilter) -> sql.Composed:
    # Rank normalisation 1 divides by 1 + log(length), so a long chunk does not win by
    # repeating a word.
    return sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT id, tsv FROM knowledge_chunks"
        " WHERE tsv @@ %(candidates)s::tsquery AND {filters} LIMIT %(cap)s)"
        " SELECT id, ts_rank(tsv, {words}, 1) + ts_rank(tsv, {phrase}, 1) AS score"
        " FROM candidates ORDER BY score DESC, id LIMIT %(n)s"
    ).format(words=sql.SQL(_ANY_WORD), phrase=sql.SQL(_PHRASE), filters=filters.clause())


async def text_ranking(
    conn: AsyncConnection,
    text: str,
    *,
    candidates: str,
    filters: ChunkFilter,
    cap: int,
    limit: int,
) -> list[RankedChunk]:
    """The best `limit` of (at most `cap` of) the chunks the tsquery `candidates` selects,
    ranked on the words of `text` plus `text` as a phrase."""
    async with conn.cursor(row_factory=class_row(RankedChunk)) as cur:
        await cur.execute(
            text_ranking_statement(filters),
            {**filters.params(), "text": text, "candidates": candidates, "cap": cap, "n": limit},
        )
        return await cur.fetchall()


async def chunks_with_documents(
    conn: AsyncConnection, chunk_ids: list[int]
) -> list[ChunkWithDocument]:
    """These chunks (those still stored) with the title, source and link of their document."""
    async with conn.cursor(row_factory=class_row(ChunkWithDocument)) as cur:
        await cur.execute(
            "SELECT c.id, c.document_id, d.title, d.source, c.heading, c.text, c.tier,"
            " c.channel_id, d.link"
            " FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id"
            " WHERE c.id = ANY(%(ids)s)",
            {"ids": chunk_ids},
        )
        return await cur.fetchall()
