"""Live checks of a case's hypotheses (check_runs): kept, and read back every turn."""

from __future__ import annotations

from psycopg.rows import class_row
from psycopg_pool import AsyncConnectionPool

from engine.core.tool_runs import CheckResult


async def add(pool: AsyncConnectionPool, case_id: int, check: CheckResult, output: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO check_runs (case_id, hypothesis_key, tool, call, query, ok, verdict,"
            " summary, output, requested_by) VALUES (%(case)s, %(key)s, %(tool)s, %(call)s,"
            " %(query)s, %(ok)s, %(verdict)s, %(summary)s, %(output)s, %(by)s)",
            {
                "case": case_id,
                "key": check.hypothesis_key,
                "tool": check.tool,
                "call": check.call,
                "query": check.query,
                "ok": check.ok,
                "verdict": check.verdict,
                "summary": check.summary,
                "output": output,
                "by": check.requested_by,
            },
        )


async def for_case(pool: AsyncConnectionPool, case_id: int) -> list[CheckResult]:
    """The case's checks, oldest first (a later check of a hypothesis wins)."""
    async with pool.connection() as conn, conn.cursor(row_factory=class_row(CheckResult)) as cur:
        await cur.execute(
            "SELECT hypothesis_key, tool, call, query, ok, verdict, summary, requested_by,"
            " created_at FROM check_runs WHERE case_id = %(case)s ORDER BY id",
            {"case": case_id},
        )
        return await cur.fetchall()
