"""The full-text half of knowledge search: BM25 over fields, on Postgres's tsvector (GIN).

Each chunk's full text holds four fields, told apart by the tsvector's weights
(migrations/0007_knowledge_fields.sql): A its document's title, B its heading path, C the
words inside the identifiers it names (KubeJobFailed -> kube job failed, pm.max_children ->
pm max children), D its text. The query's identifiers are split by the same function.

Postgres's ts_rank is no BM25: it has no inverse document frequency (a word in every chunk
counts like a word in one) and no term-frequency saturation. So the chunks that hold the
query's words come back with each word's frequency, its occurrences counted by field
weight (ts_rank_cd of the word alone, a lookup in the tsvector), and are scored here
with BM25F as Elasticsearch's combined_fields does it: a word's frequency is the sum of its
occurrences weighted by field (a title word counts twice), then saturated by k1 and
normalised by the chunk's length (b) once, over all fields, and weighed by the word's IDF.
Search ranks documents, and a document's title is on each of its chunks, so IDF counts
documents, not chunks: a title word of a 30-section page is not common for being on 30
chunks. IDF and the average length come from the candidates themselves: when they are every
chunk that holds any query word, a word's document frequency among them is exact; when a
large table forces fewer candidates (below), the lexeme frequencies that ANALYZE keeps stand
in for the words left out.

Scoring every chunk that shares one common word ("pod", "connection") with the query reads
most of a large corpus: 70,000 of 100,000 chunks, over a second. So the rows to score are
chosen by the query's rarest words, using those frequencies (pg_stats.most_common_elems):
words are added rarest first while the estimated rows stay within a budget; when even the
rarest word alone selects too many rows (counted, up to the budget), the rarest words must
appear together, one more at a time. Common words still count in the score. A small table is
scored whole. The statements are in engine/store/knowledge_search.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import AsyncConnection

from engine.store import knowledge_search
from engine.store.knowledge_search import ChunkFilter, TermFrequencies

# Estimated rows scored per query: a few microseconds each (a lookup per query word), and
# search at 100,000 chunks must answer within 50 ms (tests/bench/bench_knowledge.py).
CANDIDATE_BUDGET = 500
MAX_QUERY_WORDS = 24  # distinct words of a query scored; people's queries have fewer

# BM25's term-frequency saturation (the usual k1) and length normalisation: b lower than the
# usual 0.75, since the chunker bounds a chunk's length (1,200 characters) and a long chunk
# is rarely a verbose one.
K1 = 1.2
B = 0.5
# How many times an occurrence counts, per field (tsvector weight): a runbook's title and
# headings say what it is about, and an identifier names a thing; its text mentions many
# things in passing. Modest: on the tune queries of tests/bench/bench_knowledge.py, boosts
# from 1 to 5 moved MRR by about one query in a hundred.
FIELD_WEIGHTS: dict[str, float] = {"A": 2.0, "B": 1.5, "C": 1.5, "D": 1.0}


@dataclass(frozen=True)
class TextScores:
    """BM25 of the chunks holding the query's words; `ideal` is the score of a chunk that
    held every query word many times: scores divided by it lie in [0, 1)."""

    chunks: dict[int, float]
    documents: dict[int, int]  # chunk id -> document id
    ideal: float


NO_TEXT = TextScores({}, {}, 0.0)


def _lexeme(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'"


def _rarest(words: list[tuple[str, float]], total: float, budget: int) -> list[str]:
    """The rarest words, added while their estimated rows stay within `budget` (one at least)."""
    chosen: list[str] = []
    estimate = 0.0
    for word, freq in sorted(words, key=lambda w: (w[1], w[0])):
        if chosen and estimate + freq * total > budget:
            break
        chosen.append(word)
        estimate += freq * total
    return chosen


def candidate_queries(words: list[tuple[str, float]], total: float, budget: int) -> list[str]:
    """tsqueries that select the rows to score, to be tried in order until one selects at
    most `budget` rows. `words` are (lexeme, estimated fraction of rows). First the rarest
    words ORed while the estimate allows; then the rarest word alone, then with the next
    rarest, and so on: more words required, fewer rows, until every word is."""
    ranked = sorted(words, key=lambda w: (w[1], w[0]))
    queries = [" | ".join(_lexeme(w) for w in _rarest(words, total, budget))]
    for size in range(1, len(ranked) + 1):
        query = " & ".join(_lexeme(w) for w, _ in ranked[:size])
        if query not in queries:
            queries.append(query)
    return queries


def idf(document_frequency: float, total: float) -> float:
    """BM25's inverse document frequency (Lucene's form, never negative)."""
    return math.log(1.0 + (total - document_frequency + 0.5) / (document_frequency + 0.5))


def bm25(
    found: Sequence[TermFrequencies],
    query_words: Sequence[str],
    documents: float,
    *,
    known_frequency: dict[str, float] | None = None,
    scale: float = 1.0,
) -> TextScores:
    """BM25F of each chunk of `found` for the lexemes `query_words` (its `frequencies` are
    theirs, in that order, field-weighted, times `scale`), in a corpus of `documents`
    documents. A word's document frequency is the number of documents of the `found` chunks
    holding it, or its `known_frequency` (estimated documents) when that is larger: `found`
    may not be all of them."""
    if not found:
        return NO_TEXT
    holding: dict[str, set[int]] = {word: set() for word in query_words}
    for chunk in found:
        for word, frequency in zip(query_words, chunk.frequencies, strict=True):
            if frequency > 0:
                holding[word].add(chunk.document_id)
    df = {word: float(len(ids)) for word, ids in holding.items()}
    for word, estimate in (known_frequency or {}).items():
        if word in df:
            df[word] = max(df[word], estimate)
    documents = max(documents, float(len({chunk.document_id for chunk in found})))
    weight = [idf(df[word], documents) for word in query_words]
    average = sum(chunk.length for chunk in found) / len(found) or 1.0
    scores: dict[int, float] = {}
    for chunk in found:
        norm = K1 * (1.0 - B + B * chunk.length / average)
        score = 0.0
        for idf_, frequency in zip(weight, chunk.frequencies, strict=True):
            tf = frequency * scale
            score += idf_ * tf * (K1 + 1.0) / (tf + norm)
        scores[chunk.id] = score
    # Each word adds less than idf x (k1 + 1), however often it occurs.
    ideal = sum(weight) * (K1 + 1.0)
    return TextScores(scores, {c.id: c.document_id for c in found}, ideal)


async def text_scores(conn: AsyncConnection, query: str, filters: ChunkFilter) -> TextScores:
    """BM25 of the chunks (at most about CANDIDATE_BUDGET) that hold the query's words."""
    words = await knowledge_search.word_frequencies(conn, query)
    if not words:  # only stop words
        return NO_TEXT
    if len(words) > MAX_QUERY_WORDS:
        # A case's own text as the query (a turn's related knowledge) holds a hundred words;
        # each costs a pass over every candidate. The rarest carry the score: keep those.
        words = sorted(words, key=lambda w: (float(w.freq), w.word))[:MAX_QUERY_WORDS]
    total = float(words[0].total or 0)
    estimates = [(w.word, float(w.freq)) for w in words]
    queries = candidate_queries(estimates, total, CANDIDATE_BUDGET)
    candidates = queries[0]
    if total > CANDIDATE_BUDGET:
        # Frequencies are estimates and words of one runbook come together (their ANDs select
        # more than independent words would): count, up to the budget, before scoring.
        for candidates in queries:
            found = await knowledge_search.count_candidates(
                conn, candidates, filters, CANDIDATE_BUDGET + 1
            )
            if found <= CANDIDATE_BUDGET:
                break
    # Every query word in the rows to score and still too many: score a bounded share.
    lexemes = [w.word for w in words]
    scale = max(FIELD_WEIGHTS.values())  # ts_rank_cd takes weights up to 1
    counts = await knowledge_search.term_frequencies(
        conn,
        [_lexeme(word) for word in lexemes],
        [FIELD_WEIGHTS[field] / scale for field in "DCBA"],
        candidates=candidates,
        filters=filters,
        cap=CANDIDATE_BUDGET,
    )
    # When the rarest words ORed selected the rows, and not too many, every chunk holding one
    # of them was scored: their document frequencies are exact. Other words' are estimated
    # (a word on a share of the chunks is on at least that share of the documents).
    exact: set[str] = set()
    if candidates == queries[0] and len(counts) < CANDIDATE_BUDGET:
        exact = set(_rarest(estimates, total, CANDIDATE_BUDGET))
    documents = float(words[0].documents or 0)
    known = {w.word: float(w.freq) * documents for w in words if w.word not in exact}
    return bm25(counts, lexemes, documents, known_frequency=known, scale=scale)
