"""Queries of the scheduler: how long cases have been quiet, and digest subscriptions."""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

# The last thing that happened in a case: the case row changing (a turn, a phase, a touch by
# an upload), a message, an upload, a turn, a button. The bot's own reminders are none of
# these, so a reminder does not re-arm itself. The stamp (microseconds since the epoch, exact:
# extract() returns numeric) names the quiet spell in reply keys.
_ACTIVITY = (
    "greatest(c.updated_at,"
    " (SELECT max(m.created_at) FROM messages m WHERE m.case_id = c.id),"
    " (SELECT max(e.created_at) FROM evidence e WHERE e.case_id = c.id),"
    " (SELECT max(t.finished_at) FROM turns t WHERE t.case_id = c.id),"
    " (SELECT max(f.created_at) FROM feedback f WHERE f.case_id = c.id))"
)


class Quiet(BaseModel):
    """An open case and when anything last happened in it."""

    case_id: int
    last_activity: datetime
    stamp: int


def reminder_key(case_id: int, stamp: int) -> str:
    """The reply key of the reminder for one quiet spell: one post per spell, ever."""
    return f"reminder:{case_id}:{stamp}"


async def quiet_cases(
    pool: AsyncConnectionPool, *, now: datetime, quiet_s: float, limit: int = 500
) -> list[Quiet]:
    """Open cases with nothing new for `quiet_s` seconds at `now`, not yet reminded of this
    spell (no reply under its reminder key), longest quiet first."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Quiet)) as cur:
        await cur.execute(
            "SELECT case_id, last_activity, stamp FROM ("
            "  SELECT case_id, last_activity,"
            "   (extract(epoch FROM last_activity) * 1000000)::bigint AS stamp FROM ("
            f"   SELECT c.id AS case_id, {_ACTIVITY} AS last_activity"
            "    FROM cases c WHERE c.status = 'open') a) q"
            # The cast types `now` for Postgres when it prepares the statement without values.
            " WHERE last_activity <= %(now)s::timestamptz - make_interval(secs => %(quiet)s)"
            "  AND NOT EXISTS (SELECT 1 FROM replies r"
            "   WHERE r.key = 'reminder:' || q.case_id || ':' || q.stamp)"
            " ORDER BY last_activity LIMIT %(limit)s",
            {"now": now, "quiet": quiet_s, "limit": limit},
        )
        return await cur.fetchall()


async def activity(pool: AsyncConnectionPool, case_id: int) -> Quiet | None:
    """When anything last happened in one case (any status); None when there is no case."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(Quiet)) as cur:
        await cur.execute(
            "SELECT case_id, last_activity,"
            " (extract(epoch FROM last_activity) * 1000000)::bigint AS stamp FROM ("
            f" SELECT c.id AS case_id, {_ACTIVITY} AS last_activity"
            "  FROM cases c WHERE c.id = %(id)s) a",
            {"id": case_id},
        )
        return await cur.fetchone()


async def set_digest(
    pool: AsyncConnectionPool, *, channel_id: str, team_id: str, user: str, on: bool
) -> bool:
    """Subscribe a channel to the daily digest, or not; True when that changed something.
    Kept in the audit log: who turned a channel's digest on or off."""
    async with pool.connection() as conn, conn.transaction():
        if on:
            cur = await conn.execute(
                "INSERT INTO digest_channels (channel_id, team_id, enabled_by)"
                " VALUES (%(c)s, %(t)s, %(u)s) ON CONFLICT (channel_id) DO NOTHING",
                {"c": channel_id, "t": team_id, "u": user},
            )
        else:
            cur = await conn.execute(
                "DELETE FROM digest_channels WHERE channel_id = %(c)s", {"c": channel_id}
            )
        changed = cur.rowcount == 1
        if changed:
            await conn.execute(
                "INSERT INTO audit_log (actor, action, detail) VALUES (%(u)s, %(a)s,"
                " jsonb_build_object('channel_id', %(c)s::text))",
                {"u": user, "a": "digest.on" if on else "digest.off", "c": channel_id},
            )
        return changed


async def digest_channels(pool: AsyncConnectionPool) -> list[str]:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT channel_id FROM digest_channels ORDER BY channel_id")
        return [row[0] for row in await cur.fetchall()]


async def wants_digest(pool: AsyncConnectionPool, channel_id: str) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT 1 FROM digest_channels WHERE channel_id = %(c)s", {"c": channel_id}
        )
        return await cur.fetchone() is not None
