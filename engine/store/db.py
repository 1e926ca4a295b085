"""The one Postgres connection pool (DESIGN.md section 4, rule 6)."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool:
    """Open a pool that checks connections before lending them, so a Postgres restart heals."""
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True},
    )
    await pool.open(wait=True, timeout=30)
    return pool
