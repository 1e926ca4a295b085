"""Knowledge documents: import (versioned, chunked, embedded), list, re-embed.

A document is identified by its tier, channel and source. Importing the same content again
changes nothing; changed content becomes a new version whose chunks replace the old ones, so
search only ever sees the latest. Embedding runs in a thread, in batches, outside any
transaction; the write is one transaction that holds the document's row.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from engine.core.errors import FaultMavenError
from engine.knowledge.chunk import HEADING_SEPARATOR, Chunk, chunk_markdown
from engine.knowledge.embed import Embedder, model_name
from engine.knowledge.spaces import Space, ensure_space, vector_literal

Tier = Literal["global", "channel", "case"]
TIERS: tuple[Tier, ...] = ("global", "channel", "case")
REEMBED_BATCH = 128


class KnowledgeError(FaultMavenError):
    """Knowledge that cannot be stored as asked (empty text, a tier without its channel...)."""


@dataclass(frozen=True)
class ImportResult:
    document_id: int
    version: int
    chunks: int
    changed: bool  # a new version was stored


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    tier: str
    channel_id: str | None
    source: str
    title: str
    tags: list[str]
    version: int
    chunks: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class _Current:
    id: int
    version: int
    sha256: str | None
    chunks: int
    stale: int  # chunks not embedded by the current model


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
) -> ImportResult:
    """Store `text` as the latest version of the document (tier, channel, source); `link` is
    where people can read it (a thread, a page)."""
    check_tier(tier, channel_id)
    title = title.strip() or source
    text = normalise_text(text)
    digest = content_sha256(text)
    tag_list = sorted({t.strip() for t in tags if t.strip()})
    async with pool.connection() as conn:
        space = await ensure_space(conn, model_name(embedder), embedder.dimension)
        current = await _current(conn, tier, channel_id, source, space)
    if current is not None and current.sha256 == digest:
        async with pool.connection() as conn:
            await _update_metadata(conn, current.id, title, tag_list, link)
        if current.stale:
            await reembed_stale(pool, embedder, document_id=current.id)
        return ImportResult(current.id, current.version, current.chunks, changed=False)

    chunks = chunk_markdown(text)
    if not chunks:
        raise KnowledgeError(f"{source}: there is no text to import.")
    vectors = await asyncio.to_thread(
        embedder.embed, [embedding_text(title, c.heading, c.text) for c in chunks]
    )
    if vectors.shape != (len(chunks), space.dimension):
        expected = (len(chunks), space.dimension)
        raise ValueError(f"the embedder returned {vectors.shape} vectors, not {expected}")

    async with pool.connection() as conn, conn.transaction():
        # The upsert locks the document's row: concurrent imports of it take turns.
        cur = await conn.execute(
            "INSERT INTO knowledge_documents (tier, channel_id, source, title, tags, link)"
            " VALUES (%(tier)s, %(channel)s, %(source)s, %(title)s, %(tags)s, %(link)s)"
            " ON CONFLICT (tier, coalesce(channel_id, ''), source) DO UPDATE"
            " SET title = EXCLUDED.title, tags = EXCLUDED.tags,"
            " link = coalesce(EXCLUDED.link, knowledge_documents.link), updated_at = now()"
            " RETURNING id, current_version",
            {
                "tier": tier,
                "channel": channel_id,
                "source": source,
                "title": title,
                "tags": tag_list,
                "link": link,
            },
        )
        row = await cur.fetchone()
        assert row is not None
        document_id, latest = row
        cur = await conn.execute(
            "SELECT sha256 FROM knowledge_versions WHERE document_id = %s AND version = %s",
            (document_id, latest),
        )
        same = await cur.fetchone()
        if same is not None and same[0] == digest:  # another process stored it meanwhile
            return ImportResult(document_id, latest, len(chunks), changed=False)
        version = latest + 1
        cur = await conn.execute(
            "INSERT INTO knowledge_versions (document_id, version, sha256, text)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (document_id, version, digest, text),
        )
        version_row = await cur.fetchone()
        assert version_row is not None
        await conn.execute("DELETE FROM knowledge_chunks WHERE document_id = %s", (document_id,))
        await _insert_chunks(
            conn,
            version_row[0],
            document_id,
            tier,
            channel_id,
            chunks,
            space,
            [vector_literal(v) for v in vectors],
        )
        await conn.execute(
            "UPDATE knowledge_documents SET current_version = %s WHERE id = %s",
            (version, document_id),
        )
    return ImportResult(document_id, version, len(chunks), changed=True)


async def _insert_chunks(
    conn: AsyncConnection,
    version_id: int,
    document_id: int,
    tier: str,
    channel_id: str | None,
    chunks: list[Chunk],
    space: Space,
    vectors: list[str],
) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO knowledge_chunks (version_id, document_id, tier, channel_id, ordinal,"
            " heading, text, embedding_space, embedding)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::vector)",
            [
                (
                    version_id,
                    document_id,
                    tier,
                    channel_id,
                    ordinal,
                    chunk.heading,
                    chunk.text,
                    space.id,
                    vector,
                )
                for ordinal, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
            ],
        )


async def _current(
    conn: AsyncConnection, tier: str, channel_id: str | None, source: str, space: Space
) -> _Current | None:
    async with conn.cursor(row_factory=class_row(_Current)) as cur:
        await cur.execute(
            "SELECT d.id, d.current_version AS version, v.sha256,"
            " (SELECT count(*) FROM knowledge_chunks c WHERE c.document_id = d.id) AS chunks,"
            " (SELECT count(*) FROM knowledge_chunks c WHERE c.document_id = d.id"
            "   AND c.embedding_space IS DISTINCT FROM %(space)s) AS stale"
            " FROM knowledge_documents d"
            " LEFT JOIN knowledge_versions v"
            "   ON v.document_id = d.id AND v.version = d.current_version"
            " WHERE d.tier = %(tier)s AND coalesce(d.channel_id, '') = %(channel)s"
            "   AND d.source = %(source)s",
            {"tier": tier, "channel": channel_id or "", "source": source, "space": space.id},
        )
        return await cur.fetchone()


async def _update_metadata(
    conn: AsyncConnection, document_id: int, title: str, tags: list[str], link: str | None
) -> None:
    await conn.execute(
        "UPDATE knowledge_documents SET title = %(title)s, tags = %(tags)s,"
        " link = coalesce(%(link)s, link), updated_at = now()"
        " WHERE id = %(id)s AND (title <> %(title)s OR tags <> %(tags)s"
        "   OR link IS DISTINCT FROM coalesce(%(link)s, link))",
        {"id": document_id, "title": title, "tags": tags, "link": link},
    )


async def list_documents(
    pool: AsyncConnectionPool, *, tier: Tier | None = None, channel_id: str | None = None
) -> list[DocumentInfo]:
    """Documents with their latest version and its chunk count, global first, by title."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(DocumentInfo)) as cur:
        await cur.execute(
            "SELECT d.id, d.tier, d.channel_id, d.source, d.title, d.tags,"
            " d.current_version AS version,"
            " (SELECT count(*) FROM knowledge_chunks c WHERE c.document_id = d.id)::int AS chunks,"
            " d.created_at, d.updated_at"
            " FROM knowledge_documents d"
            " WHERE (%(tier)s::text IS NULL OR d.tier = %(tier)s)"
            "   AND (%(channel)s::text IS NULL OR d.channel_id = %(channel)s)"
            " ORDER BY array_position(ARRAY['global', 'channel', 'case'], d.tier),"
            "   d.channel_id NULLS FIRST, d.title, d.id",
            {"tier": tier, "channel": channel_id},
        )
        return await cur.fetchall()


async def current_versions(
    pool: AsyncConnectionPool, tier: Tier, sources: list[str]
) -> dict[str, str]:
    """source -> sha256 of the latest version, for channel-less documents of `tier`."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT d.source, v.sha256 FROM knowledge_documents d"
            " JOIN knowledge_versions v ON v.document_id = d.id AND v.version = d.current_version"
            " WHERE d.tier = %s AND d.channel_id IS NULL AND d.source = ANY(%s)",
            (tier, sources),
        )
        return {source: sha for source, sha in await cur.fetchall()}


async def stale_chunks(pool: AsyncConnectionPool, model: str) -> bool:
    """Whether any chunk lacks an embedding by `model` (never embedded by it, or by another)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM knowledge_chunks WHERE embedding_space IS DISTINCT FROM"
            " (SELECT id FROM knowledge_embedding_spaces WHERE model = %s))",
            (model,),
        )
        row = await cur.fetchone()
        return bool(row and row[0])


async def reembed_stale(
    pool: AsyncConnectionPool, embedder: Embedder, *, document_id: int | None = None
) -> int:
    """Embed, with `embedder`, every chunk that another model embedded (after EMBEDDING_MODEL
    changed); return how many. Batched: each batch is embedded, then written."""
    async with pool.connection() as conn:
        space = await ensure_space(conn, model_name(embedder), embedder.dimension)
    done = 0
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT c.id, d.title, c.heading, c.text FROM knowledge_chunks c"
                " JOIN knowledge_documents d ON d.id = c.document_id"
                " WHERE c.embedding_space IS DISTINCT FROM %(space)s"
                "   AND (%(doc)s::bigint IS NULL OR c.document_id = %(doc)s)"
                " ORDER BY c.id LIMIT %(n)s",
                {"space": space.id, "doc": document_id, "n": REEMBED_BATCH},
            )
            rows = await cur.fetchall()
        if not rows:
            return done
        texts = [embedding_text(title, heading, text) for _, title, heading, text in rows]
        vectors = await asyncio.to_thread(embedder.embed, texts)
        async with pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(
                "UPDATE knowledge_chunks SET embedding_space = %s, embedding = %s::vector"
                " WHERE id = %s",
                [
                    (space.id, vector_literal(vector), row[0])
                    for row, vector in zip(rows, vectors, strict=True)
                ],
            )
        done += len(rows)


async def delete_document(pool: AsyncConnectionPool, document_id: int) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute("DELETE FROM knowledge_documents WHERE id = %s", (document_id,))
        return cur.rowcount > 0
