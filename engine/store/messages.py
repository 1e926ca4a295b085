"""Queries on the conversation of a case."""

from __future__ import annotations

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from engine.models import Message, Role


async def record(
    pool: AsyncConnectionPool, *, case_id: int, ts: str, author: str, role: Role, text: str
) -> bool:
    """Store a message once; False when that ts was already recorded (a redelivery)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO messages (case_id, ts, author, role, text)"
            " VALUES (%(case)s, %(ts)s, %(author)s, %(role)s, %(text)s)"
            " ON CONFLICT (case_id, ts) DO NOTHING",
            {"case": case_id, "ts": ts, "author": author, "role": role, "text": text},
        )
        return cur.rowcount == 1


async def history(pool: AsyncConnectionPool, case_id: int, *, limit: int) -> list[Message]:
    """The last `limit` messages of a case, oldest first."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Message)) as cur:
        await cur.execute(
            "SELECT * FROM (SELECT id, case_id, ts, author, role, text, created_at"
            "  FROM messages WHERE case_id = %(case)s ORDER BY id DESC LIMIT %(limit)s) recent"
            " ORDER BY id",
            {"case": case_id, "limit": limit},
        )
        return await cur.fetchall()
