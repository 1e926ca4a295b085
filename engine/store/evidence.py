"""Queries on evidence files."""

from __future__ import annotations

from typing import Any

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.models import Evidence

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
) -> tuple[Evidence, bool]:
    """Store evidence once per (case, source file); True when this call stored it."""
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


async def content_of(pool: AsyncConnectionPool, evidence_id: int) -> bytes | None:
    """The uploaded bytes of one evidence row (for diffs between versions)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT content FROM evidence WHERE id = %(i)s AND content IS NOT NULL",
            {"i": evidence_id},
        )
        row = await cur.fetchone()
        return bytes(row[0]) if row else None


async def list_for_case(pool: AsyncConnectionPool, case_id: int) -> list[Evidence]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Evidence)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM evidence WHERE case_id = %(c)s ORDER BY id", {"c": case_id}
        )
        return await cur.fetchall()
