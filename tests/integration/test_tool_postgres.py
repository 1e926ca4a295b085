"""`postgres_diagnose` against the embedded Postgres driven into real trouble: sessions held
open and idle in transaction, a row lock held by one session with another really blocked on
it, a long pg_sleep, the statistics views locked past a statement timeout. And the safety
line: no SQL but the catalogue's can run, and the catalogue's transaction is read only.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest

from engine.store.diagnostics import CATALOGUE, read_only_transaction
from engine.tools.postgres_diagnostics import postgres_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Source
from tests.restartable import free_port

pytestmark = pytest.mark.integration

TOOL = "postgres_diagnose"
DEADLINE_S = 15.0


def _registry(url: str, **settings: Any) -> ToolRegistry:
    source = Source(name="shop-db", kind="postgres", url=url, **settings)
    return ToolRegistry(postgres_tools([source]))


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {DEADLINE_S:g} s")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def _connection(
    url: str, application: str, *, autocommit: bool = True
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    conn = await psycopg.AsyncConnection.connect(
        url, autocommit=autocommit, application_name=application
    )
    try:
        yield conn
    finally:
        await conn.close()


async def _one(conn: psycopg.AsyncConnection[Any], query: str, *params: Any) -> Any:
    cur = await conn.execute(query, params or None)
    row = await cur.fetchone()
    assert row is not None
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


async def _state(watcher: psycopg.AsyncConnection[Any], pid: int) -> tuple[str, str]:
    cur = await watcher.execute(
        "SELECT coalesce(state, ''), coalesce(wait_event_type, '') FROM pg_stat_activity"
        " WHERE pid = %s",
        (pid,),
    )
    row = await cur.fetchone()
    return (row[0], row[1]) if row else ("", "")


@pytest.fixture
async def accounts(db_url: str) -> str:
    """A table of the user's own, with one row sessions fight over."""
    async with _connection(db_url, "setup") as conn:
        await conn.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)")
        await conn.execute("INSERT INTO accounts VALUES (1, 100)")
    return db_url


async def test_connections_reports_held_sessions_against_max_connections(db_url: str) -> None:
    async with _connection(db_url, "watcher") as watcher:
        most = int(await _one(watcher, "SHOW max_connections"))
        reserved = int(await _one(watcher, "SHOW superuser_reserved_connections"))
        user = await _one(watcher, "SELECT current_user")
        held: list[psycopg.AsyncConnection[Any]] = []
        try:
            for i in range(14):
                app = "checkout" if i < 12 else "report"
                conn = await psycopg.AsyncConnection.connect(
                    db_url, autocommit=i >= 9, application_name=app
                )
                held.append(conn)
                await conn.execute("SELECT 1")  # the first 9 stay idle in a transaction
            run = await _registry(db_url).run(TOOL, {"check": "connections"})
        finally:
            for conn in held:
                await conn.close()

    assert run.ok, run.error
    head = run.output.splitlines()[0]
    found = re.fullmatch(
        r"(\d+) of (\d+) connections used \((\d+) %\): 9 idle in transaction from app "
        rf"'checkout' as {user}",
        head,
    )
    assert found, head
    used = int(found[1])
    assert used >= 15  # ours and the watcher; other tests' sessions may come on top
    assert int(found[2]) == most and int(found[3]) == round(100 * used / most)
    assert f"- app 'checkout' as {user}: 12 (9 idle in transaction, 3 idle)" in run.output
    assert f"- app 'report' as {user}: 2 (2 idle)" in run.output
    assert f"{reserved} slots are reserved for superusers" in run.output
    # The query shown is the catalogue's, and runs as is in psql.
    assert run.query == CATALOGUE["connections"].sql
    async with _connection(db_url, "psql") as conn:
        assert await _one(conn, run.query) == most


async def test_blocked_names_the_blocker_and_its_query(accounts: str) -> None:
    async with (
        _connection(accounts, "watcher") as watcher,
        _connection(accounts, "checkout", autocommit=False) as holder,
        _connection(accounts, "payout") as waiter,
    ):
        holder_pid = await _one(holder, "SELECT pg_backend_pid()")
        waiter_pid = await _one(waiter, "SELECT pg_backend_pid()")
        await holder.execute("UPDATE accounts SET balance = balance - 10 WHERE id = 1")
        blocked_update = asyncio.create_task(
            waiter.execute("UPDATE accounts SET balance = balance + 10 WHERE id = 1")
        )
        try:

            async def waiting() -> bool:
                return await _state(watcher, waiter_pid) == ("active", "Lock")

            await _until(waiting, "the second UPDATE waiting on the row lock")
            registry = _registry(accounts)
            blocked = await registry.run(TOOL, {"check": "blocked"})
            locks = await registry.run(TOOL, {"check": "locks"})
            idle = await registry.run(TOOL, {"check": "idle_in_transaction"})
        finally:
            await holder.rollback()
            await asyncio.wait_for(blocked_update, DEADLINE_S)

    assert blocked.ok, blocked.error
    head, *details = blocked.output.splitlines()
    assert head.startswith("1 session blocked, the longest for ")
    assert f"blocked by pid {holder_pid} (idle in transaction for " in head
    assert "app 'checkout'" in head
    assert "last query 'UPDATE accounts SET balance = balance - 10 WHERE id = 1'" in head
    assert details[0].startswith(f"- pid {waiter_pid} (app 'payout' as ")
    assert "ShareLock on transactionid on public.accounts" in details[0]
    assert "UPDATE accounts SET balance = balance + 10 WHERE id = 1" in details[0]

    assert locks.ok, locks.error
    assert locks.output.startswith("1 lock wait; the most on public.accounts: 1 waiting for ")
    assert f"(pids {waiter_pid})" in locks.output

    assert idle.ok, idle.error
    assert f"(pid {holder_pid}, app 'checkout' as " in idle.output
    assert "blocking 1 session" in idle.output.splitlines()[0]


async def test_long_queries_shows_a_running_sleep(db_url: str) -> None:
    async with _connection(db_url, "watcher") as watcher, _connection(db_url, "batch") as slow:
        pid = await _one(slow, "SELECT pg_backend_pid()")
        sleeping = asyncio.create_task(slow.execute("SELECT pg_sleep(60)"))
        try:

            async def running() -> bool:
                return (await _state(watcher, pid))[0] == "active"

            await _until(running, "pg_sleep running")
            run = await _registry(db_url).run(TOOL, {"check": "long_queries"})
        finally:
            await slow.cancel_safe()
            with pytest.raises(psycopg.errors.QueryCanceled):
                await asyncio.wait_for(sleeping, DEADLINE_S)

    assert run.ok, run.error
    line = next(line for line in run.output.splitlines() if f"pid {pid} " in line)
    assert "active, waiting on Timeout/PgSleep, app 'batch'" in line
    assert "'SELECT pg_sleep(60)'" in line
    assert run.query == CATALOGUE["long_queries"].sql


async def test_a_check_past_its_statement_timeout_gives_a_clear_line(db_url: str) -> None:
    """The statistics view the check reads is locked by another session, so the check
    really waits; the statement timeout (the source's time limit) ends it."""
    registry = _registry(db_url, timeout_s=1)
    async with _connection(db_url, "locker", autocommit=False) as locker:
        await locker.execute("LOCK TABLE pg_catalog.pg_locks IN ACCESS EXCLUSIVE MODE")
        run = await registry.run(TOOL, {"check": "locks"})
        await locker.rollback()
    assert not run.ok
    assert run.error == (
        "postgres source 'shop-db': the check ran past its statement timeout of 1 s and was "
        "cancelled: the server may be overloaded, or the statistics views are locked"
    )
    assert (await registry.run(TOOL, {"check": "locks"})).ok


async def test_an_unreachable_or_missing_database_is_a_clear_error(db_url: str) -> None:
    nowhere = f"host=127.0.0.1 port={free_port()} dbname=shop user=shop"
    run = await _registry(nowhere, timeout_s=3).run(TOOL, {"check": "connections"})
    assert not run.ok
    assert run.error is not None
    assert run.error.startswith("postgres source 'shop-db': cannot connect to Postgres: ")
    assert "Connection refused" in run.error

    missing = psycopg.conninfo.make_conninfo(db_url, dbname="no_such_db")
    run = await _registry(missing).run(TOOL, {"check": "connections"})
    assert run.error is not None and 'database "no_such_db" does not exist' in run.error


@pytest.mark.parametrize("check", list(CATALOGUE))
async def test_every_check_answers_on_a_quiet_database(db_url: str, check: str) -> None:
    run = await _registry(db_url).run(TOOL, {"check": check})
    assert run.ok, run.error
    assert run.query == CATALOGUE[check].sql
    if check == "replication":
        assert "No standby is streaming from this server" in run.output


async def test_no_write_can_run_through_the_tool(accounts: str) -> None:
    """Safety: the tool takes a check's name and nothing else, and the transaction the
    catalogue runs in refuses writes (Postgres says so, not our code)."""
    registry = _registry(accounts)
    (spec,) = registry.specs()
    schema = spec["function"]["parameters"]
    assert set(schema["properties"]) == {"source", "check"}
    assert sorted(schema["properties"]["check"]["enum"]) == sorted(CATALOGUE)

    write = "DELETE FROM public.accounts"  # the search path is pinned to pg_catalog
    for arguments in (
        {"check": "connections", "sql": write},
        {"check": "connections", "query": write},
        {"check": write},
        {"check": f"connections; {write}"},
    ):
        run = await registry.run(TOOL, arguments)
        assert not run.ok and run.error is not None, arguments
        assert run.error.startswith("bad arguments: ")

    async with read_only_transaction(accounts, password=None, timeout_s=5) as conn:
        assert await _one(conn, "SHOW transaction_read_only") == "on"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            await conn.execute(write)
    async with _connection(accounts, "check") as conn:
        assert await _one(conn, "SELECT count(*) FROM accounts") == 1
