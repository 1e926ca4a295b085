"""Queries on knowledge documents, their versions and their chunks.

A document is identified by its tier, channel and source. Only the chunks of its latest
version exist, so search never filters by version. What to store (normalised text, chunks,
embeddings) is decided by engine/knowledge/documents.py; this module only reads and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

Tier = Literal["global", "channel", "case"]
TIERS: tuple[Tier, ...] = ("global", "channel", "case")


@dataclass(frozen=True)
class CurrentVersion:
    """A stored document's latest version, and how many of its chunks another model embedded."""

    id: int
    version: int
    sha256: str | None
    chunks: int
    stale: int


@dataclass(frozen=True)
class NewChunk:
    """A chunk to store: its place in the document, its text, its embedding (pgvector text)."""

    heading: str
    text: str
    embedding: str


@dataclass(frozen=True)
class StoredVersion:
    document_id: int
    version: int
    changed: bool  # False: another process had stored the same content meanwhile


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
class StaleChunk:
    """A chunk embedded by another model, with what its new embedding is made of."""

    id: int
    title: str
    heading: str
    text: str


@dataclass(frozen=True)
class KnowledgeTotals:
    chunks: int
    helpful: int
    outdated: int


@dataclass(frozen=True)
class _Upserted:
    id: int
    current_version: int


@dataclass(frozen=True)
class _SourceVersion:
    source: str
    sha256: str


@dataclass(frozen=True)
class _DocumentTags:
    id: int
    tags: list[str]


@dataclass(frozen=True)
class _TierCount:
    tier: str
    documents: int


async def current_version(
    pool: AsyncConnectionPool, *, tier: str, channel_id: str | None, source: str, space_id: int
) -> CurrentVersion | None:
    """The document (tier, channel, source) as stored; `stale` counts its chunks not embedded
    in the space `space_id`."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(CurrentVersion)) as cur:
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
            {"tier": tier, "channel": channel_id or "", "source": source, "space": space_id},
        )
        return await cur.fetchone()


async def update_metadata(
    pool: AsyncConnectionPool, document_id: int, *, title: str, tags: list[str], link: str | None
) -> None:
    """Title, tags and link of unchanged content; the row is written only when they differ."""
    async with pool.connection() as conn, conn.transaction():
        await conn.execute(
            "UPDATE knowledge_documents SET title = %(title)s, tags = %(tags)s,"
            " link = coalesce(%(link)s, link), updated_at = now()"
            " WHERE id = %(id)s AND (title <> %(title)s OR tags <> %(tags)s"
            "   OR link IS DISTINCT FROM coalesce(%(link)s, link))",
            {"id": document_id, "title": title, "tags": tags, "link": link},
        )
        # Search reads the title from the chunks (a field of their full text).
        await conn.execute(
            "UPDATE knowledge_chunks SET title = %(title)s"
            " WHERE document_id = %(id)s AND title <> %(title)s",
            {"id": document_id, "title": title},
        )


async def store_version(
    pool: AsyncConnectionPool,
    *,
    tier: str,
    channel_id: str | None,
    source: str,
    title: str,
    tags: list[str],
    link: str | None,
    sha256: str,
    text: str,
    space_id: int,
    chunks: Sequence[NewChunk],
) -> StoredVersion:
    """Store `text` as the next version of the document, its chunks replacing the previous
    version's, in one transaction; nothing new when that content is already the latest."""
    async with pool.connection() as conn, conn.transaction():
        # The upsert locks the document's row: concurrent imports of it take turns.
        async with conn.cursor(row_factory=class_row(_Upserted)) as upsert:
            await upsert.execute(
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
                    "tags": tags,
                    "link": link,
                },
            )
            document = await upsert.fetchone()
        assert document is not None
        cur = await conn.execute(
            "SELECT sha256 FROM knowledge_versions"
            " WHERE document_id = %(document)s AND version = %(version)s",
            {"document": document.id, "version": document.current_version},
        )
        latest = await cur.fetchone()
        if latest is not None and latest[0] == sha256:  # another process stored it meanwhile
            return StoredVersion(document.id, document.current_version, changed=False)
        version = document.current_version + 1
        cur = await conn.execute(
            "INSERT INTO knowledge_versions (document_id, version, sha256, text)"
            " VALUES (%(document)s, %(version)s, %(sha256)s, %(text)s) RETURNING id",
            {"document": document.id, "version": version, "sha256": sha256, "text": text},
        )
        version_row = await cur.fetchone()
        assert version_row is not None
        await conn.execute(
            "DELETE FROM knowledge_chunks WHERE document_id = %(document)s",
            {"document": document.id},
        )
        async with conn.cursor() as insert:
            await insert.executemany(
                "INSERT INTO knowledge_chunks (version_id, document_id, tier, channel_id,"
                " ordinal, title, heading, text, embedding_space, embedding)"
                " VALUES (%(version_id)s, %(document)s, %(tier)s, %(channel)s, %(ordinal)s,"
                " %(title)s, %(heading)s, %(text)s, %(space)s, %(embedding)s::vector)",
                [
                    {
                        "version_id": version_row[0],
                        "document": document.id,
                        "tier": tier,
                        "channel": channel_id,
                        "ordinal": ordinal,
                        "title": title,
                        "heading": chunk.heading,
                        "text": chunk.text,
                        "space": space_id,
                        "embedding": chunk.embedding,
                    }
                    for ordinal, chunk in enumerate(chunks)
                ],
            )
        await conn.execute(
            "UPDATE knowledge_documents SET current_version = %(version)s WHERE id = %(document)s",
            {"version": version, "document": document.id},
        )
    return StoredVersion(document.id, version, changed=True)


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
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(_SourceVersion)) as cur:
        await cur.execute(
            "SELECT d.source, v.sha256 FROM knowledge_documents d"
            " JOIN knowledge_versions v ON v.document_id = d.id AND v.version = d.current_version"
            " WHERE d.tier = %(tier)s AND d.channel_id IS NULL AND d.source = ANY(%(sources)s)",
            {"tier": tier, "sources": sources},
        )
        return {row.source: row.sha256 for row in await cur.fetchall()}


async def has_stale_chunks(pool: AsyncConnectionPool, model: str) -> bool:
    """Whether any chunk lacks an embedding by `model` (never embedded by it, or by another)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM knowledge_chunks WHERE embedding_space IS DISTINCT FROM"
            " (SELECT id FROM knowledge_embedding_spaces WHERE model = %(model)s))",
            {"model": model},
        )
        row = await cur.fetchone()
        return bool(row and row[0])


async def stale_chunks(
    pool: AsyncConnectionPool, *, space_id: int, document_id: int | None, limit: int
) -> list[StaleChunk]:
    """Up to `limit` chunks not embedded in the space `space_id` (of one document when given),
    in id order."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(StaleChunk)) as cur:
        await cur.execute(
            "SELECT c.id, d.title, c.heading, c.text FROM knowledge_chunks c"
            " JOIN knowledge_documents d ON d.id = c.document_id"
            " WHERE c.embedding_space IS DISTINCT FROM %(space)s"
            "   AND (%(document)s::bigint IS NULL OR c.document_id = %(document)s)"
            " ORDER BY c.id LIMIT %(limit)s",
            {"space": space_id, "document": document_id, "limit": limit},
        )
        return await cur.fetchall()


async def set_embeddings(
    pool: AsyncConnectionPool, *, space_id: int, embeddings: dict[int, str]
) -> None:
    """Replace chunks' embeddings (chunk id -> pgvector text) with ones of the space `space_id`."""
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.executemany(
            "UPDATE knowledge_chunks SET embedding_space = %(space)s,"
            " embedding = %(embedding)s::vector WHERE id = %(id)s",
            [
                {"space": space_id, "embedding": embedding, "id": chunk_id}
                for chunk_id, embedding in embeddings.items()
            ],
        )


async def delete_document(pool: AsyncConnectionPool, document_id: int) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "DELETE FROM knowledge_documents WHERE id = %(id)s", {"id": document_id}
        )
        return cur.rowcount > 0


async def has_chunks(pool: AsyncConnectionPool) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT EXISTS (SELECT 1 FROM knowledge_chunks)")
        row = await cur.fetchone()
        return bool(row and row[0])


async def document_tags(pool: AsyncConnectionPool, document_ids: list[int]) -> dict[int, list[str]]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(_DocumentTags)) as cur:
        await cur.execute(
            "SELECT id, tags FROM knowledge_documents WHERE id = ANY(%(ids)s)",
            {"ids": document_ids},
        )
        return {int(row.id): list(row.tags) for row in await cur.fetchall()}


async def documents_per_tier(pool: AsyncConnectionPool) -> dict[str, int]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(_TierCount)) as cur:
        await cur.execute(
            "SELECT tier, count(*) AS documents FROM knowledge_documents GROUP BY tier"
        )
        return {str(row.tier): int(row.documents) for row in await cur.fetchall()}


async def totals(pool: AsyncConnectionPool) -> KnowledgeTotals:
    """Chunks stored and verdicts given, over the whole knowledge base."""
    async with (
        pool.connection() as conn,
        conn.cursor(row_factory=class_row(KnowledgeTotals)) as cur,
    ):
        await cur.execute(
            "SELECT (SELECT count(*) FROM knowledge_chunks) AS chunks,"
            " (SELECT count(*) FROM knowledge_votes WHERE verdict = 'helpful') AS helpful,"
            " (SELECT count(*) FROM knowledge_votes WHERE verdict = 'outdated') AS outdated"
        )
        row = await cur.fetchone()
    return row or KnowledgeTotals(0, 0, 0)
