"""The one Postgres connection pool (DESIGN.md section 4, rule 6), and its readiness check."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from engine.ops.health import CHECK_TIMEOUT_S, Check

# How long a caller waits for a connection before PoolTimeout. Well under a job's time limit
# (FAULTMAVEN_JOB_TIMEOUT_S, 120 s by default): while Postgres is down a job must fail with
# an error arq retries, not sit out its whole time limit (arq does not retry timeouts), and
# a listener must not hold its ack that long.
CONNECTION_WAIT_S = 10.0


async def open_pool(
    url: str, *, min_size: int = 1, max_size: int = 10, wait_s: float = CONNECTION_WAIT_S
) -> AsyncConnectionPool:
    """Open a pool that checks connections before lending them, so a Postgres restart heals:
    broken connections are dropped at lending time and new ones made once the server is back."""
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        open=False,
        check=AsyncConnectionPool.check_connection,
        kwargs={"autocommit": True},
        timeout=wait_s,
    )
    await pool.open(wait=True, timeout=30)
    return pool


def readiness_check(pool: AsyncConnectionPool) -> Check:
    """Postgres's readiness check (engine/ops/health.py): a connection within the check's
    time, and an answer to a query on it."""

    async def check() -> None:
        async with pool.connection(timeout=CHECK_TIMEOUT_S) as conn:
            await conn.execute("SELECT 1")

    return check
