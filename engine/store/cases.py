"""Queries on cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from engine.core.models import Case, CaseStats

_COLUMNS = (
    "id, team_id, channel_id, thread_ts, title, status, phase, opened_by, resolution,"
    " created_at, updated_at, closed_at, working_conclusion, confidence, next_steps"
)


async def get_or_create(
    pool: AsyncConnectionPool,
    *,
    team_id: str,
    channel_id: str,
    thread_ts: str,
    title: str,
    opened_by: str,
) -> tuple[Case, bool]:
    """Return the case of a thread, creating it if needed; True when it was created now.

    Looks first so an existing thread does not burn a case number (an INSERT that hits
    ON CONFLICT still takes the next id); ON CONFLICT then settles the race of two
    processes handling the same event.
    """
    existing = await find_by_thread(pool, channel_id, thread_ts)
    if existing is not None:
        return existing, False
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Case)) as cur:
        await cur.execute(
            f"INSERT INTO cases (team_id, channel_id, thread_ts, title, opened_by)"
            f" VALUES (%(team)s, %(channel)s, %(thread)s, %(title)s, %(user)s)"
            f" ON CONFLICT (channel_id, thread_ts) DO NOTHING RETURNING {_COLUMNS}",
            {
                "team": team_id,
                "channel": channel_id,
                "thread": thread_ts,
                "title": title,
                "user": opened_by,
            },
        )
        created = await cur.fetchone()
    if created is not None:
        return created, True
    raced = await find_by_thread(pool, channel_id, thread_ts)
    assert raced is not None  # the row that won the race exists; cases are never deleted here
    return raced, False


async def find_by_thread(pool: AsyncConnectionPool, channel_id: str, thread_ts: str) -> Case | None:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Case)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM cases WHERE channel_id = %(c)s AND thread_ts = %(t)s",
            {"c": channel_id, "t": thread_ts},
        )
        return await cur.fetchone()


async def get(pool: AsyncConnectionPool, case_id: int) -> Case | None:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Case)) as cur:
        await cur.execute(f"SELECT {_COLUMNS} FROM cases WHERE id = %(id)s", {"id": case_id})
        return await cur.fetchone()


async def list_open(
    pool: AsyncConnectionPool, *, channel_id: str | None = None, team_id: str | None = None
) -> list[Case]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Case)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM cases WHERE status = 'open'"
            " AND (%(channel)s::text IS NULL OR channel_id = %(channel)s)"
            " AND (%(team)s::text IS NULL OR team_id = %(team)s)"
            " ORDER BY created_at DESC, id DESC",
            {"channel": channel_id, "team": team_id},
        )
        return await cur.fetchall()


@dataclass(frozen=True)
class _Counts:
    id: int
    message_count: int
    evidence_count: int
    error_count: int
    last_activity: datetime


async def stats(pool: AsyncConnectionPool, cases: list[Case]) -> list[CaseStats]:
    """Counts for several cases in one round trip."""
    if not cases:
        return []
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(_Counts)) as cur:
        await cur.execute(
            "SELECT c.id,"
            " (SELECT count(*) FROM messages m WHERE m.case_id = c.id) AS message_count,"
            " (SELECT count(*) FROM evidence e WHERE e.case_id = c.id AND e.status = 'analysed')"
            "   AS evidence_count,"
            " (SELECT coalesce(sum((e.report->'level_counts'->>'ERROR')::int"
            "       + coalesce((e.report->'level_counts'->>'FATAL')::int, 0)), 0)"
            "    FROM evidence e WHERE e.case_id = c.id AND e.report IS NOT NULL) AS error_count,"
            " greatest(c.updated_at,"
            "   (SELECT max(m.created_at) FROM messages m WHERE m.case_id = c.id),"
            "   (SELECT max(e.created_at) FROM evidence e WHERE e.case_id = c.id))"
            "   AS last_activity"
            " FROM cases c WHERE c.id = ANY(%(ids)s)",
            {"ids": [c.id for c in cases]},
        )
        counts = {row.id: row for row in await cur.fetchall()}
    return [
        CaseStats(
            case=case,
            message_count=counts[case.id].message_count,
            evidence_count=counts[case.id].evidence_count,
            error_count=counts[case.id].error_count,
            last_activity=counts[case.id].last_activity,
        )
        for case in cases
    ]


async def close(
    pool: AsyncConnectionPool, case_id: int, *, resolution: str, closed_by: str
) -> Case | None:
    """Mark a case resolved; None when it was not open (already closed by someone else)."""
    async with pool.connection() as conn, conn.transaction():
        before = await conn.execute(
            "SELECT phase FROM cases WHERE id = %(id)s AND status = 'open' FOR UPDATE",
            {"id": case_id},
        )
        phase_row = await before.fetchone()
        async with conn.cursor(row_factory=class_row(Case)) as cur:
            await cur.execute(
                "UPDATE cases SET status = 'resolved', phase = 'resolved',"
                " resolution = %(resolution)s, closed_at = now(), updated_at = now()"
                f" WHERE id = %(id)s AND status = 'open' RETURNING {_COLUMNS}",
                {"id": case_id, "resolution": resolution},
            )
            case = await cur.fetchone()
        if case is not None:
            await conn.execute(
                "INSERT INTO audit_log (case_id, actor, action, detail)"
                " VALUES (%(id)s, %(actor)s, 'case.close',"
                " jsonb_build_object('resolution', %(r)s::text))",
                {"id": case_id, "actor": closed_by, "r": resolution},
            )
            if phase_row is not None and phase_row[0] != "resolved":
                await conn.execute(
                    "INSERT INTO phase_changes (case_id, from_phase, to_phase, reason)"
                    " VALUES (%(id)s, %(from)s, 'resolved', %(reason)s)",
                    {"id": case_id, "from": phase_row[0], "reason": f"closed by {closed_by}"},
                )
        return case


async def touch(pool: AsyncConnectionPool, case_id: int) -> None:
    async with pool.connection() as conn:
        await conn.execute("UPDATE cases SET updated_at = now() WHERE id = %(id)s", {"id": case_id})


async def reopen(pool: AsyncConnectionPool, case_id: int, *, reopened_by: str) -> Case | None:
    """Open a resolved case again; None when it was not resolved (open already, or unknown)."""
    async with pool.connection() as conn, conn.transaction():
        async with conn.cursor(row_factory=class_row(Case)) as cur:
            await cur.execute(
                "UPDATE cases SET status = 'open', phase = 'diagnosing', closed_at = NULL,"
                f" updated_at = now() WHERE id = %(id)s AND status <> 'open' RETURNING {_COLUMNS}",
                {"id": case_id},
            )
            case = await cur.fetchone()
        if case is not None:
            await conn.execute(
                "INSERT INTO phase_changes (case_id, from_phase, to_phase, reason)"
                " VALUES (%(id)s, 'resolved', 'diagnosing', %(reason)s)",
                {"id": case_id, "reason": f"reopened by {reopened_by}"},
            )
        return case


async def recently_closed(
    pool: AsyncConnectionPool, *, channel_ids: list[str] | None = None, limit: int = 5
) -> list[Case]:
    """The latest resolved cases, newest first (of these channels when given)."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Case)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM cases WHERE status <> 'open'"
            " AND (%(channels)s::text[] IS NULL OR channel_id = ANY(%(channels)s))"
            " ORDER BY closed_at DESC NULLS LAST, id DESC LIMIT %(limit)s",
            {"channels": channel_ids, "limit": limit},
        )
        return await cur.fetchall()


async def get_many(pool: AsyncConnectionPool, case_ids: list[int]) -> dict[int, Case]:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Case)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM cases WHERE id = ANY(%(ids)s)", {"ids": case_ids}
        )
        return {case.id: case for case in await cur.fetchall()}
