"""Importing knowledge documents: normalise, chunk, embed, store as a new version; re-embed.

A document is identified by its tier, channel and source. Importing the same content again
changes nothing; changed content becomes a new version whose chunks replace the old ones, so
search only ever sees the latest. Embedding runs in a thread, in batches, outside any
transaction; the write is one transaction that holds the document's row
(engine/store/knowledge.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from psycopg_pool import AsyncConnectionPool

from engine.core.errors import FaultMavenError
from engine.core.redact import Redactor
from engine.knowledge.chunk import HEADING_SEPARATOR, chunk_markdown
from engine.knowledge.embed import Embedder, model_name
from engine.store import knowledge as knowledge_store
from engine.store.knowledge import TIERS, NewChunk, Tier
from engine.store.knowledge_spaces import ensure_space, vector_literal

REEMBED_BATCH = 128
# About 480 KB of text. Each section is embedded on import: a 4.9 MB paragraph made 3,921 of
# them, 195 s and 1 GB of memory, and as one page it would answer every search badly.
MAX_DOCUMENT_CHUNKS = 400


class KnowledgeError(FaultMavenError):
    """Knowledge that cannot be stored as asked (empty text, a tier without its channel...)."""


@dataclass(frozen=True)
class ImportResult:
    document_id: int
    version: int
    chunks: int
    changed: bool  # a new version was stored
    masked: dict[str, int] = field(default_factory=dict)  # secrets masked, by kind


def normalise_text(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


def content_sha256(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def embedding_text(title: str, heading: str, text: str) -> str:
    """What is embedded for a chunk: its place in the document, then its text."""
    if not heading:
        context = title
    elif heading == title or heading.startswith(title + HEADING_SEPARATOR):
        context = heading
    else:
        context = f"{title}{HEADING_SEPARATOR}{heading}"
    return f"{context}\n\n{text}" if context else text


def check_tier(tier: str, channel_id: str | None) -> None:
    if tier not in TIERS:
        raise KnowledgeError(f"Unknown knowledge tier {tier!r}: use global, channel or case.")
    if tier == "global" and channel_id is not None:
        raise KnowledgeError("Global knowledge belongs to no channel.")
    if tier == "channel" and not channel_id:
        raise KnowledgeError("Channel knowledge needs the channel it belongs to.")


async def import_document(
    pool: AsyncConnectionPool,
    embedder: Embedder,
    *,
    title: str,
    source: str,
    text: str,
    tier: Tier = "global",
    channel_id: str | None = None,
    tags: Sequence[str] = (),
    link: str | None = None,
    redactor: Redactor | None = None,
) -> ImportResult:
    """Store `text` as the latest version of the document (tier, channel, source); `link` is
    where people can read it (a thread, a page).

    Secrets are masked first, as in evidence: a runbook pasted with a real password must
    not hand it to whoever searches the knowledge base. The result says what was masked.
    """
    check_tier(tier, channel_id)
    redactor = redactor or Redactor()
    masked_text = redactor.redact(text)
    masked_title = redactor.redact(title)
    masked = dict(masked_text.counts + masked_title.counts)
    text, title = masked_text.text, masked_title.text
    title = title.strip() or source
    text = normalise_text(text)
    digest = content_sha256(text)
    tag_list = sorted({t.strip() for t in tags if t.strip()})
    async with pool.connection() as conn:
        space = await ensure_space(conn, model_name(embedder), embedder.dimension)
    current = await knowledge_store.current_version(
        pool, tier=tier, channel_id=channel_id, source=source, space_id=space.id
    )
    if current is not None and current.sha256 == digest:
        await knowledge_store.update_metadata(
            pool, current.id, title=title, tags=tag_list, link=link
        )
        if current.stale:
            await reembed_stale(pool, embedder, document_id=current.id)
        return ImportResult(current.id, current.version, current.chunks, False, masked)

    chunks = chunk_markdown(text)
    if not chunks:
        raise KnowledgeError(f"{source}: there is no text to import.")
    if len(chunks) > MAX_DOCUMENT_CHUNKS:
        raise KnowledgeError(
            f"{source}: too long for one document ({len(chunks):,} sections, at most "
            f"{MAX_DOCUMENT_CHUNKS:,}); split it into pages."
        )
    vectors = await asyncio.to_thread(
        embedder.embed, [embedding_text(title, c.heading, c.text) for c in chunks]
    )
    if vectors.shape != (len(chunks), space.dimension):
        expected = (len(chunks), space.dimension)
        raise ValueError(f"the embedder returned {vectors.shape} vectors, not {expected}")
    stored = await knowledge_store.store_version(
        pool,
        tier=tier,
        channel_id=channel_id,
        source=source,
        title=title,
        tags=tag_list,
        link=link,
        sha256=digest,
        text=text,
        space_id=space.id,
        chunks=[
            NewChunk(chunk.heading, chunk.text, vector_literal(vector))
            for chunk, vector in zip(chunks, vectors, strict=True)
        ],
    )
    return ImportResult(stored.document_id, stored.version, len(chunks), stored.changed, masked)


async def reembed_stale(
    pool: AsyncConnectionPool, embedder: Embedder, *, document_id: int | None = None
) -> int:
    """Embed, with `embedder`, every chunk that another model embedded (after EMBEDDING_MODEL
    changed); return how many. Batched: each batch is embedded, then written."""
    async with pool.connection() as conn:
        space = await ensure_space(conn, model_name(embedder), embedder.dimension)
    done = 0
    while True:
        batch = await knowledge_store.stale_chunks(
            pool, space_id=space.id, document_id=document_id, limit=REEMBED_BATCH
        )
        if not batch:
            return done
        texts = [embedding_text(c.title, c.heading, c.text) for c in batch]
        vectors = await asyncio.to_thread(embedder.embed, texts)
        await knowledge_store.set_embeddings(
            pool,
            space_id=space.id,
            embeddings={
                chunk.id: vector_literal(vector)
                for chunk, vector in zip(batch, vectors, strict=True)
            },
        )
        done += len(batch)
