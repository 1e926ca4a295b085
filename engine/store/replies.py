"""Which message the bot posted for which trigger, so retries update instead of re-posting."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True)
class _Posted:
    channel_id: str
    message_ts: str


async def find(pool: AsyncConnectionPool, key: str) -> tuple[str, str] | None:
    """(channel_id, message_ts) posted for this key, if any."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(_Posted)) as cur:
        await cur.execute(
            "SELECT channel_id, message_ts FROM replies WHERE key = %(key)s", {"key": key}
        )
        posted = await cur.fetchone()
        return (posted.channel_id, posted.message_ts) if posted else None


async def remember(
    pool: AsyncConnectionPool, *, key: str, case_id: int | None, channel_id: str, message_ts: str
) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO replies (key, case_id, channel_id, message_ts)"
            " VALUES (%(key)s, %(case)s, %(channel)s, %(ts)s) ON CONFLICT (key) DO NOTHING",
            {"key": key, "case": case_id, "channel": channel_id, "ts": message_ts},
        )
