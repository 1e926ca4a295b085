"""Dump, for each TUNE query of tests/bench/bench_knowledge.py (both corpora), the two halves
of knowledge search as search() computes them: the text half's BM25F per chunk (with the
inputs of fulltext.bm25: each chunk's per-word frequencies, the words' document frequencies)
and the vector half's nearest chunks by cosine. Fusion variants are then evaluated offline,
in memory, by tests/bench/knowledge_fusion_cv.py, without importing or embedding again.

Run: .venv/bin/python tests/bench/knowledge_fusion_dump.py [--out /tmp/knowledge_fusion.pkl]

Report queries are never dumped: they choose nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from psycopg_pool import AsyncConnectionPool  # noqa: E402

from engine.knowledge import fulltext  # noqa: E402
from engine.knowledge.embed import load_embedder, model_name  # noqa: E402
from engine.ops.embedded import EmbeddedServices  # noqa: E402
from engine.store import knowledge_search  # noqa: E402
from engine.store.knowledge_search import ChunkFilter  # noqa: E402
from engine.store.knowledge_spaces import find_space, vector_literal  # noqa: E402
from tests.bench import alert_rules  # noqa: E402
from tests.bench.bench_knowledge import (  # noqa: E402
    CachedEmbedder,
    Query,
    _database,
    alert_queries,
    analyze,
    import_corpus,
    import_folder,
    our_queries,
)

VECTOR_DUMPED = 300  # search reads 100; more are kept to try larger candidate lists


async def dump_corpus(
    name: str,
    pool: AsyncConnectionPool,
    embedder: CachedEmbedder,
    queries: list[Query],
    key: Any,
) -> dict[str, Any]:
    captured: list[dict[str, Any]] = []
    original = fulltext.bm25

    def recording_bm25(found: Any, query_words: Any, documents: float, **kwargs: Any) -> Any:
        result = original(found, query_words, documents, **kwargs)
        captured.append(
            {
                "found": [(c.id, c.document_id, c.length, list(c.frequencies)) for c in found],
                "words": list(query_words),
                "documents": documents,
                "known": dict(kwargs.get("known_frequency") or {}),
                "scale": kwargs.get("scale", 1.0),
            }
        )
        return result

    filters = ChunkFilter()
    rows: list[dict[str, Any]] = []
    fulltext.bm25 = recording_bm25
    try:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT id, source FROM knowledge_documents")
            keys = {doc: key(source) for doc, source in await cur.fetchall()}
            cur = await conn.execute("SELECT id, document_id FROM knowledge_chunks")
            chunk_document: dict[int, int] = dict(await cur.fetchall())
            space = await find_space(conn, model_name(embedder))
            assert space is not None
            for query in queries:
                if query.split != "tune":
                    continue
                captured.clear()
                text = await fulltext.text_scores(conn, query.text, filters)
                vector = embedder.embed([query.text])[0]
                similar = await knowledge_search.vector_ranking(
                    conn, space, vector_literal(vector), filters, VECTOR_DUMPED
                )
                rows.append(
                    {
                        "query": query.text,
                        "kind": query.kind,
                        "expected": list(query.expected),
                        "text": {
                            "chunks": dict(text.chunks),
                            "documents": dict(text.documents),
                            "ideal": text.ideal,
                        },
                        "bm25_inputs": captured[0] if captured else None,
                        "similar": [(c.id, c.document_id, c.score) for c in similar],
                    }
                )
    finally:
        fulltext.bm25 = original
    return {"name": name, "keys": keys, "chunk_document": chunk_document, "queries": rows}


async def main(out: Path) -> None:
    start = time.perf_counter()
    embedder = CachedEmbedder(await asyncio.to_thread(load_embedder, None))
    dumped = []
    with tempfile.TemporaryDirectory(prefix="fm-fusion-dump-") as tmp:
        embedded = EmbeddedServices(Path(tmp))
        admin_url = await asyncio.to_thread(embedded.postgres_url)
        pools = []
        try:
            _, pool = await _database(admin_url, "dump_ours")
            pools.append(pool)
            await import_corpus(pool, embedder)
            await analyze(pool)
            dumped.append(await dump_corpus("ours", pool, embedder, our_queries(), lambda s: s))
            if alert_rules.RULES_FILE.is_file():
                _, pool = await _database(admin_url, "dump_alerts")
                pools.append(pool)
                folder = Path(tmp) / "awesome-prometheus-alerts"
                folder.mkdir()
                alert_rules.write_pages(folder)
                await import_folder(pool, embedder, folder)
                await analyze(pool)
                dumped.append(
                    await dump_corpus(
                        "alerts", pool, embedder, alert_queries(), lambda s: Path(s).stem
                    )
                )
        finally:
            for pool in pools:
                await pool.close()
            await asyncio.to_thread(embedded.close)
    await asyncio.to_thread(out.write_bytes, pickle.dumps(dumped))
    counts = ", ".join(f"{d['name']} {len(d['queries'])}" for d in dumped)
    print(f"dumped tune queries ({counts}) to {out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/knowledge_fusion.pkl"))
    asyncio.run(main(parser.parse_args().out))
