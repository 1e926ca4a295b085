"""Queries of knowledge search: chunks nearest to a query vector (pgvector HNSW, cosine),
the frequencies of the query's words in the chunks that hold them (tsvector, GIN: weighted
by field, for BM25), and the chunks found with their documents.

How documents are scored, fused and weighed is engine/knowledge/search.py; which rows the
full-text half reads, and its BM25, is engine/knowledge/fulltext.py. Filters and the
embedding space's cast are composed with `psycopg.sql`: the planner must see the space's
index predicate as a literal, and a filter left out must not be in the statement at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import class_row

from engine.store.knowledge_spaces import Space

# HNSW candidate list; with iterative scans (pgvector 0.8) filtered queries keep scanning
# until they have enough rows, so this only trades recall against time.
EF_SEARCH = 100

SEARCH_SETTINGS = sql.SQL(
    "SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = relaxed_order"
).format(sql.Literal(EF_SEARCH))

# The query's lexemes: its words and the words inside its identifiers (KubeJobFailed ->
# kube job failed), split by the function the chunks' full text is built with
# (migrations/0007_knowledge_fields.sql).
_QUERY_TSVECTOR = "to_tsvector('english', %(text)s || ' ' || knowledge_identifier_words(%(text)s))"

# Each lexeme of the query with the fraction of chunks estimated to hold it, from the lexeme
# frequencies ANALYZE keeps for the tsvector column, and the table's row count (estimated
# once analysed, counted before).
WORD_FREQUENCIES = f"""
WITH words AS (
    SELECT DISTINCT word FROM unnest(tsvector_to_array({_QUERY_TSVECTOR})) word
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
       (SELECT CASE WHEN reltuples > 0 THEN reltuples
                    ELSE (SELECT count(*) FROM knowledge_chunks) END
        FROM pg_class WHERE oid = 'knowledge_chunks'::regclass) AS total,
       -- counted, not estimated: the planner's estimate lags an import until autovacuum
       -- analyses the table, and IDF with a stale count ranks differently from one import
       -- to the next (a count of the documents table is cheap: thousands of rows)
       (SELECT count(*) FROM knowledge_documents) AS documents
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
    document_id: int
    score: float


@dataclass(frozen=True)
class WordFrequency:
    word: str
    freq: float  # estimated fraction of chunks holding the word
    total: float | None  # estimated chunks in the table
    documents: float | None  # estimated documents


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
    similarity: float | None = None  # cosine similarity to the query vector, when one is given


@dataclass(frozen=True)
class TermFrequencies:
    """How often each of the query's words occurs in one chunk, for BM25."""

    id: int
    document_id: int
    length: int  # distinct lexemes of the chunk's full text, all fields
    frequencies: list[float]  # per word asked, its occurrences each counted by its field's weight


def vector_ranking_statement(space: Space, filters: ChunkFilter) -> sql.Composed:
    distance = space.distance("query")
    # Relaxed iterative scans return rows almost in order: sort them again outside.
    return sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT id, document_id, {distance} AS distance FROM knowledge_chunks"
        " WHERE {space} AND {filters} ORDER BY {distance} LIMIT %(n)s)"
        " SELECT id, document_id, 1 - distance AS score FROM candidates ORDER BY distance, id"
    ).format(distance=distance, space=space.predicate, filters=filters.clause())


async def vector_ranking(
    conn: AsyncConnection, space: Space, query_vector: str, filters: ChunkFilter, limit: int
) -> list[RankedChunk]:
    """Chunks by cosine similarity to `query_vector` (pgvector text), nearest first, among
    those embedded in `space`."""
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


def term_frequencies_statement(filters: ChunkFilter) -> sql.Composed:
    # ts_rank_cd of a one-word query, unnormalised, is the sum of the weights of the word's
    # occurrences (each is a cover of its own): its frequency with each occurrence counted by
    # its field's weight, found by a binary search of the tsvector.
    return sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT id, document_id, tsv FROM knowledge_chunks"
        " WHERE tsv @@ %(candidates)s::tsquery AND {filters} LIMIT %(cap)s)"
        " SELECT id, document_id, length(tsv) AS length,"
        " array(SELECT ts_rank_cd(%(weights)s::float4[], tsv, w.word, 0)"
        "  FROM unnest(%(words)s::tsquery[]) WITH ORDINALITY AS w(word, n) ORDER BY w.n)"
        " AS frequencies"
        " FROM candidates"
    ).format(filters=filters.clause())


async def term_frequencies(
    conn: AsyncConnection,
    words: list[str],
    weights: list[float],
    *,
    candidates: str,
    filters: ChunkFilter,
    cap: int,
) -> list[TermFrequencies]:
    """For (at most `cap` of) the chunks the tsquery `candidates` selects, the frequency of
    each of `words` (one-lexeme tsqueries), its occurrences counted by `weights` (of fields
    D, C, B, A, as ts_rank_cd takes them: each at most 1)."""
    async with conn.cursor(row_factory=class_row(TermFrequencies)) as cur:
        await cur.execute(
            term_frequencies_statement(filters),
            {
                **filters.params(),
                "words": words,
                "weights": weights,
                "candidates": candidates,
                "cap": cap,
            },
        )
        return await cur.fetchall()


def chunks_with_documents_statement(space: Space | None) -> sql.Composed:
    similarity: sql.Composable = sql.SQL("NULL::float8")
    if space is not None:
        similarity = sql.SQL("CASE WHEN c.{predicate} THEN 1 - {distance} END").format(
            predicate=space.predicate, distance=space.distance("query")
        )
    return sql.SQL(
        "SELECT c.id, c.document_id, d.title, d.source, c.heading, c.text, c.tier,"
        " c.channel_id, d.link, {similarity} AS similarity"
        " FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id"
        " WHERE c.id = ANY(%(ids)s)"
    ).format(similarity=similarity)


async def chunks_with_documents(
    conn: AsyncConnection,
    chunk_ids: list[int],
    *,
    space: Space | None = None,
    query_vector: str | None = None,
) -> list[ChunkWithDocument]:
    """These chunks (those still stored) with the title, source and link of their document;
    with the cosine similarity of each to `query_vector` (embedded in `space`) when given."""
    if query_vector is None:
        space = None
    async with conn.cursor(row_factory=class_row(ChunkWithDocument)) as cur:
        await cur.execute(
            chunks_with_documents_statement(space), {"ids": chunk_ids, "query": query_vector}
        )
        return await cur.fetchall()
