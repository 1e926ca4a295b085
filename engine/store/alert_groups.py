"""Alertmanager groups and the case each opened (alert_groups, migrations/0009).

A row is claimed before its case is opened, so two notifications of a new group handled at
once (a retry beside the next notification, two Alertmanager replicas) open one case: the
claim's holder opens it, the other waits (engine/cases/alert_cases.py retries it).
"""

from __future__ import annotations

from datetime import datetime

from psycopg.rows import class_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

_COLUMNS = (
    "group_key, channel_id, case_id, incident, opener_key, claimed_at, firing, state, resolved_at"
)


class AlertGroup(BaseModel):
    group_key: str
    channel_id: str
    case_id: int | None
    incident: int
    opener_key: str
    claimed_at: datetime
    firing: dict[str, str] = Field(description="alert key -> how it reads in the thread")
    state: str | None
    resolved_at: datetime | None


async def get(pool: AsyncConnectionPool, group_key: str) -> AlertGroup | None:
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(AlertGroup)) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM alert_groups WHERE group_key = %(g)s", {"g": group_key}
        )
        return await cur.fetchone()


async def claim(
    pool: AsyncConnectionPool, *, group_key: str, channel_id: str, key: str, stale_s: float
) -> AlertGroup:
    """The group's row, claimed for notification `key` when the group has no case yet and
    nobody else holds a fresh claim (a claim older than `stale_s` is taken over)."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(AlertGroup)) as cur:
        await cur.execute(
            "INSERT INTO alert_groups (group_key, channel_id, opener_key)"
            " VALUES (%(g)s, %(channel)s, %(key)s)"
            " ON CONFLICT (group_key) DO UPDATE"
            " SET opener_key = EXCLUDED.opener_key, claimed_at = now(), updated_at = now()"
            " WHERE alert_groups.case_id IS NULL"
            "  AND alert_groups.opener_key <> EXCLUDED.opener_key"
            "  AND alert_groups.claimed_at < now() - make_interval(secs => %(stale)s)",
            {"g": group_key, "channel": channel_id, "key": key, "stale": stale_s},
        )
        await cur.execute(
            f"SELECT {_COLUMNS} FROM alert_groups WHERE group_key = %(g)s", {"g": group_key}
        )
        row = await cur.fetchone()
    assert row is not None  # inserted or already there; groups are never deleted
    return row


async def set_case(
    pool: AsyncConnectionPool, *, group_key: str, key: str, case_id: int, firing: dict[str, str]
) -> bool:
    """The claim's holder opened the group's case; False when its claim was taken over."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "UPDATE alert_groups SET case_id = %(case)s, firing = %(firing)s, updated_at = now()"
            " WHERE group_key = %(g)s AND opener_key = %(key)s"
            "  AND (case_id IS NULL OR case_id = %(case)s)",
            {"g": group_key, "key": key, "case": case_id, "firing": Jsonb(firing)},
        )
        return cur.rowcount == 1


async def first_look_done(pool: AsyncConnectionPool, *, group_key: str, state: str) -> None:
    """The opening notification is handled (unless a later one already was)."""
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE alert_groups SET state = %(state)s, updated_at = now()"
            " WHERE group_key = %(g)s AND state IS NULL",
            {"g": group_key, "state": state},
        )


async def handled(
    pool: AsyncConnectionPool,
    *,
    group_key: str,
    state: str,
    firing: dict[str, str],
    resolved_at: datetime | None,
) -> None:
    """A later notification is handled: what fires now, and whether the group resolved."""
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE alert_groups SET state = %(state)s, firing = %(firing)s,"
            " resolved_at = %(resolved)s, updated_at = now() WHERE group_key = %(g)s",
            {"g": group_key, "state": state, "firing": Jsonb(firing), "resolved": resolved_at},
        )


async def start_over(pool: AsyncConnectionPool, *, group_key: str, case_id: int, key: str) -> bool:
    """The group fires again after it resolved and its case was closed: claim it for a new
    case (`key` opens it). False when another notification did so first."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "UPDATE alert_groups SET case_id = NULL, incident = incident + 1,"
            " opener_key = %(key)s, claimed_at = now(), firing = '{}', state = NULL,"
            " resolved_at = NULL, updated_at = now()"
            " WHERE group_key = %(g)s AND case_id = %(case)s",
            {"g": group_key, "case": case_id, "key": key},
        )
        return cur.rowcount == 1
