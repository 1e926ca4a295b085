"""Retention: uploaded file content is kept for a number of days, then deleted.

Logs carry customer data even after masking, so the raw bytes should not outlive their use.
What was learned from them stays: the evidence row (name, size, hash), its parsed report
(findings, templates, timeline), the hypotheses citing it, and the case, open or closed
(closed cases are the knowledge base). The summary of a purged row says so, so a turn, the
case's views and the postmortem tell people why a file can no longer be read again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.store import audit
from engine.store import evidence as evidence_store

log = logging.getLogger(__name__)


class RetentionRequest(BaseModel):
    day: date


def purged_note(days: int) -> str:
    return f" · file content deleted after {days} days (retention); findings kept"


async def purge(pool: AsyncConnectionPool, *, now: datetime, days: int) -> int:
    """Delete the content of evidence older than `days` at `now`; how many rows. 0 days keeps
    everything."""
    if days <= 0:
        return 0
    purged = await evidence_store.purge_content(
        pool, before=now - timedelta(days=days), now=now, note=purged_note(days)
    )
    if purged:
        log.info(
            "retention: deleted the content of %d evidence rows older than %d days", purged, days
        )
        await audit.record(
            pool, actor="retention", action="evidence.purge", detail={"rows": purged, "days": days}
        )
    return purged
