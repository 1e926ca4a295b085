"""Apply migrations/*.sql in order, once, recorded in schema_migrations.

Several processes may start together (bot, workers); an advisory lock makes them take turns.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from psycopg import AsyncConnection

log = logging.getLogger(__name__)

_LOCK_ID = 0x4641554C  # "FAUL": any constant shared by every FaultMaven process


def migrations_dir() -> Path:
    override = os.environ.get("FAULTMAVEN_MIGRATIONS_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "migrations"


async def apply_migrations(conn: AsyncConnection, directory: Path | None = None) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    directory = directory or migrations_dir()
    files = sorted(directory.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    if not files:
        raise RuntimeError(f"no migrations found in {directory}")
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock(%(lock)s)", {"lock": _LOCK_ID})
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT name FROM schema_migrations")
        done = {row[0] for row in await cur.fetchall()}
        for path in files:
            if path.name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute(
                    "INSERT INTO schema_migrations (name) VALUES (%(name)s)", {"name": path.name}
                )
            log.info("applied migration %s", path.name)
            applied_now.append(path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%(lock)s)", {"lock": _LOCK_ID})
    return applied_now
