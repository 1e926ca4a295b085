"""The audit log: who did what to cases and knowledge, and what was denied (audit_log).

Actions are dotted names: `case.open`, `case.close` (engine/store/cases.py),
`hypothesis.confirmed` and `hypothesis.ruled_out` (engine/store/investigation.py),
`evidence.add`, `evidence.purge` (engine/cases/retention.py), `knowledge.add`,
`knowledge.outdated`, and `denied` for refused actions (detail says what was asked and why it
was refused).
"""

from __future__ import annotations

from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from engine.core.models import Case, FileRef

CASE_OPEN = "case.open"
CASE_CLOSE = "case.close"
EVIDENCE_ADD = "evidence.add"
DENIED = "denied"


class AuditEntry(BaseModel):
    id: int
    at: datetime
    team_id: str | None = None
    actor: str
    action: str
    case_id: int | None = None
    target: str | None = None
    detail: dict[str, object] = Field(default_factory=dict)


_RECORD = (
    "INSERT INTO audit_log (team_id, actor, action, case_id, target, detail, key)"
    " VALUES (%(team)s, %(actor)s, %(action)s, %(case)s, %(target)s, %(detail)s, %(key)s)"
    " ON CONFLICT (key) DO NOTHING"
)


async def record(
    pool_or_conn: AsyncConnectionPool | AsyncConnection,
    *,
    actor: str,
    action: str,
    case_id: int | None = None,
    target: str | None = None,
    detail: dict[str, object] | None = None,
    team_id: str | None = None,
    key: str | None = None,
) -> bool:
    """Add one entry; False when its `key` (the event or job that caused it) was recorded
    already, so a retry adds nothing.

    Takes a connection so a caller can record inside its own transaction: the action and its
    entry are then kept, or lost, together.
    """
    params = {
        "team": team_id or None,
        "actor": actor,
        "action": action,
        "case": case_id,
        "target": target,
        "detail": Jsonb(detail or {}),
        "key": key,
    }
    if isinstance(pool_or_conn, AsyncConnection):
        cur = await pool_or_conn.execute(_RECORD, params)
        return cur.rowcount == 1
    async with pool_or_conn.connection() as conn:
        cur = await conn.execute(_RECORD, params)
        return cur.rowcount == 1


async def case_opened(pool: AsyncConnectionPool, case: Case) -> None:
    await record(
        pool,
        actor=case.opened_by,
        action=CASE_OPEN,
        case_id=case.id,
        target=case.channel_id,
        detail={"title": case.title},
        team_id=case.team_id,
        key=f"case.open:{case.id}",  # once per case, however often a retry gets here
    )


async def evidence_added(
    pool: AsyncConnectionPool, case: Case, user: str, files: list[FileRef], *, key: str
) -> None:
    """Who added evidence: it makes them a participant of the case (engine/core/authz.py)."""
    await record(
        pool,
        actor=user,
        action=EVIDENCE_ADD,
        case_id=case.id,
        detail={"files": [f.name for f in files]},
        team_id=case.team_id,
        key=f"evidence:{key}",
    )


async def recent(
    pool: AsyncConnectionPool, *, limit: int = 50, case_id: int | None = None
) -> list[AuditEntry]:
    """The latest entries (of one case when given), newest first."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(AuditEntry)) as cur:
        await cur.execute(
            "SELECT id, at, team_id, actor, action, case_id, target, detail FROM audit_log"
            " WHERE %(case)s::bigint IS NULL OR case_id = %(case)s"
            " ORDER BY id DESC LIMIT %(limit)s",
            {"case": case_id, "limit": max(0, limit)},
        )
        return await cur.fetchall()


async def participants(pool: AsyncConnectionPool, case_id: int) -> set[str]:
    """Who took part in a case: wrote in its thread or added evidence (the opener aside)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT author FROM messages WHERE case_id = %(case)s AND role = 'user'"
            " UNION SELECT actor FROM audit_log WHERE case_id = %(case)s AND action = %(upload)s",
            {"case": case_id, "upload": EVIDENCE_ADD},
        )
        return {str(row[0]) for row in await cur.fetchall()}
