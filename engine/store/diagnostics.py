"""The Postgres diagnostics catalogue: named, read-only queries run against the USER's
database, the one a configured `postgres` source names (engine/tools/sources.py), never
against FaultMaven's own.

Each statement lives here because every SQL statement of the project does (and
tests/integration/test_sql_statements.py prepares each one); they read only the statistics
views and settings any Postgres has (pg_stat_activity, pg_locks, pg_stat_replication...).
Nothing else can run: a check is picked by name from `CATALOGUE`, and it runs on a fresh,
short connection, in a transaction that is READ ONLY, with a statement timeout and the
search path pinned to pg_catalog (so a user's function named like a built-in one is never
called), and that is rolled back at the end.

The statements take no parameters, so the text shown beside a result (`CATALOGUE[c].sql`)
runs as is in psql.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, get_args

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from engine.core.errors import FaultMavenError

CheckName = Literal[
    "connections", "long_queries", "blocked", "locks", "replication", "idle_in_transaction"
]
APPLICATION_NAME = "faultmaven-diagnostics"  # how our session reads in pg_stat_activity
QUERY_CHARS = 500  # of a session's query text, cut in the database: a query may be megabytes
MIN_CONNECT_TIMEOUT_S = 2  # libpq treats less as 2 anyway


class DiagnosticsFailed(FaultMavenError):
    """A check could not run: no connection, refused, or past its statement timeout."""


@dataclass(frozen=True)
class Check:
    name: CheckName
    description: str  # one line, shown to a model and in `tools list`
    sql: str


# The name of a relation a lock is on: resolvable only in the database we are connected to;
# pg_locks lists every database's locks. `{rel}`/`{db}` are the columns of one lock row.
_RELATION_NAME = (
    "CASE WHEN {rel} IS NULL THEN NULL"
    " WHEN {db} = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " THEN {rel}::regclass::text"
    " ELSE 'relation ' || {rel} || ' of another database' END"
)
# When a lock wait began: pg_locks.waitstart exists from Postgres 14 on; read through
# to_jsonb so the same statement runs (as NULL, then the query's start) on older servers.
_WAIT_START = "(to_jsonb({lock}) ->> 'waitstart')::timestamptz"

_CONNECTIONS = """\
WITH limits AS (
    SELECT current_setting('max_connections')::int AS max_connections,
           current_setting('superuser_reserved_connections')::int AS superuser_reserved,
           coalesce(current_setting('reserved_connections', true), '0')::int AS reserved
), sessions AS (
    SELECT coalesce(state, 'unknown') AS state,
           coalesce(application_name, '') AS application,
           coalesce(usename, '') AS username,
           coalesce(datname, '') AS database,
           count(*) AS sessions,
           max(now() - state_change) AS longest_in_state
    FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
    GROUP BY 1, 2, 3, 4
)
SELECT limits.max_connections, limits.superuser_reserved, limits.reserved,
       sessions.state, sessions.application, sessions.username, sessions.database,
       sessions.sessions, sessions.longest_in_state
FROM limits LEFT JOIN sessions ON true
ORDER BY sessions.sessions DESC NULLS LAST, sessions.state, sessions.application"""

_LONG_QUERIES = f"""\
SELECT pid, coalesce(usename, '') AS username, coalesce(application_name, '') AS application,
       coalesce(datname, '') AS database, client_addr::text AS client, state,
       wait_event_type, wait_event,
       now() - query_start AS running_for,
       now() - xact_start AS transaction_for,
       left(query, {QUERY_CHARS}) AS query,
       count(*) OVER () AS total
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND state IN ('active', 'fastpath function call')
  AND pid <> pg_backend_pid()
ORDER BY query_start, pid
LIMIT 10"""

_BLOCKED = f"""\
SELECT waiter.pid, coalesce(waiter.usename, '') AS username,
       coalesce(waiter.application_name, '') AS application,
       now() - coalesce(wait.since, waiter.query_start) AS waiting_for,
       wait.lock, relation.name AS relation,
       left(waiter.query, {QUERY_CHARS}) AS query,
       blocker.pid AS blocker_pid,
       coalesce(blocker.usename, '') AS blocker_username,
       coalesce(blocker.application_name, '') AS blocker_application,
       blocker.state AS blocker_state,
       now() - blocker.state_change AS blocker_state_for,
       now() - blocker.xact_start AS blocker_transaction_for,
       left(blocker.query, {QUERY_CHARS}) AS blocker_query,
       cardinality(pg_blocking_pids(blocker.pid)) > 0 AS blocker_waits_too
FROM pg_stat_activity AS waiter
CROSS JOIN LATERAL unnest(pg_blocking_pids(waiter.pid)) AS blocking(pid)
LEFT JOIN pg_stat_activity AS blocker ON blocker.pid = blocking.pid
LEFT JOIN LATERAL (
    SELECT min({_WAIT_START.format(lock="l")}) AS since,
           string_agg(DISTINCT l.mode || ' on ' || l.locktype, ', ') AS lock
    FROM pg_locks AS l
    WHERE l.pid = waiter.pid AND NOT l.granted
) AS wait ON true
LEFT JOIN LATERAL (
    -- a row lock is waited for as the holder's transactionid; the tuple lock names the table
    SELECT {_RELATION_NAME.format(rel="l.relation", db="l.database")} AS name
    FROM pg_locks AS l
    WHERE l.pid = waiter.pid AND l.relation IS NOT NULL
      AND (NOT l.granted OR l.locktype = 'tuple')
    ORDER BY l.granted
    LIMIT 1
) AS relation ON true
WHERE waiter.wait_event_type = 'Lock'
ORDER BY waiting_for DESC NULLS LAST, waiter.pid, blocker.pid
LIMIT 50"""

_LOCKS = f"""\
WITH waits AS (
    SELECT w.pid, w.locktype, w.mode,
           coalesce(w.relation, t.relation) AS relation,
           coalesce(w.database, t.database) AS database,
           coalesce({_WAIT_START.format(lock="w")}, a.query_start) AS since
    FROM pg_locks AS w
    LEFT JOIN pg_stat_activity AS a ON a.pid = w.pid
    LEFT JOIN LATERAL (
        -- a row lock is waited for as the holder's transactionid; the tuple lock names the table
        SELECT l.relation, l.database FROM pg_locks AS l
        WHERE l.pid = w.pid AND l.locktype = 'tuple' AND l.granted
        LIMIT 1
    ) AS t ON w.relation IS NULL
    WHERE NOT w.granted
)
SELECT {_RELATION_NAME.format(rel="relation", db="database")} AS relation,
       locktype, mode,
       count(*) AS waiting,
       max(now() - since) AS longest_wait,
       (array_agg(pid ORDER BY since))[1:10] AS pids,
       (SELECT count(*) FROM pg_locks WHERE granted) AS held_in_all
FROM waits
GROUP BY 1, 2, 3
ORDER BY waiting DESC, longest_wait DESC NULLS LAST
LIMIT 20"""

_REPLICATION = """\
SELECT pg_is_in_recovery() AS standby,
       CASE WHEN pg_is_in_recovery()
            THEN now() - pg_last_xact_replay_timestamp() END AS since_last_replayed,
       CASE WHEN pg_is_in_recovery()
            THEN pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
       END AS replay_bytes_behind_received,
       (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status,
       (SELECT sender_host FROM pg_stat_wal_receiver LIMIT 1) AS sender_host,
       r.application_name AS standby_name, r.client_addr::text AS client,
       r.state, r.sync_state, r.write_lag, r.flush_lag, r.replay_lag,
       CASE WHEN NOT pg_is_in_recovery()
            THEN pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn) END AS replay_bytes_behind,
       (SELECT count(*) FROM pg_replication_slots WHERE NOT active) AS inactive_slots,
       (SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))
        FROM pg_replication_slots
        WHERE NOT active AND NOT pg_is_in_recovery()) AS inactive_slots_retain_bytes
FROM (SELECT 1) AS one
LEFT JOIN pg_stat_replication AS r ON true
ORDER BY replay_bytes_behind DESC NULLS LAST, standby_name"""

_IDLE_IN_TRANSACTION = f"""\
WITH held AS (
    SELECT pid, count(*) AS locks FROM pg_locks WHERE granted GROUP BY pid
), blocked_by AS (
    SELECT unnest(pg_blocking_pids(pid)) AS blocker, pid
    FROM pg_stat_activity
    WHERE wait_event_type = 'Lock'
)
SELECT a.pid, coalesce(a.usename, '') AS username,
       coalesce(a.application_name, '') AS application,
       coalesce(a.datname, '') AS database, a.client_addr::text AS client, a.state,
       now() - a.state_change AS idle_for,
       now() - a.xact_start AS transaction_for,
       left(a.query, {QUERY_CHARS}) AS last_query,
       coalesce(held.locks, 0) AS locks_held,
       (SELECT count(DISTINCT b.pid) FROM blocked_by AS b WHERE b.blocker = a.pid) AS blocking,
       count(*) OVER () AS total,
       current_setting('idle_in_transaction_session_timeout') AS session_timeout
FROM pg_stat_activity AS a
LEFT JOIN held ON held.pid = a.pid
WHERE a.state IN ('idle in transaction', 'idle in transaction (aborted)')
ORDER BY a.state_change, a.pid
LIMIT 20"""

CATALOGUE: dict[CheckName, Check] = {
    check.name: check
    for check in (
        Check(
            "connections",
            "sessions by state and by application/user against max_connections, with the "
            "slots reserved for superusers",
            _CONNECTIONS,
        ),
        Check(
            "long_queries",
            "the longest-running queries: duration, state, wait event, query text",
            _LONG_QUERIES,
        ),
        Check(
            "blocked",
            "queries waiting on a lock, with the sessions blocking them (pg_blocking_pids), "
            "how long they have waited and the lock",
            _BLOCKED,
        ),
        Check("locks", "lock waits summed up by relation and lock mode", _LOCKS),
        Check(
            "replication",
            "replication lag per standby (on a primary), or replay delay (on a standby), "
            "and inactive replication slots holding WAL",
            _REPLICATION,
        ),
        Check(
            "idle_in_transaction",
            "sessions idle inside an open transaction, for how long, and whom they block",
            _IDLE_IN_TRANSACTION,
        ),
    )
}
assert set(CATALOGUE) == set(get_args(CheckName)), "every check name has its query"

# The transaction's guard rails, before the check's statement.
_READ_ONLY = "SET TRANSACTION READ ONLY"
_LIMITS = (
    "SELECT set_config('statement_timeout', %(statement_timeout)s, true),"
    " set_config('search_path', 'pg_catalog, pg_temp', true)"
)


def check_statement(name: CheckName) -> sql.SQL:
    """The catalogue statement of check `name` (the only SQL `run_check` runs)."""
    return sql.SQL(CATALOGUE[name].sql)


@asynccontextmanager
async def read_only_transaction(
    dsn: str, *, password: str | None, timeout_s: float
) -> AsyncIterator[AsyncConnection[dict[str, Any]]]:
    """A fresh connection to the user's database in a READ ONLY transaction whose statements
    stop after `timeout_s`; rolled back and closed on the way out, whatever happened."""
    extra: dict[str, Any] = {"password": password} if password else {}
    try:
        conn = await AsyncConnection.connect(
            dsn,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=max(MIN_CONNECT_TIMEOUT_S, math.ceil(timeout_s)),
            application_name=APPLICATION_NAME,
            **extra,
        )
    except psycopg.Error as exc:
        raise DiagnosticsFailed(_connect_failure(exc)) from None
    try:
        async with conn.transaction(force_rollback=True):
            await conn.execute(_READ_ONLY)
            await conn.execute(
                _LIMITS, {"statement_timeout": f"{max(1, round(timeout_s * 1000))}ms"}
            )
            yield conn
    finally:
        await conn.close()


async def run_check(
    dsn: str, name: CheckName, *, password: str | None, timeout_s: float
) -> list[dict[str, Any]]:
    """The rows of catalogue check `name` on the database `dsn` names."""
    try:
        async with read_only_transaction(dsn, password=password, timeout_s=timeout_s) as conn:
            cur = await conn.execute(check_statement(name))
            return await cur.fetchall()
    except psycopg.errors.QueryCanceled:
        raise DiagnosticsFailed(
            f"the check ran past its statement timeout of {timeout_s:g} s and was cancelled: "
            "the server may be overloaded, or the statistics views are locked"
        ) from None
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DiagnosticsFailed(
            f"the database user may not run this check: {_message(exc)} "
            "(granting it the pg_monitor role lets it read every session's statistics)"
        ) from None
    except psycopg.OperationalError as exc:
        raise DiagnosticsFailed(
            f"the connection failed during the check: {_message(exc)}"
        ) from None
    except psycopg.Error as exc:
        raise DiagnosticsFailed(f"Postgres refused the check: {_message(exc)}") from None


def _message(exc: psycopg.Error) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _connect_failure(exc: psycopg.Error) -> str:
    text = _message(exc)
    lowered = text.lower()
    if "too many clients" in lowered or "connection slots are reserved" in lowered:
        return (
            f"Postgres refused a new connection: {text}. Every connection slot this user may "
            "take is in use: the server is out of connections"
        )
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"Postgres refused the login: {text} (check the source's credentials_env)"
    if "timeout expired" in lowered:
        return f"no connection to Postgres within the time limit: {text}"
    return f"cannot connect to Postgres: {text}"
