"""`redis_diagnose`: one named check of a configured Redis, with read-only commands only.

The checks are fixed (no command can be passed in): INFO, SLOWLOG GET/LEN, CLIENT LIST and
CLIENT ID, MEMORY STATS, and for `memory` a bounded SCAN sample with TYPE and MEMORY USAGE
(never KEYS). Each answer leads with what a person needs ("used 99.8 MB of maxmemory 100 MB
(99 %), policy allkeys-lru; 1,234 keys evicted since start"), then a few scannable lines,
and carries the commands run, one per line, as redis-cli takes them.

Slow log entries show a command's name and first argument (usually the key); the other
arguments are values, which may be anything a user stored, so they are counted, not shown.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field
from redis import exceptions as redis_errors

from engine.core.wording import clip, plural
from engine.tools.base import Tool, ToolAnswer, ToolError
from engine.tools.sources import Source, pick_source

RedisCheck = Literal["info", "slowlog", "clients", "memory"]
CHECKS: dict[RedisCheck, str] = {
    "info": "server version, uptime, role, clients, memory against maxmemory and its policy, "
    "evicted/expired keys, rejected connections, ops/s, hit rate, persistence errors",
    "slowlog": "the last slow commands: duration, command and key (values masked), client",
    "clients": "connected clients by name, address and idle time, and the oldest, idlest and "
    "blocked ones",
    "memory": "used and peak memory, fragmentation, maxmemory, evictions, and the biggest key "
    "types in a small sample of keys",
}
SLOWLOG_ENTRIES = 10
SAMPLE_PAGES = 3  # SCAN calls for the memory check's sample, COUNT 100 each
SAMPLE_PAGE_KEYS = 100
SHOWN_ARG_CHARS = 60
SHOWN_GROUPS = 6
ALL_ARGS_SECRET = {"AUTH", "HELLO"}  # their first argument may be a password
BIG_OUTPUT_BUFFER = 1024 * 1024  # a client whose replies pile up past this is worth naming


class RedisParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str | None = Field(
        default=None, description="the redis source to check; may be left out if only one"
    )
    check: RedisCheck = Field(
        description="which check to run: "
        + "; ".join(f"{name}: {what}" for name, what in CHECKS.items())
    )


class _Commands:
    """The one client of a run, and the commands it sent, to show as the run's query."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.sent: list[str] = []

    async def ask(self, *words: str) -> Any:
        """One command; its reply parsed where redis-py has a parser for its first word
        ("INFO", "CLIENT LIST", "MEMORY STATS", "SCAN"), raw otherwise ("SLOWLOG", "GET")."""
        command = " ".join(words)
        self.sent.append(command)
        try:
            return await self.client.execute_command(*words)
        except redis_errors.ResponseError as exc:
            if isinstance(exc, redis_errors.NoPermissionError):
                raise  # the check fails as not allowed, said once for all commands
            raise _Refused(command, str(exc)) from None

    async def optional(self, *words: str) -> tuple[Any, str | None]:
        """A command whose refusal (renamed, not allowed to this user) leaves a line, not
        a failed check."""
        try:
            return await self.ask(*words), None
        except (_Refused, redis_errors.NoPermissionError) as exc:
            return None, f"{' '.join(words)} was refused: {exc}"


class _Refused(Exception):
    def __init__(self, command: str, message: str) -> None:
        super().__init__(message)
        self.command = command


class RedisDiagnose:
    name: ClassVar[str] = "redis_diagnose"
    description: ClassVar[str] = (
        "Run one named, read-only diagnostic check against a configured Redis (INFO summary, "
        "slow log, clients, memory and evictions). No other command can be run."
    )
    parameters: ClassVar[type[BaseModel]] = RedisParameters

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources

    async def answer(self, arguments: RedisParameters) -> ToolAnswer:
        source = pick_source(self.sources, arguments.source, "redis")
        where = f"redis source {source.name!r}"
        client = _client(source)
        commands = _Commands(client)
        try:
            text = await _REPORTS[arguments.check](commands)
        except redis_errors.AuthenticationError as exc:
            raise ToolError(
                f"{where}: Redis refused the login: {exc} (check the source's credentials_env)"
            ) from None
        except redis_errors.NoPermissionError as exc:
            raise ToolError(f"{where}: the Redis user may not run this check: {exc}") from None
        except _Refused as exc:
            raise ToolError(f"{where}: Redis refused {exc.command}: {exc}") from None
        except redis_errors.TimeoutError:
            raise ToolError(
                f"{where}: no answer from Redis within {source.timeout_s:g} s"
            ) from None
        except (redis_errors.ConnectionError, OSError) as exc:
            raise ToolError(f"{where}: cannot connect to Redis: {exc}") from None
        except redis_errors.RedisError as exc:
            raise ToolError(f"{where}: Redis answered what this check cannot read: {exc}") from None
        finally:
            await client.aclose()
        return ToolAnswer(text=text, query="\n".join(commands.sent))


def redis_tools(sources: list[Source]) -> list[Tool]:
    """The diagnostics tool over the redis sources allowed here (none without one)."""
    return [RedisDiagnose(sources)] if sources else []


def _client(source: Source) -> aioredis.Redis:
    if not source.url:
        raise ToolError(f"redis source {source.name!r} has no url configured")
    password = source.secret()
    extra: dict[str, Any] = {"password": password} if password else {}
    try:
        return aioredis.Redis.from_url(
            source.url,
            # The URL's own password wins over this one (redis-py): the secret is for a URL
            # without one, as the sources file should hold.
            **extra,
            socket_timeout=source.timeout_s,
            socket_connect_timeout=source.timeout_s,
            decode_responses=True,
            encoding_errors="replace",
            # No CLIENT SETINFO on connect: old servers answer it with an error that would
            # show in the user's error stats; we send only the commands a check lists.
            lib_name=None,
            lib_version=None,
        )
    except ValueError as exc:
        raise ToolError(
            f"redis source {source.name!r} has a bad url ({exc}): use redis://host:port/db, "
            "rediss://… or unix:///path"
        ) from None


# --- wording ---------------------------------------------------------------------------------


def _size(value: Any) -> str:
    size = float(value or 0)
    for unit in ("bytes", "kB", "MB", "GB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def _seconds(value: Any) -> str:
    """'42 s', '4 min', '2 h 5 min', '3 d 4 h'."""
    whole = int(value or 0)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _micros(value: Any) -> str:
    micros = int(value or 0)
    if micros < 1000:
        return f"{micros} µs"
    if micros < 1_000_000:
        return f"{micros / 1000:.1f} ms"
    return f"{micros / 1_000_000:.2f} s"


def _int(info: dict[str, Any], key: str) -> int:
    try:
        return int(info.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def _client_name(address: str, name: str) -> str:
    return f"{address} {name!r}" if name else address


# --- info ------------------------------------------------------------------------------------


async def _info(commands: _Commands) -> str:
    info: dict[str, Any] = await commands.ask("INFO")
    problems = _problems(info)
    role = info.get("role", "?")
    version = f"Redis {info.get('redis_version', '?')} {role}"
    head = (
        f"{version}: " + "; ".join(problems)
        if problems
        else f"{version}, up {_seconds(info.get('uptime_in_seconds'))}: nothing alarming in INFO"
    )
    lines = [head, _server_line(info), _clients_line(info), _memory_line(info)]
    lines.append(
        f"keys: {_int(info, 'evicted_keys'):,} evicted and {_int(info, 'expired_keys'):,} "
        f"expired since start; " + _keyspace(info)
    )
    hits, misses = _int(info, "keyspace_hits"), _int(info, "keyspace_misses")
    rate = f"{round(100 * hits / (hits + misses))} %" if hits + misses else "no lookups yet"
    lines.append(
        f"load: {_int(info, 'instantaneous_ops_per_sec'):,} ops/s; keyspace hit rate: {rate} "
        f"({hits:,} hits, {misses:,} misses)"
    )
    lines.append(_persistence_line(info))
    return "\n".join(lines)


def _problems(info: dict[str, Any]) -> list[str]:
    found = []
    if _int(info, "loading"):
        found.append("still loading its dataset")
    if info.get("role") == "slave" and info.get("master_link_status") != "up":
        found.append(f"the link to its master is {info.get('master_link_status', 'unknown')}")
    for key, what in (
        ("rdb_last_bgsave_status", "the last RDB save failed"),
        ("aof_last_write_status", "the last AOF write failed"),
        ("aof_last_bgrewrite_status", "the last AOF rewrite failed"),
    ):
        if info.get(key, "ok") != "ok":
            found.append(f"{what} ({key}:{info[key]})")
    used, most = _int(info, "used_memory"), _int(info, "maxmemory")
    if most and used >= 0.9 * most:
        found.append(
            f"memory at {round(100 * used / most)} % of maxmemory "
            f"({info.get('maxmemory_policy', '?')})"
        )
    if _int(info, "evicted_keys"):
        found.append(f"{_int(info, 'evicted_keys'):,} keys evicted since start")
    if _int(info, "rejected_connections"):
        found.append(
            f"{_int(info, 'rejected_connections'):,} connections rejected (maxclients "
            f"{info.get('maxclients', '?')})"
        )
    return found


def _server_line(info: dict[str, Any]) -> str:
    line = (
        f"server: Redis {info.get('redis_version', '?')} ({info.get('redis_mode', '?')}), "
        f"up {_seconds(info.get('uptime_in_seconds'))}, role {info.get('role', '?')}"
    )
    if info.get("role") == "master":
        line += f" with {plural(_int(info, 'connected_slaves'), 'replica')}"
    else:
        line += (
            f" of {info.get('master_host', '?')}:{info.get('master_port', '?')}, link "
            f"{info.get('master_link_status', '?')}"
        )
    return line


def _clients_line(info: dict[str, Any]) -> str:
    most = f" of maxclients {info['maxclients']:,}" if "maxclients" in info else ""
    return (
        f"clients: {_int(info, 'connected_clients'):,} connected{most}, "
        f"{_int(info, 'blocked_clients'):,} blocked; "
        f"{_int(info, 'rejected_connections'):,} connections rejected since start"
    )


def _memory_line(info: dict[str, Any]) -> str:
    used, most = _int(info, "used_memory"), _int(info, "maxmemory")
    limit = (
        f"of maxmemory {_size(most)} ({round(100 * used / most)} %)"
        if most
        else "(no maxmemory set)"
    )
    return (
        f"memory: used {_size(used)} {limit}, policy {info.get('maxmemory_policy', '?')}; "
        f"peak {_size(info.get('used_memory_peak'))}; fragmentation ratio "
        f"{info.get('mem_fragmentation_ratio', '?')}"
    )


def _keyspace(info: dict[str, Any]) -> str:
    dbs = [
        f"{name} {int(value.get('keys', 0)):,} keys ({int(value.get('expires', 0)):,} with a TTL)"
        for name, value in info.items()
        if name.startswith("db") and isinstance(value, dict)
    ]
    return ", ".join(dbs) or "no keys"


def _persistence_line(info: dict[str, Any]) -> str:
    rdb = (
        f"RDB last save {info.get('rdb_last_bgsave_status', '?')}, "
        f"{_int(info, 'rdb_changes_since_last_save'):,} changes since"
    )
    if _int(info, "aof_enabled"):
        aof = (
            f"AOF on, last write {info.get('aof_last_write_status', '?')}, last rewrite "
            f"{info.get('aof_last_bgrewrite_status', '?')}"
        )
    else:
        aof = "AOF off"
    return f"persistence: {rdb}; {aof}"


# --- slowlog ---------------------------------------------------------------------------------


async def _slowlog(commands: _Commands) -> str:
    entries: list[list[Any]] = await commands.ask("SLOWLOG", "GET", str(SLOWLOG_ENTRIES))
    kept = int(await commands.ask("SLOWLOG", "LEN"))
    if not entries:
        return (
            "The slow log is empty: no command ran slower than slowlog-log-slower-than since "
            "it was last reset."
        )
    slowest = max(entries, key=lambda entry: int(entry[2]))
    lines = [
        f"{kept:,} {'entry' if kept == 1 else 'entries'} in the slow log; of the last "
        f"{len(entries)}, the slowest took {_micros(slowest[2])}: "
        f"{_command(slowest[3])} from {_entry_client(slowest)}"
    ]
    for entry in entries:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(entry[1])))
        lines.append(
            f"- #{entry[0]} {at} UTC {_micros(entry[2])} {_command(entry[3])} "
            f"— {_entry_client(entry)}"
        )
    return "\n".join(lines)


def _entry_client(entry: list[Any]) -> str:
    """The client of a slow log entry (Redis 4 and later say who it was)."""
    if len(entry) < 6:
        return "an unknown client"
    return _client_name(str(entry[4]), str(entry[5]))


def _command(args: list[Any]) -> str:
    """`SET user:1 [+1 arg]`: the name and first argument (the key, mostly); the rest
    counted, never shown."""
    words = [str(arg) for arg in args]
    if not words:
        return "(no command)"
    name = words[0].upper()
    rest = words[1:]
    # Redis cuts long commands itself: its last argument then says how many more there were.
    hidden_by_redis = 0
    if rest and rest[-1].startswith("... (") and rest[-1].endswith("more arguments)"):
        hidden_by_redis = int("".join(ch for ch in rest.pop() if ch.isdigit()) or 0)
    if name in ALL_ARGS_SECRET:
        shown, masked = [], len(rest) + hidden_by_redis
    else:
        shown, masked = rest[:1], len(rest) - 1 + hidden_by_redis
    text = " ".join([name, *(_quoted(clip(arg, SHOWN_ARG_CHARS)) for arg in shown)])
    if masked > 0:
        text += f" [+{plural(masked, 'arg')}]"
    return text


def _quoted(arg: str) -> str:
    """An argument as redis-cli takes it: in double quotes when it holds a space or quote."""
    if arg and not any(ch.isspace() or ch in "\"'" for ch in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- clients ---------------------------------------------------------------------------------


async def _clients(commands: _Commands) -> str:
    me = int(await commands.ask("CLIENT ID"))
    listed: list[dict[str, str]] = await commands.ask("CLIENT LIST")
    info: dict[str, Any] = await commands.ask("INFO", "clients")
    clients = [c for c in listed if int(c.get("id", -1)) != me]
    most = f" (maxclients {int(info['maxclients']):,})" if "maxclients" in info else ""
    if not clients:
        return f"No client is connected besides this check{most}."
    blocked = [c for c in clients if "b" in c.get("flags", "")]
    idlest = max(clients, key=lambda c: int(c.get("idle", 0)))
    oldest = max(clients, key=lambda c: int(c.get("age", 0)))
    head = f"{plural(len(clients), 'client')} connected{most}"
    if blocked:
        head += f", {len(blocked)} blocked"
    by_name = Counter(repr(c["name"]) if c.get("name") else "(no name)" for c in clients)
    top_name, top_count = by_name.most_common(1)[0]
    if top_count > 1 and top_name != "(no name)":
        head += f"; most named {top_name} ({top_count})"
    head += f"; the idlest for {_seconds(idlest['idle'])}"
    lines = [head]
    lines.append("by name: " + _ranked(by_name))
    by_address = Counter(c.get("addr", "?").rsplit(":", 1)[0] for c in clients)
    lines.append("by address: " + _ranked(by_address))
    idle = Counter(_idle_band(int(c.get("idle", 0))) for c in clients)
    lines.append(
        "by idle time: " + ", ".join(f"{band} {idle[band]}" for band in _IDLE_BANDS if idle[band])
    )
    lines.append(f"oldest: {_describe(oldest)}")
    lines.append(f"idlest: {_describe(idlest)}")
    for client in blocked[:SHOWN_GROUPS]:
        lines.append(f"blocked: {_describe(client)}")
    if len(blocked) > SHOWN_GROUPS:
        lines.append(f"(and {len(blocked) - SHOWN_GROUPS} more blocked)")
    heavy = sorted(
        (c for c in clients if int(c.get("omem", 0)) > BIG_OUTPUT_BUFFER),
        key=lambda c: -int(c.get("omem", 0)),
    )
    for client in heavy[:3]:
        lines.append(f"output buffer {_size(client['omem'])}: {_describe(client)}")
    subscribers = sum(1 for c in clients if int(c.get("sub", 0)) or int(c.get("psub", 0)))
    if subscribers:
        lines.append(f"pub/sub: {plural(subscribers, 'subscriber')}")
    return "\n".join(lines)


_IDLE_BANDS = ("under 1 min", "1-10 min", "10 min-1 h", "over 1 h")


def _idle_band(seconds: int) -> str:
    if seconds < 60:
        return _IDLE_BANDS[0]
    if seconds < 600:
        return _IDLE_BANDS[1]
    if seconds < 3600:
        return _IDLE_BANDS[2]
    return _IDLE_BANDS[3]


def _ranked(counts: Counter[str]) -> str:
    shown = ", ".join(f"{name} {n}" for name, n in counts.most_common(SHOWN_GROUPS))
    others = len(counts) - SHOWN_GROUPS
    return shown + (f", and {plural(others, 'other')}" if others > 0 else "")


def _describe(client: dict[str, str]) -> str:
    return (
        f"id {client.get('id')} {_client_name(client.get('addr', '?'), client.get('name', ''))}"
        f", connected {_seconds(client.get('age'))}, idle {_seconds(client.get('idle'))}, "
        f"last command {client.get('cmd', '?')}"
    )


# --- memory ----------------------------------------------------------------------------------


async def _memory(commands: _Commands) -> str:
    info: dict[str, Any] = await commands.ask("INFO")
    stats, refused = await commands.optional("MEMORY STATS")
    used, most = _int(info, "used_memory"), _int(info, "maxmemory")
    policy = info.get("maxmemory_policy", "?")
    evicted = _int(info, "evicted_keys")
    if most:
        head = (
            f"used {_size(used)} of maxmemory {_size(most)} ({round(100 * used / most)} %), "
            f"policy {policy}"
        )
    else:
        head = f"used {_size(used)}, no maxmemory set (Redis grows until the host runs out)"
    head += f"; {evicted:,} keys evicted since start"
    lines = [head]
    lines.append(
        f"peak {_size(info.get('used_memory_peak'))}, RSS {_size(info.get('used_memory_rss'))}; "
        + _fragmentation(info)
    )
    if stats:
        lines.append(
            f"dataset {_size(stats.get('dataset.bytes'))} "
            f"({float(stats.get('dataset.percentage', 0)):.0f} % of what is used beyond "
            f"start-up), overhead {_size(stats.get('overhead.total'))}; "
            f"{int(stats.get('keys.count', 0)):,} keys, about "
            f"{_size(stats.get('keys.bytes-per-key'))} each"
        )
        buffers = {
            "clients": stats.get("clients.normal", 0),
            "replicas": stats.get("clients.slaves", 0),
            "replication backlog": stats.get("replication.backlog", 0),
            "AOF": stats.get("aof.buffer", 0),
        }
        lines.append("buffers: " + ", ".join(f"{k} {_size(v)}" for k, v in buffers.items()))
    elif refused:
        lines.append(refused)
    lines.append(await _sample(commands))
    return "\n".join(lines)


def _fragmentation(info: dict[str, Any]) -> str:
    ratio = float(info.get("mem_fragmentation_ratio") or 0)
    said = f"fragmentation ratio {ratio:.2f}"
    if ratio > 1.5 and _int(info, "used_memory_rss") > 100 * 1024 * 1024:
        said += " (high: memory the OS gave Redis is held but unused; activedefrag may help)"
    elif 0 < ratio < 1:
        said += " (below 1: part of Redis's memory is swapped out)"
    return said


async def _sample(commands: _Commands) -> str:
    """The biggest key types in a few SCAN pages (never KEYS): bounded work, whatever the
    size of the keyspace."""
    keys: list[str] = []
    cursor = "0"
    for _ in range(SAMPLE_PAGES):
        reply, refused = await commands.optional("SCAN", cursor, "COUNT", str(SAMPLE_PAGE_KEYS))
        if refused:
            return refused
        cursor, page = str(reply[0]), list(reply[1])
        keys += page
        if cursor == "0":
            break
    if not keys:
        return "no keys to sample in this database"
    commands.sent.append(f"TYPE <key>; MEMORY USAGE <key>  (for each of the {len(keys)} keys)")
    pipe = commands.client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        pipe.memory_usage(key)
    try:
        replies = await pipe.execute()
    except redis_errors.ResponseError as exc:
        return f"TYPE / MEMORY USAGE of the sampled keys was refused: {exc}"
    count: Counter[str] = Counter()
    size: Counter[str] = Counter()
    biggest: list[tuple[int, str, str]] = []
    for i, key in enumerate(keys):
        kind, usage = replies[2 * i], replies[2 * i + 1]
        if usage is None:  # deleted since the SCAN
            continue
        count[str(kind)] += 1
        size[str(kind)] += int(usage)
        biggest.append((int(usage), key, str(kind)))
    if not count:
        return "MEMORY USAGE gave no sizes for the sampled keys"
    biggest.sort(reverse=True)
    by_type = ", ".join(
        f"{kind} {plural(count[kind], 'key')} {_size(total)}" for kind, total in size.most_common()
    )
    top = ", ".join(
        f"{clip(key, SHOWN_ARG_CHARS)!r} ({kind}) {_size(n)}" for n, key, kind in biggest[:3]
    )
    return f"in a sample of {plural(len(keys), 'key')}: {by_type}; the biggest: {top}"


_REPORTS: dict[RedisCheck, Callable[[_Commands], Awaitable[str]]] = {
    "info": _info,
    "slowlog": _slowlog,
    "clients": _clients,
    "memory": _memory,
}
