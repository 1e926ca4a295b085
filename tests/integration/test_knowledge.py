"""Knowledge store and search on real Postgres + pgvector with the real MiniLM model."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from bot.cli.main import app
from engine.core.config import Settings
from engine.knowledge.documents import KnowledgeError, import_document
from engine.knowledge.embed import Embedder, load_embedder
from engine.knowledge.fulltext import CANDIDATE_BUDGET, candidate_queries
from engine.knowledge.search import search
from engine.knowledge.starter import load_starter_pack, prepare_knowledge, starter_documents
from engine.store.knowledge import list_documents

pytestmark = pytest.mark.integration

runner = CliRunner()


class CachedEmbedder:
    """The real model, each distinct text embedded once per test session (every test gets a
    fresh database, so the starter pack would otherwise be embedded again and again)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.dimension = inner.dimension
        self.cache: dict[str, NDArray[np.float32]] = {}

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts])


class WordHashEmbedder:
    """A tiny deterministic embedder of another dimension: a second embedding space."""

    name = "word-hash-8"
    dimension = 8

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, hashlib.sha256(word.encode()).digest()[0] % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


@pytest.fixture(scope="session")
def embedder() -> CachedEmbedder:
    return CachedEmbedder(load_embedder())


@pytest.fixture
async def starter(pool: AsyncConnectionPool, embedder: CachedEmbedder) -> AsyncConnectionPool:
    await load_starter_pack(pool, embedder)
    return pool


def test_the_packaged_model_gives_normalised_384_dimension_vectors(
    embedder: CachedEmbedder,
) -> None:
    model = embedder.inner
    assert model.dimension == 384 and load_embedder() is model  # loaded once per process
    vectors = model.embed(["postgres connection pool exhausted", "disk full"])
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.embed([]).shape == (0, 384)


SYMPTOMS = [
    ("x509: certificate has expired or is not yet valid", "starter/tls.md"),
    ("kafka consumer lag keeps increasing", "starter/kafka.md"),
    ("nginx upstream timed out while reading response header, 504", "starter/load-balancers.md"),
    ("writes fail with No space left on device", "starter/disk.md"),
    ("pods keep restarting in CrashLoopBackOff after the deploy", "starter/kubernetes.md"),
]


@pytest.mark.parametrize("mode", ["hybrid", "vector", "text"])
async def test_a_symptom_finds_its_runbook_in_each_mode(
    starter: AsyncConnectionPool, embedder: CachedEmbedder, mode: str
) -> None:
    for query, source in SYMPTOMS:
        hits = await search(starter, embedder, query, k=3, mode=mode)  # type: ignore[arg-type]
        assert hits, (mode, query)
        assert hits[0].source == source, (mode, query, [(h.source, h.heading) for h in hits])
        assert hits[0].tier == "global" and hits[0].heading and hits[0].text
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_hits_carry_the_heading_path_and_scores_per_mode(
    starter: AsyncConnectionPool, embedder: CachedEmbedder
) -> None:
    query = "HikariPool-1 - Connection is not available, request timed out"
    hybrid = await search(starter, embedder, query, k=5)
    assert hybrid[0].heading == "PostgreSQL > Connection pool exhausted"
    assert hybrid[0].title == "PostgreSQL" and "pg_stat_activity" in hybrid[0].text
    # a weighted sum of BM25 over its ceiling and cosine similarity, each at most 1
    assert all(0 < h.score <= 1 for h in hybrid)
    assert all(h.similarity is not None and 0 < h.similarity <= 1 for h in hybrid)
    vector = await search(starter, embedder, query, k=5, mode="vector")
    assert all(-1 <= h.score <= 1 for h in vector)
    assert await search(starter, embedder, "   ", k=5) == []
    assert await search(starter, embedder, "the of and", k=5, mode="text") == []
    one_each = await search(starter, embedder, "connection pool", k=5, per_document=1)
    assert len({h.document_id for h in one_each}) == len(one_each) > 1


async def test_reimporting_the_same_content_changes_nothing(
    pool: AsyncConnectionPool, embedder: CachedEmbedder
) -> None:
    text = "# Flux\n\nThe flux capacitor overheats above 88 mph.\n"
    first = await import_document(pool, embedder, title="Flux", source="notes/flux.md", text=text)
    assert first.changed and first.version == 1 and first.chunks == 1
    again = await import_document(
        pool, embedder, title="Flux", source="notes/flux.md", text=text.replace("\n", "\r\n")
    )
    assert again == type(first)(first.document_id, 1, 1, changed=False)
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM knowledge_versions")
        assert await cur.fetchone() == (1,)
    [document] = await list_documents(pool)
    assert (document.version, document.chunks, document.source) == (1, 1, "notes/flux.md")


async def test_changed_content_is_a_new_version_and_search_sees_only_the_latest(
    pool: AsyncConnectionPool, embedder: CachedEmbedder
) -> None:
    old = "# Flux\n\nThe flux capacitor overheats above 88 mph.\n"
    new = "# Flux\n\nThe warp coil vibrates when the reactor is cold.\n"
    first = await import_document(pool, embedder, title="Flux", source="flux.md", text=old)
    assert [h.text for h in await search(pool, embedder, "flux capacitor", mode="text")] == [
        "The flux capacitor overheats above 88 mph."
    ]
    second = await import_document(
        pool, embedder, title="Flux", source="flux.md", text=new, tags=["physics"]
    )
    assert second.changed and second.version == 2 and second.document_id == first.document_id
    assert await search(pool, embedder, "capacitor 88 mph", mode="text") == []
    for mode in ("hybrid", "vector", "text"):
        hits = await search(pool, embedder, "warp coil vibrates", mode=mode)  # type: ignore[arg-type]
        assert [h.text for h in hits] == ["The warp coil vibrates when the reactor is cold."]
    [document] = await list_documents(pool)
    assert (document.version, document.tags) == (2, ["physics"])
    async with pool.connection() as conn:  # the history is kept
        cur = await conn.execute("SELECT version FROM knowledge_versions ORDER BY version")
        assert await cur.fetchall() == [(1,), (2,)]


async def test_tier_and_channel_filters(
    pool: AsyncConnectionPool, embedder: CachedEmbedder
) -> None:
    text = "# Payments\n\nPayments DB pool exhausted: restart the payments workers.\n"
    places = [("global", None), ("channel", "C1"), ("channel", "C2"), ("case", "C1")]
    for tier, channel in places:
        await import_document(
            pool,
            embedder,
            title="Payments",
            source="payments.md",
            text=text,
            tier=tier,  # type: ignore[arg-type]
            channel_id=channel,
        )
    query = "payments pool exhausted"

    async def where(**filters: object) -> set[tuple[str, str | None]]:
        hits = await search(pool, embedder, query, k=10, **filters)  # type: ignore[arg-type]
        return {(h.tier, h.channel_id) for h in hits}

    assert await where() == set(places)
    assert await where(channel_id="C1") == {("global", None), ("channel", "C1"), ("case", "C1")}
    assert await where(tiers=["channel"]) == {("channel", "C1"), ("channel", "C2")}
    assert await where(tiers=["channel"], channel_id="C2") == {("channel", "C2")}
    assert await where(tiers=["global", "case"], mode="vector") == {
        ("global", None),
        ("case", "C1"),
    }
    assert len(await list_documents(pool, tier="channel")) == 2
    with pytest.raises(ValueError, match="tier"):
        await search(pool, embedder, query, tiers=["team"])


def test_rows_to_rank_are_chosen_by_the_rarest_words() -> None:
    words = [("pod", 0.4), ("restart", 0.3), ("zebra", 0.001), ("oom", 0.002)]
    assert candidate_queries(words, 1000, 1000) == [
        "'zebra' | 'oom' | 'restart' | 'pod'",
        "'zebra'",
        "'zebra' & 'oom'",
        "'zebra' & 'oom' & 'restart'",
        "'zebra' & 'oom' & 'restart' & 'pod'",
    ]
    assert candidate_queries(words, 100_000, 1000)[0] == "'zebra' | 'oom'"
    assert candidate_queries([("it's", 0.0)], 10, 1000) == ["'it''s'"]


async def test_full_text_on_a_large_table_ranks_the_rare_word_first(
    pool: AsyncConnectionPool,
) -> None:
    sections = [f"## Step {i}\n\nThe pod restarts after step {i}." for i in range(1200)]
    sections.append("## Odd one\n\nThe pod restarts when the zebra service is down.")
    for part in range(4):  # a page holds at most MAX_DOCUMENT_CHUNKS sections
        text = "\n\n".join(sections[part * 301 : (part + 1) * 301])
        source = f"steps-{part}.md"
        await import_document(pool, WordHashEmbedder(), title="Steps", source=source, text=text)
    async with pool.connection() as conn:
        await conn.execute("ANALYZE knowledge_chunks")  # the word frequencies the search reads
    hits = await search(pool, WordHashEmbedder(), "pod restarts zebra", k=3, mode="text")
    assert hits[0].heading == "Odd one" and "zebra" in hits[0].text
    common = await search(
        pool, WordHashEmbedder(), "pod restarts", k=5, mode="text", per_document=None
    )
    assert len(common) == 5 and CANDIDATE_BUDGET < 1201


async def test_bad_imports_are_refused(pool: AsyncConnectionPool, embedder: CachedEmbedder) -> None:
    with pytest.raises(KnowledgeError, match="no text"):
        await import_document(pool, embedder, title="Empty", source="e.md", text="# Empty\n")
    with pytest.raises(KnowledgeError, match="channel"):
        await import_document(pool, embedder, title="T", source="t.md", text="x", tier="channel")
    with pytest.raises(KnowledgeError, match="no channel"):
        await import_document(pool, embedder, title="T", source="t.md", text="x", channel_id="C1")


async def test_concurrent_imports_of_one_document_store_one_version(
    pool: AsyncConnectionPool,
) -> None:
    fake = WordHashEmbedder()
    text = "# Runbook\n\nRestart the thing.\n"
    results = await asyncio.gather(
        *(import_document(pool, fake, title="R", source="r.md", text=text) for _ in range(4))
    )
    assert {r.version for r in results} == {1} and sum(r.changed for r in results) == 1
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM knowledge_versions")
        assert await cur.fetchone() == (1,)


async def test_the_schema_follows_the_model_dimension_and_a_new_model_reembeds(
    pool: AsyncConnectionPool, embedder: CachedEmbedder, tmp_path: Path
) -> None:
    fake = WordHashEmbedder()
    await import_document(
        pool, fake, title="TLS", source="tls.md", text="# TLS\n\nThe certificate has expired.\n"
    )
    assert [h.source for h in await search(pool, fake, "certificate expired", mode="vector")] == [
        "tls.md"
    ]
    assert await search(pool, embedder, "certificate expired", mode="vector") == []
    # Starting with the default model re-embeds what the other model stored.
    settings = Settings(_env_file=None, FAULTMAVEN_STARTER_KNOWLEDGE=False)
    assert await prepare_knowledge(pool, settings, embedder=embedder) is embedder
    hits = await search(pool, embedder, "certificate expired", mode="vector")
    assert [h.source for h in hits] == ["tls.md"] and hits[0].score > 0.5
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT model, dimension FROM knowledge_embedding_spaces ORDER BY id"
        )
        assert await cur.fetchall() == [("word-hash-8", 8), ("all-MiniLM-L6-v2", 384)]
        cur = await conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'knowledge_chunks_embedding_%'"
            " ORDER BY indexname"
        )
        definitions = [row[0] for row in await cur.fetchall()]
    assert len(definitions) == 2
    assert (
        "hnsw (((embedding)::vector(8)) vector_cosine_ops) WHERE (embedding_space = 1)"
        in (definitions[0])
    )
    assert "vector(384)" in definitions[1] and "embedding_space = 2" in definitions[1]


async def test_the_starter_pack_loads_once(
    pool: AsyncConnectionPool, embedder: CachedEmbedder
) -> None:
    names = {d.source for d in starter_documents()}
    for topic in ("kubernetes", "postgres", "redis", "kafka", "load-balancers", "tls", "dns"):
        assert f"starter/{topic}.md" in names
    assert {"starter/disk.md", "starter/memory.md"} <= names
    first = await load_starter_pack(pool, embedder)
    assert all(r.changed for r in first) and len(first) == len(names)
    second = await load_starter_pack(pool, embedder)
    assert not any(r.changed for r in second)
    documents = await list_documents(pool)
    assert len(documents) == len(names)
    assert all(d.tier == "global" and "starter" in d.tags and d.chunks >= 3 for d in documents)
    # an up-to-date pack needs no model at start
    settings = Settings(_env_file=None)
    assert await prepare_knowledge(pool, settings) is None


async def test_prepare_knowledge_leaves_the_starter_pack_out_when_disabled(
    pool: AsyncConnectionPool, embedder: CachedEmbedder
) -> None:
    settings = Settings(_env_file=None, FAULTMAVEN_STARTER_KNOWLEDGE=False)
    assert await prepare_knowledge(pool, settings, embedder=embedder) is embedder
    assert await list_documents(pool) == []
    notes: list[str] = []
    enabled = Settings(_env_file=None)
    await prepare_knowledge(pool, enabled, embedder=embedder, notify=notes.append)
    assert notes and len(await list_documents(pool)) == len(starter_documents())


# --- faultmaven kb ------------------------------------------------------------------------


@pytest.fixture
def kb_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTMAVEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FAULTMAVEN_STARTER_KNOWLEDGE", "false")
    monkeypatch.delenv("EMBEDDING_MODEL", raising=False)
    yield tmp_path


def _kb(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["kb", *args])
    return result.exit_code, result.stdout, result.stderr


def test_kb_import_search_and_list(kb_env: Path, embedder: CachedEmbedder) -> None:
    docs = kb_env / "runbooks"
    (docs / "nested").mkdir(parents=True)
    (docs / "payments.md").write_text(
        "# Payments\n\n## Pool exhausted\n\nHikariPool timeouts: raise the payments pool size.\n"
    )
    (docs / "nested" / "cache.txt").write_text("Cache stampede: add jitter to TTLs.\n")
    (docs / "image.png").write_bytes(b"\x89PNG\x00\x00")  # not knowledge: skipped
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("kb/queue.md", "# Queue\n\nConsumer lag: scale the consumers.\n")
        zf.writestr("kb/binary.bin", b"\x00\x01")
    (kb_env / "more.zip").write_bytes(archive.getvalue())

    code, out, err = _kb("import", str(docs), str(kb_env / "more.zip"), "--tag", "team")
    assert code == 0, err
    assert out.count("imported: ") == 3
    assert f"{docs.resolve()}/payments.md (Payments): version 1, 1 chunks" in out
    assert f"{(kb_env / 'more.zip').resolve()}/kb/queue.md (Queue)" in out

    code, out, _ = _kb("import", str(docs / "payments.md"))
    assert code == 0 and out.startswith("unchanged: ")

    code, out, err = _kb("search", "HikariPool connection timeout", "--json", "--k", "2")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert len(results) == 2
    top = results[0]
    assert {"source", "title", "heading", "score", "text"} <= set(top)
    assert (top["title"], top["heading"]) == ("Payments", "Payments > Pool exhausted")
    assert top["source"] == str((docs / "payments.md").resolve()) and top["score"] > 0

    code, out, _ = _kb("search", "consumer lag", "--mode", "text")
    assert code == 0 and out.startswith("1. Queue") and "Consumer lag" in out

    code, out, _ = _kb("list")
    assert code == 0
    assert "Payments" in out and "cache" in out and "Queue" in out
    assert out.strip().endswith("3 documents, 3 chunks")

    code, _, err = _kb("import", str(kb_env / "missing.md"))
    assert code == 1 and "no such file or folder" in err
    code, _, err = _kb("import", str(docs), "--tier", "channel")
    assert code == 2 and "channel" in err


def test_kb_on_a_new_database_loads_the_starter_runbooks(
    kb_env: Path, monkeypatch: pytest.MonkeyPatch, embedder: CachedEmbedder
) -> None:
    monkeypatch.setenv("FAULTMAVEN_STARTER_KNOWLEDGE", "true")
    code, out, err = _kb("search", "certificate has expired", "--json", "--k", "1")
    assert code == 0, err
    assert "starter runbooks" in err
    [hit] = json.loads(out)["results"]
    assert hit["source"] == "starter/tls.md" and hit["heading"].startswith("TLS and certificates")
    code, out, err = _kb("list")
    assert code == 0 and err == ""  # the second start finds the pack up to date
    assert f"{len(starter_documents())} documents" in out
