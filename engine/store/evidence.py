"""Queries on evidence files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.core.crypto import EvidenceCipher
from engine.evidence.reports import Evidence

_COLUMNS = (
    "id, case_id, source_id, name, kind, size_bytes, sha256, status, summary, report, created_at"
)


async def find(pool: AsyncConnectionPool, case_id: int, source_id: str) -> Evidence | None:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Evidence)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM evidence WHERE case_id = %(c)s AND source_id = %(s)s",
            {"c": case_id, "s": source_id},
        )
        return await cur.fetchone()


async def save(
    pool: AsyncConnectionPool,
    *,
    case_id: int,
    source_id: str,
    name: str,
    kind: str,
    size_bytes: int,
    sha256: str | None,
    content: bytes | None,
    status: str,
    summary: str,
    report: BaseModel | None,
    cipher: EvidenceCipher | None = None,
) -> tuple[Evidence, bool]:
    """Store evidence once per (case, source file); True when this call stored it.

    With a cipher the content is sealed before it leaves the process (engine/core/crypto.py).
    """
    if content is not None and cipher is not None:
        content = cipher.seal(content, row=row_label(case_id, source_id))
    params: dict[str, Any] = {
        "case": case_id,
        "source": source_id,
        "name": name,
        "kind": kind,
        "size": size_bytes,
        "sha": sha256,
        "content": content,
        "status": status,
        "summary": summary,
        "report": Jsonb(report.model_dump(mode="json")) if report else None,
    }
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Evidence)) as cur:
        await cur.execute(
            "INSERT INTO evidence (case_id, source_id, name, kind, size_bytes, sha256, content,"
            " status, summary, report) VALUES (%(case)s, %(source)s, %(name)s, %(kind)s,"
            " %(size)s, %(sha)s, %(content)s, %(status)s, %(summary)s, %(report)s)"
            f" ON CONFLICT (case_id, source_id) DO NOTHING RETURNING {_COLUMNS}",
            params,
        )
        row = await cur.fetchone()
    if row is not None:
        return row, True
    existing = await find(pool, case_id, source_id)
    assert existing is not None
    return existing, False


@dataclass(frozen=True)
class _Content:
    """An evidence row's uploaded bytes (sealed when a cipher is set), with what seals them."""

    id: int
    case_id: int
    source_id: str
    content: bytes


def row_label(case_id: int, source_id: str) -> str:
    """What a sealed blob is bound to: its own row, so it does not open anywhere else."""
    return f"evidence:{case_id}:{source_id}"


async def content_of(
    pool: AsyncConnectionPool, evidence_id: int, cipher: EvidenceCipher | None = None
) -> bytes | None:
    """The uploaded bytes of one evidence row (for diffs between versions); None once
    retention purged them (purge_content)."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(_Content)) as cur:
        await cur.execute(
            "SELECT id, case_id, source_id, content FROM evidence"
            " WHERE id = %(i)s AND content IS NOT NULL",
            {"i": evidence_id},
        )
        row = await cur.fetchone()
    if row is None:
        return None
    blob = bytes(row.content)
    return cipher.open(blob, row=row_label(row.case_id, row.source_id)) if cipher else blob


async def reseal_all(pool: AsyncConnectionPool, cipher: EvidenceCipher, *, batch: int = 100) -> int:
    """Seal every stored content with the current key (after a rotation, or to encrypt rows
    stored in clear before); returns how many rows changed. Safe to stop and run again."""
    changed = 0
    last_id = 0
    while True:
        async with pool.connection() as conn, conn.transaction():
            async with conn.cursor(row_factory=class_row(_Content)) as cur:
                await cur.execute(
                    "SELECT id, case_id, source_id, content FROM evidence"
                    " WHERE id > %(after)s AND content IS NOT NULL ORDER BY id LIMIT %(n)s"
                    " FOR UPDATE",
                    {"after": last_id, "n": batch},
                )
                rows = await cur.fetchall()
            if not rows:
                return changed
            for row in rows:
                blob = bytes(row.content)
                last_id = row.id
                if cipher.is_current(blob):
                    continue
                label = row_label(row.case_id, row.source_id)
                sealed = cipher.seal(cipher.open(blob, row=label), row=label)
                await conn.execute(
                    "UPDATE evidence SET content = %(c)s WHERE id = %(i)s",
                    {"c": sealed, "i": row.id},
                )
                changed += 1


async def list_for_case(pool: AsyncConnectionPool, case_id: int) -> list[Evidence]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Evidence)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM evidence WHERE case_id = %(c)s ORDER BY id", {"c": case_id}
        )
        return await cur.fetchall()


async def purge_content(
    pool: AsyncConnectionPool, *, before: datetime, now: datetime, note: str, batch: int = 500
) -> int:
    """Delete the content of evidence stored before `before` (retention); the row, its report
    and the case stay, and `note` is added to the summary so every reader says why the bytes
    are gone. Batches keep row locks short; SKIP LOCKED lets a second purge run alongside."""
    purged = 0
    while True:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "WITH old AS (SELECT id FROM evidence"
                "  WHERE content IS NOT NULL AND created_at < %(before)s"
                "  ORDER BY created_at LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
                " UPDATE evidence e SET content = NULL, purged_at = %(now)s,"
                "  summary = e.summary || %(note)s FROM old WHERE e.id = old.id",
                {"before": before, "now": now, "note": note, "n": batch},
            )
            if cur.rowcount <= 0:
                return purged
            purged += cur.rowcount
