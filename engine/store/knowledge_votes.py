"""Queries on Helpful / Outdated verdicts (knowledge_votes): one per person per document.

What a verdict weighs in search is engine/knowledge/votes.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True)
class Tally:
    document_id: int
    helpful: int
    outdated: int


async def record(
    pool: AsyncConnectionPool,
    *,
    document_id: int,
    user_id: str,
    verdict: str,
    case_id: int | None = None,
) -> bool:
    """Record `user_id`'s verdict (the latest wins); False when the document does not exist
    (any more)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO knowledge_votes (document_id, user_id, verdict, case_id)"
            " SELECT %(doc)s, %(user)s, %(verdict)s, %(case)s"
            " WHERE EXISTS (SELECT 1 FROM knowledge_documents WHERE id = %(doc)s)"
            " ON CONFLICT (document_id, user_id) DO UPDATE"
            " SET verdict = EXCLUDED.verdict, case_id = EXCLUDED.case_id, updated_at = now()",
            {"doc": document_id, "user": user_id, "verdict": verdict, "case": case_id},
        )
        return cur.rowcount > 0


async def tally(pool: AsyncConnectionPool, document_id: int) -> Tally:
    """The verdicts of one document (none: zeros)."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Tally)) as cur:
        await cur.execute(
            "SELECT %(doc)s::bigint AS document_id,"
            " count(*) FILTER (WHERE verdict = 'helpful') AS helpful,"
            " count(*) FILTER (WHERE verdict = 'outdated') AS outdated"
            " FROM knowledge_votes WHERE document_id = %(doc)s",
            {"doc": document_id},
        )
        row = await cur.fetchone()
    return row or Tally(document_id, 0, 0)


async def tallies(conn: AsyncConnection, document_ids: list[int]) -> list[Tally]:
    """The verdicts of those of these documents that have any."""
    async with conn.cursor(row_factory=class_row(Tally)) as cur:
        await cur.execute(
            "SELECT document_id, count(*) FILTER (WHERE verdict = 'helpful') AS helpful,"
            " count(*) FILTER (WHERE verdict = 'outdated') AS outdated"
            " FROM knowledge_votes WHERE document_id = ANY(%(docs)s) GROUP BY document_id",
            {"docs": document_ids},
        )
        return await cur.fetchall()
