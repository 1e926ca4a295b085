"""The starter pack: runbooks written for FaultMaven (engine/knowledge/starter/*.md), loaded
into the global tier so a new install already knows the common failures.

Loading is idempotent: each runbook is a document whose source is `starter/NAME.md`, so
loading again stores nothing, and a release that edits a runbook stores a new version of it.
`prepare_knowledge` is what a process calls at start: it loads the embedding model only when
there is something to embed, so an up-to-date install starts without paying for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from psycopg_pool import AsyncConnectionPool

from engine.core.config import Settings
from engine.knowledge.documents import (
    ImportResult,
    content_sha256,
    import_document,
    reembed_stale,
)
from engine.knowledge.embed import Embedder, load_embedder, model_key, model_name
from engine.store.knowledge import current_versions, has_stale_chunks

log = logging.getLogger(__name__)

SOURCE_PREFIX = "starter/"
TAG = "starter"


@dataclass(frozen=True)
class StarterDocument:
    source: str
    title: str
    text: str
    tags: tuple[str, ...]


def starter_documents() -> list[StarterDocument]:
    """The runbooks shipped in the package, by file name."""
    folder = resources.files("engine.knowledge") / "starter"
    documents = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".md"):
            continue
        text = entry.read_text(encoding="utf-8")
        title = next(
            (line[2:].strip() for line in text.splitlines() if line.startswith("# ")),
            entry.name.removesuffix(".md"),
        )
        topic = entry.name.removesuffix(".md")
        documents.append(StarterDocument(SOURCE_PREFIX + entry.name, title, text, (TAG, topic)))
    return documents


async def starter_pack_pending(pool: AsyncConnectionPool) -> bool:
    """Whether some runbook of the pack is missing or older than the shipped one."""
    documents = starter_documents()
    stored = await current_versions(pool, "global", [d.source for d in documents])
    return any(stored.get(d.source) != content_sha256(d.text) for d in documents)


async def load_starter_pack(pool: AsyncConnectionPool, embedder: Embedder) -> list[ImportResult]:
    """Import every runbook of the pack into the global tier (unchanged ones are skipped)."""
    results = []
    for document in starter_documents():
        results.append(
            await import_document(
                pool,
                embedder,
                title=document.title,
                source=document.source,
                text=document.text,
                tier="global",
                tags=document.tags,
            )
        )
    changed = sum(r.changed for r in results)
    if changed:
        log.info("starter knowledge: %d of %d runbooks stored", changed, len(results))
    return results


async def prepare_knowledge(
    pool: AsyncConnectionPool,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    notify: Callable[[str], None] | None = None,
) -> Embedder | None:
    """At start: load the starter pack when enabled and not yet current, and re-embed chunks
    stored by another embedding model. The model is loaded (in a thread) only if one of
    them has work to do; the embedder is returned when it was loaded or given. `notify`
    hears what is about to take a while."""
    starter = settings.starter_knowledge and await starter_pack_pending(pool)
    stale = await has_stale_chunks(pool, model_key(settings.embedding_model))
    if not starter and not stale:
        return embedder
    if notify is not None:
        work = "loading the starter runbooks" if starter else "re-embedding knowledge"
        notify(f"Preparing knowledge ({work})…")
    if embedder is None:
        embedder = await asyncio.to_thread(load_embedder, settings.embedding_model)
    if stale:
        count = await reembed_stale(pool, embedder)
        log.info("re-embedded %d knowledge chunks with %s", count, model_name(embedder))
    if starter:
        await load_starter_pack(pool, embedder)
    return embedder
