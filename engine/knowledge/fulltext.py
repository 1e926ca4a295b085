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
Common words still count in the rank. A small table is ranked whole. The statements are in
engine/store/knowledge_search.py.
"""

from __future__ import annotations

from psycopg import AsyncConnection

from engine.store import knowledge_search
from engine.store.knowledge_search import ChunkFilter, RankedChunk

# Estimated rows ranked per query: a few tens of microseconds each.
CANDIDATE_BUDGET = 1000


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
    conn: AsyncConnection, query: str, filters: ChunkFilter, limit: int
) -> list[RankedChunk]:
    """Chunks by text rank, best first, at most `limit`."""
    words = await knowledge_search.word_frequencies(conn, query)
    if not words:  # only stop words
        return []
    total = float(words[0].total or 0)
    queries = candidate_queries([(w.word, float(w.freq)) for w in words], total, CANDIDATE_BUDGET)
    candidates = queries[0]
    if total > CANDIDATE_BUDGET:
        # Frequencies are estimates and words of one runbook come together (their ANDs select
        # more than independent words would): count, up to the budget, before ranking.
        for candidates in queries:
            found = await knowledge_search.count_candidates(
                conn, candidates, filters, CANDIDATE_BUDGET + 1
            )
            if found <= CANDIDATE_BUDGET:
                break
    # Every query word in the rows to rank and still too many: rank a bounded share of them.
    return await knowledge_search.text_ranking(
        conn, query, candidates=candidates, filters=filters, cap=CANDIDATE_BUDGET, limit=limit
    )
