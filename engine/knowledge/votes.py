"""Helpful / Outdated verdicts on knowledge documents, and the weight they give in search.

One verdict per person per document (the latest wins), so a click repeated or a retried job
counts once. The weight multiplies a chunk's fused score: helpful documents rise a little,
outdated ones sink a lot, because a runbook that misleads during an incident costs more than
a good one missed.
"""

from __future__ import annotations

from typing import Literal

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

Verdict = Literal["helpful", "outdated"]
HELPFUL_STEP, HELPFUL_CAP = 0.1, 5
OUTDATED_STEP, OUTDATED_CAP = 0.3, 3
MIN_WEIGHT = 0.2


def weight(helpful: int, outdated: int) -> float:
    """1.0 with no verdicts; up to 1.5 when helpful; down to 0.2 when outdated."""
    raw = (
        1.0 + HELPFUL_STEP * min(helpful, HELPFUL_CAP) - OUTDATED_STEP * min(outdated, OUTDATED_CAP)
    )
    return max(MIN_WEIGHT, raw)


async def vote(
    pool: AsyncConnectionPool,
    *,
    document_id: int,
    user_id: str,
    verdict: Verdict,
    case_id: int | None = None,
) -> bool:
    """Record `user_id`'s verdict; False when the document does not exist (any more)."""
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


async def tally(pool: AsyncConnectionPool, document_id: int) -> tuple[int, int]:
    """(helpful, outdated) verdicts of a document."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FILTER (WHERE verdict = 'helpful'),"
            " count(*) FILTER (WHERE verdict = 'outdated')"
            " FROM knowledge_votes WHERE document_id = %s",
            (document_id,),
        )
        row = await cur.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)


async def weights(conn: AsyncConnection, document_ids: list[int]) -> dict[int, float]:
    """The search weight of each of these documents that has verdicts (others weigh 1.0)."""
    if not document_ids:
        return {}
    cur = await conn.execute(
        "SELECT document_id, count(*) FILTER (WHERE verdict = 'helpful'),"
        " count(*) FILTER (WHERE verdict = 'outdated')"
        " FROM knowledge_votes WHERE document_id = ANY(%s) GROUP BY document_id",
        (document_ids,),
    )
    return {int(doc): weight(int(h), int(o)) for doc, h, o in await cur.fetchall()}
