"""Which message the bot posted for which trigger, so retries update instead of re-posting."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


async def find(pool: AsyncConnectionPool, key: str) -> tuple[str, str] | None:
    """(channel_id, message_ts) posted for this key, if any."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT channel_id, message_ts FROM replies WHERE key = %s", (key,)
        )
        row = await cur.fetchone()
        return (row[0], row[1]) if row else None


async def remember(
    pool: AsyncConnectionPool, *, key: str, case_id: int | None, channel_id: str, message_ts: str
) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO replies (key, case_id, channel_id, message_ts)"
            " VALUES (%(key)s, %(case)s, %(channel)s, %(ts)s) ON CONFLICT (key) DO NOTHING",
            {"key": key, "case": case_id, "channel": channel_id, "ts": message_ts},
        )
