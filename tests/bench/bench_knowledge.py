"""Retrieval benchmark of engine/knowledge: quality per corpus and search mode beside plain
BM25, the fusion weight chosen by cross-validation, then scale.

Run: .venv/bin/python tests/bench/bench_knowledge.py [--chunks N] [--skip-scale] [--show-misses]

Quality, on two corpora, each in its own database, imported as a user imports runbooks:
- ours: the runbooks of knowledge_corpus/ (written for this benchmark, with deliberate
  confusers: Postgres vs MySQL vs PgBouncer vs SQLAlchemy connection limits, container vs host
  OOM vs Redis maxmemory vs JVM heap, ...) and the labelled queries of knowledge_queries.yaml
  (log lines, paraphrased symptoms, keywords); its tune / report halves are the queries at
  even / odd places of the file.
- alerts: a real public corpus, the ~1,150 alert rules of "Awesome Prometheus alerts"
  (CC BY 4.0) as one page per service (alert_rules.py), read from
  ../shared/data/awesome-prometheus-alerts/ (skipped, with the reason, when absent), and the
  symptom queries of knowledge_queries_alerts.yaml (firing alerts, error lines, incident
  chat), written before any tuning and split into tune and report queries.
Every query runs with search(k=10, per_document=1) in each mode and through a plain BM25 (the
peer: Okapi BM25, k1 1.2, b 0.75, over each document's whole text with Postgres's english
analyzer: no fields, no identifier splitting, no vectors). R@1 / R@3: the share of queries
with an expected document first / among the first three documents; MRR: the mean of 1/rank
of the first expected document within ten (0 when none).

Fusion weight: hybrid search runs with the text half's weight at 0, 0.1, ... 1 on the tune
queries of both corpora; 5-fold cross-validation over those queries picks the weight on four
folds (best MRR) and measures it on the fifth. The weight search.py ships (TEXT_WEIGHT) is
printed beside the one the tune queries choose. Report queries never choose anything.

Scale. N generated chunks (default 100,000; clustered synthetic embeddings, see
knowledge_synthetic.py) are COPYed in, then the HNSW and GIN indexes are rebuilt. 200 queries
(the labelled ones, then 8-word snippets of corpus text) measure: query embedding alone; the
HNSW SQL at ef_search 40 (pgvector's default), the search module's setting and 200; search() per
mode with the query vector precomputed (database time); hybrid search() end to end; exact
search SQL (index scans off) on a few queries; and recall@10 of HNSW against exact search
(numpy brute force over every stored vector).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from psycopg import AsyncConnection, sql  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402

from engine.knowledge.documents import import_document  # noqa: E402
from engine.knowledge.embed import Embedder, load_embedder, model_name  # noqa: E402
from engine.knowledge.files import LocalDocument, read_documents  # noqa: E402
from engine.knowledge.search import MODES, TEXT_WEIGHT, Hit, search  # noqa: E402
from engine.ops.embedded import EmbeddedServices  # noqa: E402
from engine.store.db import open_pool  # noqa: E402
from engine.store.knowledge_search import EF_SEARCH  # noqa: E402
from engine.store.knowledge_spaces import Space, find_space, vector_literal  # noqa: E402
from engine.store.migrate import apply_migrations  # noqa: E402
from tests.bench import alert_rules  # noqa: E402
from tests.bench.knowledge_synthetic import SourceChunk, generate  # noqa: E402

CORPUS = ROOT / "tests" / "bench" / "knowledge_corpus"
QUERIES = ROOT / "tests" / "bench" / "knowledge_queries.yaml"
ALERT_QUERIES = ROOT / "tests" / "bench" / "knowledge_queries_alerts.yaml"
KINDS = ("error", "paraphrase", "keywords")
SPLITS = ("tune", "report")
WEIGHTS = [round(i / 10, 1) for i in range(11)]
FOLDS = 5
BM25_K1, BM25_B = 1.2, 0.75


# --- quality --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    text: str
    kind: str
    expected: tuple[str, ...]
    split: str


@dataclass
class Corpus:
    name: str
    pool: AsyncConnectionPool
    queries: list[Query]
    key: Callable[[str], str]  # a hit's source -> what `expected` names
    documents: int = 0
    chunks: int = 0
    # ranks[mode][i]: 1-based rank of query i's first expected document, None if not in 10
    ranks: dict[str, list[int | None]] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)  # hybrid's first document per query


def load_queries() -> list[dict[str, Any]]:
    return list(yaml.safe_load(QUERIES.read_text()))


def our_queries() -> list[Query]:
    return [
        Query(e["query"], e["kind"], tuple(e["expected"]), SPLITS[i % 2])
        for i, e in enumerate(load_queries())
    ]


def alert_queries() -> list[Query]:
    return [
        Query(e["query"], e["kind"], tuple(e["expected"]), e["split"])
        for e in yaml.safe_load(ALERT_QUERIES.read_text())
    ]


class CachedEmbedder:
    """The model, each distinct text embedded once: every query runs in many searches."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = model_name(inner)
        self.dimension = inner.dimension
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


async def import_corpus(pool: AsyncConnectionPool, embedder: Embedder) -> tuple[int, int]:
    documents = chunks = 0
    for path in sorted(CORPUS.rglob("*.md")):
        text = path.read_text()
        title = text.splitlines()[0].lstrip("#").strip()
        source = path.relative_to(CORPUS).as_posix()
        result = await import_document(pool, embedder, title=title, source=source, text=text)
        documents += 1
        chunks += result.chunks
    return documents, chunks


async def import_folder(pool: AsyncConnectionPool, embedder: Embedder, folder: Path) -> int:
    """Import a folder as `faultmaven kb import FOLDER` does; the chunks stored."""
    chunks = 0
    for document in read_documents([folder]):
        assert isinstance(document, LocalDocument), document
        result = await import_document(
            pool, embedder, title=document.title, source=document.source, text=document.text
        )
        chunks += result.chunks
    return chunks


def rank_of(keys: Sequence[str], expected: Sequence[str]) -> int | None:
    """1-based rank of the first expected document among distinct documents."""
    seen: list[str] = []
    for key in keys:
        if key not in seen:
            seen.append(key)
    for rank, key in enumerate(seen, start=1):
        if key in expected:
            return rank
    return None


def _rr(rank: int | None) -> float:
    return 0.0 if rank is None else 1 / rank


def _metrics(ranks: Sequence[int | None]) -> tuple[float, float, float]:
    """R@1, R@3, MRR."""
    n = max(len(ranks), 1)
    return (
        sum(1 for r in ranks if r == 1) / n,
        sum(1 for r in ranks if r is not None and r <= 3) / n,
        sum(_rr(r) for r in ranks) / n,
    )


def _lexemes(conn: psycopg.Connection[Any], text: str) -> dict[str, int]:
    """Postgres's english analyzer: lexeme -> occurrences (per paragraph, so that no position
    passes the tsvector's limit of 16,383)."""
    rows = conn.execute(
        "SELECT t.lexeme, sum(coalesce(array_length(t.positions, 1), 1))::int"
        " FROM regexp_split_to_table(%(text)s, '\n\\s*\n') AS p,"
        " unnest(to_tsvector('english', p)) AS t GROUP BY t.lexeme",
        {"text": text},
    ).fetchall()
    return {lexeme: count for lexeme, count in rows}


def bm25_ranks(url: str, corpus: Corpus) -> list[int | None]:
    """Plain Okapi BM25 over whole documents (the peer), for each query of `corpus`."""
    with psycopg.connect(url) as conn:
        documents = conn.execute(
            "SELECT d.source, v.text FROM knowledge_documents d"
            " JOIN knowledge_versions v ON v.document_id = d.id AND v.version = d.current_version"
        ).fetchall()
        terms = [(corpus.key(source), _lexemes(conn, text)) for source, text in documents]
        queries = [set(_lexemes(conn, q.text)) for q in corpus.queries]
    n = len(terms)
    average = sum(sum(t.values()) for _, t in terms) / max(n, 1)
    df = Counter(word for _, t in terms for word in t)
    ranks: list[int | None] = []
    for query, words in zip(corpus.queries, queries, strict=True):
        scored = []
        for key, t in terms:
            length = sum(t.values())
            score = 0.0
            for word in words & t.keys():
                idf = math.log(1 + (n - df[word] + 0.5) / (df[word] + 0.5))
                tf = t[word]
                norm = BM25_K1 * (1 - BM25_B + BM25_B * length / average)
                score += idf * tf * (BM25_K1 + 1) / (tf + norm)
            if score > 0:
                scored.append((score, key))
        scored.sort(key=lambda s: (-s[0], s[1]))
        ranks.append(rank_of([key for _, key in scored[:10]], query.expected))
    return ranks


async def _ranks(
    corpus: Corpus,
    embedder: Embedder,
    mode: str,
    weight: float = TEXT_WEIGHT,
    which: Sequence[int] | None = None,
) -> tuple[list[int | None], list[str]]:
    """Ranks of the expected documents (and hybrid's first document) for the queries `which`
    (all by default), one search each."""
    ranks, top = [], []
    for i in range(len(corpus.queries)) if which is None else which:
        query = corpus.queries[i]
        hits: list[Hit] = await search(
            corpus.pool,
            embedder,
            query.text,
            k=10,
            mode=mode,  # type: ignore[arg-type]
            text_weight=weight,
        )
        keys = [corpus.key(h.source) for h in hits]
        ranks.append(rank_of(keys, query.expected))
        top.append(keys[0] if keys else "-")
    return ranks, top


COLUMNS = ("hybrid", "vector", "text", "bm25")


async def evaluate(corpus: Corpus, embedder: Embedder, url: str) -> None:
    for mode in MODES:
        corpus.ranks[mode], top = await _ranks(corpus, embedder, mode)
        if mode == "hybrid":
            corpus.top = top
    corpus.ranks["bm25"] = await asyncio.to_thread(bm25_ranks, url, corpus)


def _split(corpus: Corpus, column: str, split: str) -> list[int | None]:
    pairs = zip(corpus.ranks[column], corpus.queries, strict=True)
    return [rank for rank, query in pairs if split in (query.split, "all")]


def report(corpora: list[Corpus]) -> None:
    print(
        f"{'corpus':<7} {'queries':<13}"
        + "".join(f" | {c:<6}  R@1   R@3   MRR" for c in COLUMNS)
        + "   (hybrid: text weight"
        f" {TEXT_WEIGHT}; bm25: plain Okapi BM25 over whole documents)"
    )
    for corpus in corpora:
        for split in (*SPLITS, "all"):
            n = sum(1 for q in corpus.queries if split in (q.split, "all"))
            line = f"{corpus.name:<7} {f'{split} ({n})':<13}"
            for column in COLUMNS:
                r1, r3, mrr = _metrics(_split(corpus, column, split))
                line += f" | {'':<6} {r1:5.3f} {r3:5.3f} {mrr:5.3f}"
            print(line)
    for corpus in corpora:
        hybrid, bm25 = (_metrics(_split(corpus, c, "report")) for c in ("hybrid", "bm25"))
        pairs = zip(
            _split(corpus, "hybrid", "report"), _split(corpus, "bm25", "report"), strict=True
        )
        better = sum(_rr(h) > _rr(b) for h, b in pairs)
        pairs = zip(
            _split(corpus, "hybrid", "report"), _split(corpus, "bm25", "report"), strict=True
        )
        worse = sum(_rr(h) < _rr(b) for h, b in pairs)
        above = hybrid[0] > bm25[0] and hybrid[2] > bm25[2]
        print(
            f"{corpus.name} report: hybrid vs bm25 R@1 {hybrid[0] - bm25[0]:+.3f},"
            f" MRR {hybrid[2] - bm25[2]:+.3f} -> {'above' if above else 'NOT above'};"
            f" per query: hybrid ranks the expected document higher in {better}, lower in {worse}"
        )
        kinds = Counter(q.kind for q in corpus.queries if q.split == "report")
        by_kind = []
        for kind in sorted(kinds):
            rows = [
                r
                for r, q in zip(corpus.ranks["hybrid"], corpus.queries, strict=True)
                if q.split == "report" and q.kind == kind
            ]
            r1, _, mrr = _metrics(rows)
            by_kind.append(f"{kind} ({kinds[kind]}) R@1 {r1:.3f} MRR {mrr:.3f}")
        print(f"  {corpus.name} report, hybrid by kind: " + "; ".join(by_kind))


async def choose_weight(corpora: list[Corpus], embedder: Embedder) -> None:
    """The text half's weight by 5-fold cross-validation over the tune queries of all
    corpora (mean reciprocal rank), beside the weight search.py ships."""
    tune = [
        (corpus, [i for i, q in enumerate(corpus.queries) if q.split == "tune"])
        for corpus in corpora
    ]
    rr: dict[float, list[float]] = {}
    per_corpus: dict[float, list[float]] = {}
    for weight in WEIGHTS:
        rr[weight], per_corpus[weight] = [], []
        for corpus, which in tune:
            ranks, _ = await _ranks(corpus, embedder, "hybrid", weight, which)
            rr[weight] += [_rr(r) for r in ranks]
            per_corpus[weight].append(sum(_rr(r) for r in ranks) / max(len(ranks), 1))
    n = len(rr[WEIGHTS[0]])
    print(
        f"fusion weight (text half), MRR on the tune queries ({n}):"
        f" {' / '.join(c.name for c in corpora)} / pooled"
    )
    for weight in WEIGHTS:
        shown = " / ".join(f"{m:.3f}" for m in per_corpus[weight])
        print(f"  {weight:.1f}: {shown} / {sum(rr[weight]) / n:.3f}")
    order = list(range(n))
    random.Random(17).shuffle(order)
    folds = [order[f::FOLDS] for f in range(FOLDS)]

    def best(indices: list[int]) -> float:
        # the highest mean; among equals, the one nearest an even split
        return max(WEIGHTS, key=lambda w: (sum(rr[w][i] for i in indices), -abs(w - 0.5)))

    held_out, chosen = [], []
    for fold in folds:
        train = [i for i in order if i not in set(fold)]
        weight = best(train)
        chosen.append(weight)
        held_out += [rr[weight][i] for i in fold]
    overall = best(order)
    print(
        f"  {FOLDS}-fold cross-validation: weights chosen {chosen}, held-out MRR"
        f" {sum(held_out) / n:.3f}; all tune queries choose {overall};"
        f" search.py ships TEXT_WEIGHT = {TEXT_WEIGHT}"
    )


def show_misses(corpora: list[Corpus]) -> None:
    print(
        "tune queries hybrid does not rank first (document ranks: h hybrid, v vector, t text,"
        " b bm25; '-' = not in 10):"
    )
    for corpus in corpora:
        for i, query in enumerate(corpus.queries):
            r = {c: corpus.ranks[c][i] for c in COLUMNS}
            if r["hybrid"] == 1 or query.split != "tune":
                continue  # report queries' misses stay unread: they are not tuned on
            shown = " ".join(f"{c[0]}{'-' if r[c] is None else r[c]}" for c in COLUMNS)
            where = f"{corpus.name} {query.split:<6} [{query.kind[:5]}]"
            print(f"  {where} {shown:<14} {query.text[:70]!r}")
            print(f"{'':>16}want {', '.join(query.expected)}; hybrid top {corpus.top[i]}")


# --- scale ----------------------------------------------------------------------------------


class PrecomputedEmbedder:
    """Query vectors computed beforehand, under the real model's name, so search() times the
    database and not the model."""

    def __init__(self, name: str, dimension: int, vectors: dict[str, np.ndarray]) -> None:
        self.name = name
        self.dimension = dimension
        self.vectors = vectors

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


def _pct(values: list[float]) -> str:
    ms = np.array(values) * 1000
    return f"p50 {np.percentile(ms, 50):6.1f} ms  p95 {np.percentile(ms, 95):6.1f} ms"


async def _timed(calls: list[Callable[[], Awaitable[Any]]]) -> tuple[list[float], list[Any]]:
    times, results = [], []
    for call in calls:
        start = time.perf_counter()
        results.append(await call())
        times.append(time.perf_counter() - start)
    return times, results


async def _corpus_chunks(conn: AsyncConnection, space: Space) -> list[SourceChunk]:
    cur = await conn.execute(
        sql.SQL("SELECT heading, text, embedding::text FROM knowledge_chunks WHERE {}").format(
            space.predicate
        )
    )
    return [
        SourceChunk(h, t, np.array(e.strip("[]").split(","), dtype=np.float32))
        for h, t, e in await cur.fetchall()
    ]


async def _load_generated(conn: AsyncConnection, space: Space, n: int, gen: Any) -> None:
    """COPY the generated chunks in, with their indexes dropped and rebuilt afterwards."""
    from pgvector.psycopg import register_vector_async

    await register_vector_async(conn)
    n_docs = max(1, n // 100)
    await conn.execute(
        "INSERT INTO knowledge_documents (tier, source, title, current_version)"
        " SELECT 'global', 'synthetic/doc-' || lpad(g::text, 5, '0') || '.md',"
        " 'Synthetic runbook ' || g, 1 FROM generate_series(1, %s) g",
        (n_docs,),
    )
    cur = await conn.execute(
        "INSERT INTO knowledge_versions (document_id, version, sha256, text)"
        " SELECT id, 1, md5(id::text), 'generated' FROM knowledge_documents"
        " WHERE source LIKE 'synthetic/%%' ORDER BY id RETURNING id, document_id"
    )
    versions = await cur.fetchall()
    cur = await conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'knowledge_chunks'"
        " AND (indexdef ILIKE '%%using hnsw%%' OR indexdef ILIKE '%%using gin%%')"
    )
    indexes = await cur.fetchall()
    for name, _ in indexes:
        await conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    start = time.perf_counter()
    columns = (
        "version_id, document_id, tier, ordinal, title, heading, text, embedding_space, embedding"
    )
    types = ["int8", "int8", "text", "int4", "text", "text", "text", "int4", "vector"]
    async with (
        conn.cursor() as copy_cur,
        copy_cur.copy(f"COPY knowledge_chunks ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for i in range(n):
            version_id, document_id = versions[i % len(versions)]
            await copy.write_row(
                (version_id, document_id, "global", i // len(versions),
                 f"Synthetic runbook {document_id}", gen.headings[i], gen.texts[i], space.id,
                 gen.embeddings[i])
            )  # fmt: skip
    print(f"  COPY {n} chunks: {time.perf_counter() - start:.1f} s")
    await conn.execute("SET maintenance_work_mem = '2GB'")
    await conn.execute("SET max_parallel_maintenance_workers = 2")
    for name, definition in indexes:
        start = time.perf_counter()
        await conn.execute(definition)
        print(f"  build {name}: {time.perf_counter() - start:.1f} s")
    await conn.execute("ANALYZE knowledge_chunks")


async def _stored_vectors(conn: AsyncConnection, space: Space) -> tuple[np.ndarray, np.ndarray]:
    from pgvector.psycopg import register_vector_async

    await register_vector_async(conn)
    ids: list[int] = []
    rows: list[np.ndarray] = []
    async with conn.transaction(), conn.cursor(name="all_vectors") as cur:
        await cur.execute(
            sql.SQL("SELECT id, embedding FROM knowledge_chunks WHERE {}").format(space.predicate)
        )
        async for chunk_id, embedding in cur:
            ids.append(chunk_id)
            # text results load as numpy arrays, binary ones as pgvector's Vector
            as_numpy = getattr(embedding, "to_numpy", None)
            rows.append(np.asarray(as_numpy() if as_numpy else embedding, dtype=np.float32))
    return np.array(ids), np.stack(rows)


def _recall(found: list[list[int]], truth: list[list[int]]) -> float:
    pairs = zip(found, truth, strict=True)
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in pairs]))


async def scale(pool: AsyncConnectionPool, embedder: Embedder, n: int, labelled: list[str]) -> None:
    async with pool.connection() as conn:
        space = await find_space(conn, model_name(embedder))
        assert space is not None, "the corpus import creates the model's space"
        sources = await _corpus_chunks(conn, space)
    start = time.perf_counter()
    gen = generate(sources, n)
    print(f"scale: {n} generated chunks in 2000 clusters ({time.perf_counter() - start:.1f} s)")
    async with await AsyncConnection.connect(pool.conninfo, autocommit=True) as conn:
        await _load_generated(conn, space, n, gen)
        cur = await conn.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('knowledge_chunks')),"
            " current_setting('shared_buffers') FROM knowledge_chunks"
        )
        total, size, shared = await cur.fetchone() or (0, "", "")
        print(f"  knowledge_chunks: {total} rows, {size} with indexes; shared_buffers {shared}")
        ids, matrix = await _stored_vectors(conn, space)

    rng = random.Random(11)
    snippets = []
    while len(labelled) + len(snippets) < 200:
        words = rng.choice(sources).text.split()
        at = rng.randrange(max(1, len(words) - 8))
        snippets.append(" ".join(words[at : at + 8]))
    queries = list(dict.fromkeys((labelled + snippets)[:200]))
    embed_times, vectors = await _timed(
        [lambda q=q: asyncio.to_thread(embedder.embed, [q]) for q in queries]
    )
    query_vectors = {q: v[0] for q, v in zip(queries, vectors, strict=True)}
    truth = [ids[np.argsort(-(matrix @ query_vectors[q]))[:10]].tolist() for q in queries]
    print(f"  {len(queries)} queries; embedding one query (MiniLM, CPU): {_pct(embed_times)}")

    distance = space.distance("q")
    statement = sql.SQL("SELECT id FROM knowledge_chunks WHERE {} ORDER BY {} LIMIT 10").format(
        space.predicate, distance
    )

    async def ann(q: str, ef: int, exact: bool = False) -> list[int]:
        async with pool.connection() as conn, conn.transaction():
            await conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(ef)))
            if exact:
                await conn.execute("SET LOCAL enable_indexscan = off")
            literal = vector_literal(query_vectors[q])
            # A plan psycopg prepared earlier would keep its index scan: planner settings do
            # not invalidate cached plans.
            cur = await conn.execute(statement, {"q": literal}, prepare=False if exact else None)
            return [row[0] for row in await cur.fetchall()]

    for ef in sorted({40, EF_SEARCH, 200}):
        await _timed([lambda q=q, ef=ef: ann(q, ef) for q in queries[:20]])  # warm the caches
        times, found = await _timed([lambda q=q, ef=ef: ann(q, ef) for q in queries])
        recall = _recall(found, truth)
        print(f"  HNSW SQL, ef_search {ef:>3}: {_pct(times)}  recall@10 {recall:.3f}")
    times, found = await _timed([lambda q=q: ann(q, 40, exact=True) for q in queries[:20]])
    print(
        f"  exact SQL (index scans off, 20 queries): {_pct(times)}"
        f"  recall@10 {_recall(found, truth[:20]):.3f}"
    )

    fixed = PrecomputedEmbedder(model_name(embedder), embedder.dimension, query_vectors)
    for mode in MODES:
        await _timed(
            [lambda q=q, m=mode: search(pool, fixed, q, k=10, mode=m) for q in queries[:20]]
        )
        times, _ = await _timed(
            [lambda q=q, m=mode: search(pool, fixed, q, k=10, mode=m) for q in queries]
        )
        print(f"  search(mode={mode}, k=10), query vector given: {_pct(times)}")
    times, _ = await _timed([lambda q=q: search(pool, embedder, q, k=10) for q in queries])
    print(f"  search(mode=hybrid, k=10) end to end, query embedded: {_pct(times)}")


# --- main -----------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


async def _database(admin_url: str, name: str) -> tuple[str, AsyncConnectionPool]:
    async with await AsyncConnection.connect(admin_url, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(admin_url, name)
    pool = await open_pool(url)
    async with pool.connection() as conn:
        await apply_migrations(conn)
    return url, pool


async def analyze(pool: AsyncConnectionPool) -> None:
    """The statistics autovacuum would gather after an import (search reads them), now."""
    async with pool.connection() as conn:
        await conn.execute("ANALYZE knowledge_chunks")


async def main(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    model = await asyncio.to_thread(load_embedder, None)
    embedder = CachedEmbedder(model)
    print(
        f"embedder {model_name(model)} ({model.dimension} d) loaded in"
        f" {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory(prefix="fm-bench-knowledge-") as tmp:
        embedded = EmbeddedServices(Path(tmp))
        admin_url = await asyncio.to_thread(embedded.postgres_url)
        corpora: list[Corpus] = []
        urls: dict[str, str] = {}
        try:
            url, pool = await _database(admin_url, "bench_ours")
            ours = Corpus("ours", pool, our_queries(), key=lambda source: source)
            corpora.append(ours)
            urls[ours.name] = url
            start = time.perf_counter()
            ours.documents, ours.chunks = await import_corpus(pool, embedder)
            await analyze(pool)
            kinds = Counter(q.kind for q in ours.queries)
            print(
                f"ours: {ours.documents} runbooks written for the benchmark, {ours.chunks} chunks,"
                f" imported in {time.perf_counter() - start:.1f} s; {len(ours.queries)} queries ("
                + ", ".join(f"{kinds[k]} {k}" for k in KINDS)
                + ")"
            )
            if alert_rules.RULES_FILE.is_file():
                url, pool = await _database(admin_url, "bench_alerts")
                alerts = Corpus("alerts", pool, alert_queries(), key=lambda s: Path(s).stem)
                corpora.append(alerts)
                urls[alerts.name] = url
                folder = Path(tmp) / "awesome-prometheus-alerts"
                folder.mkdir()
                pages = alert_rules.write_pages(folder)
                start = time.perf_counter()
                alerts.chunks = await import_folder(pool, embedder, folder)
                await analyze(pool)
                alerts.documents = len(pages)
                kinds = Counter(q.kind for q in alerts.queries)
                print(
                    f"alerts: {alerts.documents} pages (one per service) of"
                    f" {sum(p.rules for p in pages)} alert rules of Awesome Prometheus alerts"
                    f" (CC BY 4.0), {alerts.chunks} chunks, imported in"
                    f" {time.perf_counter() - start:.1f} s; {len(alerts.queries)} queries ("
                    + ", ".join(f"{kinds[k]} {k}" for k in sorted(kinds))
                    + ")"
                )
            else:
                print(
                    f"alerts: skipped, {alert_rules.RULES_FILE} is absent (the real corpus is"
                    " read from the shared data folder, never copied into the repository)"
                )
            for corpus in corpora:
                await evaluate(corpus, embedder, urls[corpus.name])
            report(corpora)
            await choose_weight(corpora, embedder)
            if args.show_misses:
                show_misses(corpora)
            if not args.skip_scale:
                await scale(ours.pool, model, args.chunks, [q.text for q in ours.queries])
        finally:
            for corpus in corpora:
                await corpus.pool.close()
            await asyncio.to_thread(embedded.close)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="generated chunks (scale)")
    parser.add_argument("--skip-scale", action="store_true", help="quality part only")
    parser.add_argument(
        "--show-misses", action="store_true", help="list hybrid's misses on the tune queries"
    )
    asyncio.run(main(parser.parse_args()))
