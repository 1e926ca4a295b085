"""Retrieval benchmark of engine/knowledge (issue 5): quality per search mode, then scale.

Run: .venv/bin/python tests/bench/bench_knowledge.py [--chunks N] [--skip-scale] [--show-misses]

Quality. The runbooks of knowledge_corpus/ (written for this benchmark, with deliberate
confusers: Postgres vs MySQL vs PgBouncer vs SQLAlchemy connection limits, container vs host
OOM vs Redis maxmemory vs JVM heap, ...) are imported into an embedded Postgres with the
default embedder (all-MiniLM-L6-v2), and every labelled query of knowledge_queries.yaml
(log lines, paraphrased symptoms, keywords) runs in each mode. Documents are ranked by their
best chunk (search(k=10, per_document=1)): Recall@3 is the share of queries with an expected
runbook among the first three documents, MRR the mean of 1/rank of the first expected runbook
within ten (0 when none). "chunk R@3" looks at the first three chunks as search returns them
without a per-document cap.

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
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from psycopg import AsyncConnection, sql  # noqa: E402
from psycopg_pool import AsyncConnectionPool  # noqa: E402

from engine.knowledge.documents import import_document  # noqa: E402
from engine.knowledge.embed import Embedder, load_embedder, model_name  # noqa: E402
from engine.knowledge.search import MODES, Hit, search  # noqa: E402
from engine.ops.embedded import EmbeddedServices  # noqa: E402
from engine.store.db import open_pool  # noqa: E402
from engine.store.knowledge_search import EF_SEARCH  # noqa: E402
from engine.store.knowledge_spaces import Space, find_space, vector_literal  # noqa: E402
from engine.store.migrate import apply_migrations  # noqa: E402
from tests.bench.knowledge_synthetic import SourceChunk, generate  # noqa: E402

CORPUS = ROOT / "tests" / "bench" / "knowledge_corpus"
QUERIES = ROOT / "tests" / "bench" / "knowledge_queries.yaml"
KINDS = ("error", "paraphrase", "keywords")


# --- quality --------------------------------------------------------------------------------


def load_queries() -> list[dict[str, Any]]:
    return list(yaml.safe_load(QUERIES.read_text()))


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


def rank_of(hits: Sequence[Hit], expected: Sequence[str]) -> int | None:
    """1-based rank of the first hit from an expected document, among distinct documents."""
    seen: list[str] = []
    for hit in hits:
        if hit.source not in seen:
            seen.append(hit.source)
    for rank, source in enumerate(seen, start=1):
        if source in expected:
            return rank
    return None


def _rr(rank: int | None) -> float:
    return 0.0 if rank is None else 1 / rank


def _metrics(rows: list[tuple[int | None, bool]]) -> tuple[float, float, float]:
    n = max(len(rows), 1)
    recall = sum(1 for r, _ in rows if r is not None and r <= 3) / n
    mrr = sum(1 / r for r, _ in rows if r is not None) / n
    chunk_recall = sum(1 for _, c in rows if c) / n
    return recall, mrr, chunk_recall


async def quality(
    pool: AsyncConnectionPool, embedder: Embedder, queries: list[dict[str, Any]], show: bool
) -> None:
    # ranks[mode][i] = (document rank or None, expected runbook in the first 3 chunks)
    ranks: dict[str, list[tuple[int | None, bool]]] = {m: [] for m in MODES}
    top: dict[str, list[str]] = {m: [] for m in MODES}
    for entry in queries:
        for mode in MODES:
            hits = await search(pool, embedder, entry["query"], k=10, mode=mode, per_document=1)
            chunk_hits = await search(pool, embedder, entry["query"], k=3, mode=mode)
            in_chunks = any(h.source in entry["expected"] for h in chunk_hits)
            ranks[mode].append((rank_of(hits, entry["expected"]), in_chunks))
            top[mode].append(hits[0].source if hits else "-")

    kinds = Counter(e["kind"] for e in queries)
    header = f"{'mode':<7} {'R@3':>5} {'MRR':>5} {'chunk R@3':>9}"
    header += "".join(f" | {k} ({kinds[k]}) R@3   MRR" for k in KINDS if kinds[k])
    print(header)
    summary: dict[str, tuple[float, float]] = {}
    for mode in MODES:
        recall, mrr, chunk_recall = _metrics(ranks[mode])
        summary[mode] = (recall, mrr)
        line = f"{mode:<7} {recall:5.3f} {mrr:5.3f} {chunk_recall:9.3f}"
        for kind in KINDS:
            if not kinds[kind]:
                continue
            rows = [r for r, e in zip(ranks[mode], queries, strict=True) if e["kind"] == kind]
            k_recall, k_mrr, _ = _metrics(rows)
            line += f" | {'':>{len(kind) + len(str(kinds[kind])) + 3}}{k_recall:5.3f} {k_mrr:5.3f}"
        print(line)
    hybrid = summary["hybrid"]
    for other in ("vector", "text"):
        beats = hybrid[0] > summary[other][0] and hybrid[1] > summary[other][1]
        both = zip(ranks["hybrid"], ranks[other], strict=True)
        pairs = [(_rr(h), _rr(o)) for (h, _), (o, _) in both]
        print(
            f"hybrid vs {other}: R@3 {hybrid[0] - summary[other][0]:+.3f},"
            f" MRR {hybrid[1] - summary[other][1]:+.3f} -> {'beats' if beats else 'DOES NOT beat'};"
            f" per query: hybrid ranks the expected runbook higher in"
            f" {sum(h > o for h, o in pairs)}, lower in {sum(h < o for h, o in pairs)}"
        )
    missed = {m: {i for i, (r, _) in enumerate(ranks[m]) if r is None or r > 3} for m in MODES}
    vec, txt, hyb = missed["vector"], missed["text"], missed["hybrid"]
    print(
        f"missed at 3: vector {len(vec)}, text {len(txt)}, hybrid {len(hyb)} (of which vector"
        f" found {len(hyb - vec)}, text found {len(hyb - txt)},"
        f" both missed {len(hyb & vec & txt)});"
        f" only vector found {len((txt & hyb) - vec)}, only text found {len((vec & hyb) - txt)}"
    )
    if show:
        print(
            "queries hybrid misses at 3 or ranks below the better single mode"
            " (document ranks: h hybrid, v vector, t text; '-' = not in 10):"
        )
        for i, entry in enumerate(queries):
            r = {m: ranks[m][i][0] for m in MODES}
            best_single = min((x for x in (r["vector"], r["text"]) if x is not None), default=None)
            worse = best_single is not None and (r["hybrid"] is None or r["hybrid"] > best_single)
            if i in missed["hybrid"] or worse:
                shown = " ".join(f"{m[0]}{'-' if r[m] is None else r[m]}" for m in MODES)
                print(f"  [{entry['kind'][:5]}] {shown:<11} {entry['query'][:80]!r}")
                want = ", ".join(entry["expected"])
                print(f"{'':>11}want {want}; hybrid top {top['hybrid'][i]}")


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
    columns = "version_id, document_id, tier, ordinal, heading, text, embedding_space, embedding"
    types = ["int8", "int8", "text", "int4", "text", "text", "int4", "vector"]
    async with (
        conn.cursor() as copy_cur,
        copy_cur.copy(f"COPY knowledge_chunks ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for i in range(n):
            version_id, document_id = versions[i % len(versions)]
            await copy.write_row(
                (version_id, document_id, "global", i // len(versions), gen.headings[i],
                 gen.texts[i], space.id, gen.embeddings[i])
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
        times, hits = await _timed(
            [lambda q=q, m=mode: search(pool, fixed, q, k=10, mode=m) for q in queries]
        )
        line = f"  search(mode={mode}, k=10), query vector given: {_pct(times)}"
        if mode == "vector":
            line += f"  recall@10 {_recall([[h.chunk_id for h in hs] for hs in hits], truth):.3f}"
        print(line)
    times, _ = await _timed([lambda q=q: search(pool, embedder, q, k=10) for q in queries])
    print(f"  search(mode=hybrid, k=10) end to end, query embedded: {_pct(times)}")


# --- main -----------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    queries = load_queries()
    start = time.perf_counter()
    embedder = await asyncio.to_thread(load_embedder, None)
    print(
        f"embedder {model_name(embedder)} ({embedder.dimension} d) loaded in"
        f" {time.perf_counter() - start:.1f} s"
    )
    with tempfile.TemporaryDirectory(prefix="fm-bench-knowledge-") as tmp:
        embedded = EmbeddedServices(Path(tmp))
        url = await asyncio.to_thread(embedded.postgres_url)
        pool = await open_pool(url)
        try:
            async with pool.connection() as conn:
                await apply_migrations(conn)
            start = time.perf_counter()
            documents, chunks = await import_corpus(pool, embedder)
            kinds = Counter(e["kind"] for e in queries)
            print(
                f"quality: {documents} runbooks, {chunks} chunks, imported in"
                f" {time.perf_counter() - start:.1f} s; {len(queries)} queries ("
                + ", ".join(f"{kinds[k]} {k}" for k in KINDS)
                + ")"
            )
            await quality(pool, embedder, queries, args.show_misses)
            if not args.skip_scale:
                await scale(pool, embedder, args.chunks, [e["query"] for e in queries])
        finally:
            await pool.close()
            await asyncio.to_thread(embedded.close)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="generated chunks (scale)")
    parser.add_argument("--skip-scale", action="store_true", help="quality part only")
    parser.add_argument("--show-misses", action="store_true", help="list hybrid's misses")
    asyncio.run(main(parser.parse_args()))
