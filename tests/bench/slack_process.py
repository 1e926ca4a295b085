"""The real FaultMaven process (role=all) against the fake Slack, on embedded Postgres and
Redis: what the Slack benchmarks measure (bench_slack_roundtrip, bench_case_summary)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import SecretStr

from bot.runtime import SlackProcess
from engine.config import Settings
from engine.embedded import EmbeddedServices
from tests.fakes.slack import FakeSlack

warnings.filterwarnings("ignore")
for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(var, None)  # the fake Slack is on loopback


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@asynccontextmanager
async def faultmaven_on_fake_slack(*, max_file_mb: float) -> AsyncIterator[FakeSlack]:
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
                )
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
