"""Queries on the conversation of a case."""

from __future__ import annotations

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from engine.core.models import Message, Role

_COLUMNS = "id, case_id, ts, author, role, text, created_at, asks"


async def record(
    pool: AsyncConnectionPool,
    *,
    case_id: int,
    ts: str,
    author: str,
    role: Role,
    text: str,
    asks: bool = False,
) -> bool:
    """Store a message once; False when that ts was already recorded (a redelivery), unless
    it is now known to be a question.

    `asks` marks a question to the bot: the next investigation turn owes it an answer.
    """
    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO messages (case_id, ts, author, role, text, asks)"
            " VALUES (%(case)s, %(ts)s, %(author)s, %(role)s, %(text)s, %(asks)s)"
            # The same message may come first as history (read back from the thread) and
            # then as the question it was: it must still be marked as owed an answer.
            " ON CONFLICT (case_id, ts) DO UPDATE SET asks = true"
            " WHERE EXCLUDED.asks AND NOT messages.asks",
            {"case": case_id, "ts": ts, "author": author, "role": role, "text": text, "asks": asks},
        )
        return cur.rowcount == 1


async def has_any(pool: AsyncConnectionPool, case_id: int) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE case_id = %(case)s)", {"case": case_id}
        )
        row = await cur.fetchone()
        return bool(row and row[0])


async def history(pool: AsyncConnectionPool, case_id: int, *, limit: int) -> list[Message]:
    """The last `limit` messages of a case, oldest first."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Message)) as cur:
        await cur.execute(
            f"SELECT * FROM (SELECT {_COLUMNS}"
            "  FROM messages WHERE case_id = %(case)s ORDER BY id DESC LIMIT %(limit)s) recent"
            " ORDER BY id",
            {"case": case_id, "limit": limit},
        )
        return await cur.fetchall()


async def unanswered_questions(pool: AsyncConnectionPool, case_id: int) -> list[Message]:
    """Questions to the bot no turn has answered yet, oldest first: what the next turn owes."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Message)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM messages"
            " WHERE case_id = %(case)s AND asks AND answered_in IS NULL ORDER BY id",
            {"case": case_id},
        )
        return await cur.fetchall()
