"""`postgres_diagnose`: one named check of a configured PostgreSQL database, read-only.

The checks are a fixed catalogue (engine/store/diagnostics.py holds their SQL and runs them
in a READ ONLY transaction with the source's time limit as statement timeout); there is no
way to pass SQL. Each answer leads with the verdict a person needs ("93 of 100 connections
used (93 %): 88 idle in transaction from app 'checkout'"), then a few scannable lines, and
carries the catalogue query so it can be rerun in psql.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from engine.core.wording import clip, plural
from engine.store.diagnostics import CATALOGUE, CheckName, DiagnosticsFailed, run_check
from engine.tools.base import Tool, ToolAnswer, ToolError
from engine.tools.sources import Source, pick_source

QUERY_SHOWN_CHARS = 140
MAX_GROUPS_SHOWN = 8
HIDDEN_QUERY = "<insufficient privilege>"  # what Postgres shows of others' sessions
Row = dict[str, Any]


class PostgresParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(
        default=None, description="the postgres source to check; may be left out if only one"
    )
    check: CheckName = Field(
        description="which check to run: "
        + "; ".join(f"{c.name}: {c.description}" for c in CATALOGUE.values())
    )


class PostgresDiagnose:
    name: ClassVar[str] = "postgres_diagnose"
    description: ClassVar[str] = (
        "Run one named, read-only diagnostic check against a configured PostgreSQL database "
        "(connections against max_connections, long-running queries, blocked queries and "
        "their blockers, lock waits, replication lag, sessions idle in transaction). "
        "No other SQL can be run."
    )
    parameters: ClassVar[type[BaseModel]] = PostgresParameters

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources

    async def answer(self, arguments: PostgresParameters) -> ToolAnswer:
        source = pick_source(self.sources, arguments.source, "postgres")
        if not source.url:
            raise ToolError(f"postgres source {source.name!r} has no url (a DSN) configured")
        try:
            rows = await run_check(
                source.url, arguments.check, password=source.secret(), timeout_s=source.timeout_s
            )
        except DiagnosticsFailed as exc:
            raise ToolError(f"postgres source {source.name!r}: {exc.user_message}") from None
        return ToolAnswer(
            text=_REPORTS[arguments.check](rows),
            query=CATALOGUE[arguments.check].sql,
            facts=_facts(arguments.check, rows),
        )


def _facts(check: str, rows: list[Row]) -> dict[str, int]:
    """The numbers a hypothesis's check judges by (engine/cases/live_checks.py)."""
    if check == "connections" and rows:
        used = sum(int(row["sessions"]) for row in rows if row["sessions"])
        return {"used": used, "max": int(rows[0]["max_connections"])}
    if check == "blocked":
        return {"blocked": len({row["pid"] for row in rows})}
    return {}


def postgres_tools(sources: list[Source]) -> list[Tool]:
    """The diagnostics tool over the postgres sources allowed here (none without one)."""
    return [PostgresDiagnose(sources)] if sources else []


# --- wording -------------------------------------------------------------------------------


def _took(value: timedelta | None) -> str:
    """'0.4 s', '42 s', '4 min 10 s', '2 h 5 min', '3 d 4 h'."""
    if value is None:
        return "?"
    seconds = max(0.0, value.total_seconds())
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _bytes(value: float | None) -> str:
    if value is None:
        return "?"
    size = float(value)
    for unit in ("bytes", "kB", "MB", "GB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _many(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _who(application: str | None, username: str | None) -> str:
    """ "app 'checkout' as shop", or "user shop" for a session that gave no name."""
    user = username or "?"
    return f"app {application!r} as {user}" if application else f"user {user}"


def _query(text: str | None) -> str:
    if not text:
        return "(no query)"
    if text == HIDDEN_QUERY:
        return "(query hidden from this user: grant it pg_monitor)"
    return "'" + clip(text, QUERY_SHOWN_CHARS) + "'"


def _waiting(row: Row) -> str:
    if not row.get("wait_event_type"):
        return ""
    return f", waiting on {row['wait_event_type']}/{row['wait_event']}"


# --- one report per check ----------------------------------------------------------------


def _connections(rows: list[Row]) -> str:
    limits = rows[0]
    most = int(limits["max_connections"])
    superuser = int(limits["superuser_reserved"])
    reserved = int(limits["reserved"])
    groups = [row for row in rows if row["sessions"]]
    used = sum(int(row["sessions"]) for row in groups)
    by_state: Counter[str] = Counter()
    by_state_and_who: Counter[tuple[str, str, str]] = Counter()
    by_who: dict[tuple[str, str], Counter[str]] = {}
    by_database: Counter[str] = Counter()
    for row in groups:
        n = int(row["sessions"])
        by_state[row["state"]] += n
        by_state_and_who[(row["state"], row["application"], row["username"])] += n
        by_who.setdefault((row["application"], row["username"]), Counter())[row["state"]] += n
        by_database[row["database"] or "(none)"] += n
    share = round(100 * used / most) if most else 0
    head = f"{used} of {most} connections used ({share} %)"
    if by_state_and_who:
        (state, application, username), n = by_state_and_who.most_common(1)[0]
        head += f": {n} {state} from {_who(application, username)}"
    free_for_others = most - superuser - reserved - used
    if free_for_others <= 0:
        head += " — no slot is left for ordinary roles"
    lines = [head]
    if by_state:
        lines.append(
            "by state: " + ", ".join(f"{state} {n}" for state, n in by_state.most_common())
        )
        lines.append("by application and user:")
        ranked = sorted(by_who.items(), key=lambda item: -sum(item[1].values()))
        for (application, username), states in ranked[:MAX_GROUPS_SHOWN]:
            detail = ", ".join(f"{n} {state}" for state, n in states.most_common())
            lines.append(f"- {_who(application, username)}: {sum(states.values())} ({detail})")
        if len(ranked) > MAX_GROUPS_SHOWN:
            lines.append(f"- and {plural(len(ranked) - MAX_GROUPS_SHOWN, 'other')}")
    if len(by_database) > 1:
        lines.append(
            "by database: " + ", ".join(f"{db} {n}" for db, n in by_database.most_common())
        )
    if by_state.get("unknown"):
        lines.append(
            f"{plural(by_state['unknown'], 'session')} hide their state from this user "
            "(grant it pg_monitor to see them)"
        )
    slots = f"{superuser} slots are reserved for superusers (superuser_reserved_connections)"
    if reserved:
        slots += f" and {reserved} for pg_use_reserved_connections (reserved_connections)"
    lines.append(f"{slots}: other roles can open about {max(0, free_for_others)} more")
    lines.append("(this check's own connection is not counted)")
    return "\n".join(lines)


def _long_queries(rows: list[Row]) -> str:
    if not rows:
        return "No query is running (besides this check)."
    first = rows[0]
    lines = [
        f"{_many(int(first['total']), 'query', 'queries')} running; the longest for "
        f"{_took(first['running_for'])} (pid {first['pid']}, "
        f"{_who(first['application'], first['username'])}{_waiting(first)}): "
        f"{_query(first['query'])}"
    ]
    for row in rows:
        lines.append(
            f"- {_took(row['running_for'])} pid {row['pid']} {row['state']}{_waiting(row)}, "
            f"{_who(row['application'], row['username'])}, db {row['database'] or '?'}: "
            f"{_query(row['query'])}"
        )
    if int(first["total"]) > len(rows):
        lines.append(f"(the {len(rows)} longest of {first['total']} shown)")
    return "\n".join(lines)


def _blocker(row: Row) -> str:
    state = row["blocker_state"] or "state unknown"
    took = _took(row["blocker_state_for"])
    transaction = (
        f", transaction open {_took(row['blocker_transaction_for'])}"
        if row["blocker_transaction_for"] is not None
        else ""
    )
    said = "query" if state == "active" else "last query"
    return (
        f"pid {row['blocker_pid']} ({state} for {took}{transaction}, "
        f"{_who(row['blocker_application'], row['blocker_username'])}), "
        f"{said} {_query(row['blocker_query'])}"
    )


def _blocked(rows: list[Row]) -> str:
    if not rows:
        return "No session is waiting on a lock."
    waiters: dict[int, list[Row]] = {}
    for row in rows:
        waiters.setdefault(row["pid"], []).append(row)
    roots: dict[int, Row] = {}
    for row in rows:
        if not row["blocker_waits_too"] and row["blocker_pid"] is not None:
            roots.setdefault(row["blocker_pid"], row)
    longest = rows[0]
    head = (
        f"{plural(len(waiters), 'session')} blocked, the longest for "
        f"{_took(longest['waiting_for'])}"
    )
    if roots:
        head += "; blocked by " + "; ".join(_blocker(row) for row in roots.values())
    lines = [head]
    for pid, blockers in waiters.items():
        row = blockers[0]
        on = f" on {row['relation']}" if row["relation"] else ""
        lines.append(
            f"- pid {pid} ({_who(row['application'], row['username'])}) has waited "
            f"{_took(row['waiting_for'])} for {row['lock'] or 'a lock'}{on}: "
            f"{_query(row['query'])}"
        )
        for blocker in blockers:
            lines.append(f"  blocked by {_blocker(blocker)}")
    return "\n".join(lines)


def _locks(rows: list[Row]) -> str:
    if not rows:
        return "No lock waits right now."
    total = sum(int(row["waiting"]) for row in rows)
    first = rows[0]
    lines = [
        f"{plural(total, 'lock wait')}; the most on {first['relation'] or first['locktype']}: "
        f"{first['waiting']} waiting for {first['mode']}, the longest for "
        f"{_took(first['longest_wait'])}"
    ]
    for row in rows:
        pids = ", ".join(str(pid) for pid in row["pids"] or [])
        lines.append(
            f"- {row['relation'] or '(no relation)'}: {row['waiting']} waiting for "
            f"{row['mode']} on {row['locktype']}, the longest for {_took(row['longest_wait'])} "
            f"(pids {pids})"
        )
    lines.append(
        f"{first['held_in_all']} locks are held in all; the `blocked` check names who holds them"
    )
    return "\n".join(lines)


def _replication(rows: list[Row]) -> str:
    first = rows[0]
    lines: list[str] = []
    if first["standby"]:
        receiver = first["receiver_status"] or "not running"
        sender = f" from {first['sender_host']}" if first["sender_host"] else ""
        behind = first["replay_bytes_behind_received"]
        lines.append(
            f"This server is a standby: its WAL receiver is {receiver}{sender}; the last "
            f"replayed transaction committed {_took(first['since_last_replayed'])} ago"
            + (f"; replay is {_bytes(behind)} behind what was received" if behind else "")
        )
        lines.append(
            "(with no writes on the primary that age grows without any lag: compare the "
            "primary's replication check)"
        )
    standbys = [row for row in rows if row["state"] is not None]
    if standbys:
        worst = standbys[0]
        lines.append(
            f"{_many(len(standbys), 'standby', 'standbys')} streaming; the furthest behind: "
            f"{_standby(worst)}"
        )
        lines += [f"- {_standby(row)}" for row in standbys]
    elif not first["standby"]:
        lines.append("No standby is streaming from this server (pg_stat_replication is empty).")
    if first["inactive_slots"]:
        lines.append(
            f"{plural(int(first['inactive_slots']), 'inactive replication slot')} keep "
            f"{_bytes(first['inactive_slots_retain_bytes'])} of WAL on disk until used or dropped"
        )
    return "\n".join(lines)


def _standby(row: Row) -> str:
    return (
        f"{row['standby_name'] or '(unnamed)'!r} ({row['client'] or 'local'}) "
        f"{_bytes(row['replay_bytes_behind'])} behind, replay lag {_took(row['replay_lag'])} "
        f"(write {_took(row['write_lag'])}, flush {_took(row['flush_lag'])}), "
        f"{row['state']}, {row['sync_state']}"
    )


def _idle_in_transaction(rows: list[Row]) -> str:
    if not rows:
        return "No session is idle in transaction."
    first = rows[0]
    blocking = f", blocking {plural(int(first['blocking']), 'session')}"
    lines = [
        f"{plural(int(first['total']), 'session')} idle in transaction; the longest for "
        f"{_took(first['idle_for'])} (pid {first['pid']}, "
        f"{_who(first['application'], first['username'])}), holding "
        f"{plural(int(first['locks_held']), 'lock')}" + (blocking if first["blocking"] else "")
    ]
    for row in rows:
        aborted = " (aborted)" if row["state"].endswith("(aborted)") else ""
        lines.append(
            f"- pid {row['pid']} idle{aborted} {_took(row['idle_for'])} (transaction open "
            f"{_took(row['transaction_for'])}), {_who(row['application'], row['username'])}, "
            f"{plural(int(row['locks_held']), 'lock')}"
            + (f", blocking {row['blocking']}" if row["blocking"] else "")
            + f": last query {_query(row['last_query'])}"
        )
    if int(first["total"]) > len(rows):
        lines.append(f"(the {len(rows)} longest idle of {first['total']} shown)")
    timeout = first["session_timeout"]
    lines.append(
        "idle_in_transaction_session_timeout is "
        + ("off (0): such sessions are never ended" if timeout in ("0", "0ms") else timeout)
    )
    return "\n".join(lines)


_REPORTS: dict[CheckName, Callable[[list[Row]], str]] = {
    "connections": _connections,
    "long_queries": _long_queries,
    "blocked": _blocked,
    "locks": _locks,
    "replication": _replication,
    "idle_in_transaction": _idle_in_transaction,
}
