"""Helpful / Outdated verdicts on knowledge documents, and the weight they give in search.

One verdict per person per document (the latest wins), so a click repeated or a retried job
counts once (engine/store/knowledge_votes.py). The weight multiplies a chunk's fused score:
helpful documents rise a little, outdated ones sink a lot, because a runbook that misleads
during an incident costs more than a good one missed.
"""

from __future__ import annotations

from typing import Literal

from psycopg import AsyncConnection

from engine.store import knowledge_votes

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


async def weights(conn: AsyncConnection, document_ids: list[int]) -> dict[int, float]:
    """The search weight of each of these documents that has verdicts (others weigh 1.0)."""
    if not document_ids:
        return {}
    return {
        t.document_id: weight(t.helpful, t.outdated)
        for t in await knowledge_votes.tallies(conn, document_ids)
    }
