"""The real FaultMaven process (role=all) against the fake Slack, on embedded Postgres and
Redis: what the Slack benchmarks measure (bench_slack_roundtrip, bench_case_summary, in this
process; bench_load, in processes of their own)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import tempfile
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.runtime import SlackProcess
from engine.core.config import Settings
from engine.core.crypto import new_key_text
from engine.ops.embedded import EmbeddedServices
from tests.fakes.slack import FakeSlack

warnings.filterwarnings("ignore")
for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(var, None)  # the fake Slack is on loopback


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@asynccontextmanager
async def faultmaven_on_fake_slack(
    *, max_file_mb: float, **overrides: Any
) -> AsyncIterator[FakeSlack]:
    """`faultmaven run` in this process, connected to a fake Slack; stopped cleanly after."""
    with tempfile.TemporaryDirectory(prefix="fm-bench-") as tmp:
        embedded = EmbeddedServices(Path(tmp))
        try:
            async with FakeSlack() as slack:
                settings = Settings(
                    _env_file=None,
                    database_url=embedded.postgres_url(),
                    redis_url=embedded.redis_url(),
                    slack_bot_token=SecretStr(slack.bot_token),
                    slack_app_token=SecretStr(slack.app_token),
                    slack_api_url=slack.api_url,
                    FAULTMAVEN_DATA_DIR=Path(tmp),
                    FAULTMAVEN_MAX_FILE_MB=max_file_mb,
                    FAULTMAVEN_HTTP_PORT=0,  # no ops endpoints: port 8080 may be taken here
                ).model_copy(update=overrides)
                process = SlackProcess(settings, "all")
                task = asyncio.create_task(process.run())
                await slack.wait_for_connections(1, timeout=60)
                try:
                    yield slack
                finally:
                    process.request_stop()
                    await task
        finally:
            embedded.close()


# --- FaultMaven in processes of its own (bench_load) ----------------------------------------


@dataclass
class FaultMavenProcess:
    """One `faultmaven run --role ROLE` child process; its stderr goes to `log_path`."""

    role: str
    proc: asyncio.subprocess.Process
    log_path: Path
    http_port: int  # its operations endpoints (/metrics)

    def _status(self, field: str) -> int:
        """A /proc/PID/status figure in kB (0 once the process is gone)."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def rss_mb(self) -> float:
        return self._status("VmRSS") / 1024

    def peak_rss_mb(self) -> float:
        return self._status("VmHWM") / 1024

    def cpu_s(self) -> float:
        """User + system CPU seconds so far."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def faultmaven_env(
    slack: FakeSlack, *, database_url: str, redis_url: str, data_dir: Path
) -> dict[str, str]:
    """The environment of a `faultmaven run` against the fake Slack: no LLM (offline
    reasoner), no proxy, warnings only in the logs, one evidence key for every process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "SLACK_"))}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_APP_TOKEN=slack.app_token,
        SLACK_API_URL=slack.api_url,
        FAULTMAVEN_DATA_DIR=str(data_dir),
        FAULTMAVEN_LOG_LEVEL="WARNING",
        FAULTMAVEN_EVIDENCE_KEY=new_key_text(),
    )
    return env


def _free_port() -> int:
    """A loopback port free now (8080 may be taken here)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def faultmaven_processes(
    slack: FakeSlack, roles: list[str], env: dict[str, str], log_dir: Path
) -> AsyncIterator[list[FaultMavenProcess]]:
    """`faultmaven run --role R` for each role, each in a process of its own, until every bot
    role holds a socket; SIGTERM (a clean stop) on the way out."""
    started: list[FaultMavenProcess] = []
    try:
        for n, role in enumerate(roles):
            log_path = log_dir / f"faultmaven-{n}-{role}.log"
            port = _free_port()
            with log_path.open("wb") as log_file:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", "--role", role,
                    env={**env, "FAULTMAVEN_HTTP_PORT": str(port)},
                    cwd=log_dir, stdout=log_file, stderr=log_file,
                )  # fmt: skip
            started.append(FaultMavenProcess(role, proc, log_path, port))
        sockets = sum(role in ("all", "bot") for role in roles)
        connected = asyncio.ensure_future(slack.wait_for_connections(sockets, timeout=120))
        exits = [asyncio.ensure_future(p.proc.wait()) for p in started]
        # A process that dies while starting (bad settings, a broken import) fails at once.
        await asyncio.wait([connected, *exits], return_when=asyncio.FIRST_COMPLETED)
        for task in exits:
            task.cancel()
        if not connected.done() or connected.exception() is not None:
            connected.cancel()
            for p in started:
                print(f"--- {p.role} (pid {p.proc.pid}):\n{p.log_tail()}", file=sys.stderr)
            raise RuntimeError("faultmaven run did not connect to the fake Slack")
        yield started
    finally:
        for p in started:
            if p.proc.returncode is None:
                p.proc.send_signal(signal.SIGTERM)
        for p in started:
            try:
                await asyncio.wait_for(p.proc.wait(), 60)
            except TimeoutError:
                p.proc.kill()
                await p.proc.wait()
