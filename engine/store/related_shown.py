"""Which knowledge documents a case's thread was shown already (case_related_shown), so
later turns only mention what is new (engine/knowledge/related.py)."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


async def shown(pool: AsyncConnectionPool, case_id: int) -> set[int]:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT document_id FROM case_related_shown WHERE case_id = %(case)s",
            {"case": case_id},
        )
        return {int(row[0]) for row in await cur.fetchall()}


async def mark_shown(pool: AsyncConnectionPool, case_id: int, document_ids: list[int]) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO case_related_shown (case_id, document_id)"
            " SELECT %(case)s, unnest(%(documents)s::bigint[]) ON CONFLICT DO NOTHING",
            {"case": case_id, "documents": document_ids},
        )
