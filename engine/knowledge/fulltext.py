"""The full-text half of knowledge search (Postgres tsvector, GIN index).

Chunks are ranked on all of the query's words (an OR of its lexemes), so a symptom described
in other words than the runbook's still finds it; those holding the query as a phrase (a
pasted error message) get that phrase's rank on top. Frequency ranking (ts_rank) beat cover
density (ts_rank_cd) on our symptom queries: with an OR query, covers are single words.

Ranking every chunk that shares one common word ("pod", "connection") with the query reads
most of a large corpus: 70,000 of 100,000 chunks, over a second. So the rows to rank are
chosen by the query's rarest words, using the lexeme frequencies that ANALYZE keeps for the
tsvector column (pg_stats.most_common_elems): words are added rarest first while the
estimated rows stay within a budget; when even the rarest word alone selects too many rows
(counted, up to the budget), the rarest words must appear together, one more at a time.
Common words still count in the rank. A small table is ranked whole.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql

# Estimated rows ranked per query: a few tens of microseconds each.
CANDIDATE_BUDGET = 1000

_ANY_WORD = "replace(plainto_tsquery('english', %(text)s)::text, ' & ', ' | ')::tsquery"
_PHRASE = "phraseto_tsquery('english', %(text)s)"

_WORD_FREQUENCIES = """
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


def _lexeme(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'"


def candidate_queries(words: list[tuple[str, float]], total: float, budget: int) -> list[str]:
    """tsqueries that select the rows to rank, to be tried in order until one selects at most
    `budget` rows. `words` are (lexeme, estimated fraction of rows). First the rarest words
    ORed while the estimate allows; then the rarest word alone, then with the next rarest,
    and so on: more words required, fewer rows, until every word is."""
    ranked = sorted(words, key=lambda w: (w[1], w[0]))
    chosen: list[str] = []
    estimate = 0.0
    for word, freq in ranked:
        if chosen and estimate + freq * total > budget:
            break
        chosen.append(word)
        estimate += freq * total
    queries = [" | ".join(_lexeme(w) for w in chosen)]
    for size in range(1, len(ranked) + 1):
        query = " & ".join(_lexeme(w) for w, _ in ranked[:size])
        if query not in queries:
            queries.append(query)
    return queries


async def text_ranking(
    conn: AsyncConnection, query: str, filters: sql.Composable, params: dict[str, Any]
) -> list[tuple[int, float]]:
    """(chunk id, rank), best first, at most `params["n"]`. Rank normalisation 1 divides by
    1 + log(length), so a long chunk does not win by repeating a word."""
    cur = await conn.execute(_WORD_FREQUENCIES, {"text": query})
    rows = await cur.fetchall()
    if not rows:  # only stop words
        return []
    total = float(rows[0][2] or 0)
    queries = candidate_queries([(r[0], float(r[1])) for r in rows], total, CANDIDATE_BUDGET)
    candidates = queries[0]
    if total > CANDIDATE_BUDGET:
        # Frequencies are estimates and words of one runbook come together (their ANDs select
        # more than independent words would): count, up to the budget, before ranking.
        probe = sql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM knowledge_chunks"
            " WHERE tsv @@ %(candidates)s::tsquery AND {filters} LIMIT %(limit)s) AS probe"
        ).format(filters=filters)
        for candidates in queries:
            cur = await conn.execute(
                probe, {**params, "candidates": candidates, "limit": CANDIDATE_BUDGET + 1}
            )
            found = await cur.fetchone()
            if found is not None and found[0] <= CANDIDATE_BUDGET:
                break
    # Every query word in the rows to rank and still too many: rank a bounded share of them.
    statement = sql.SQL(
        "WITH candidates AS MATERIALIZED ("
        " SELECT id, tsv FROM knowledge_chunks"
        " WHERE tsv @@ %(candidates)s::tsquery AND {filters} LIMIT %(cap)s)"
        " SELECT id, ts_rank(tsv, {words}, 1) + ts_rank(tsv, {phrase}, 1) AS rank"
        " FROM candidates ORDER BY rank DESC, id LIMIT %(n)s"
    ).format(words=sql.SQL(_ANY_WORD), phrase=sql.SQL(_PHRASE), filters=filters)
    cur = await conn.execute(
        statement,
        {**params, "text": query, "candidates": candidates, "cap": CANDIDATE_BUDGET},
    )
    return [(int(row[0]), float(row[1])) for row in await cur.fetchall()]
