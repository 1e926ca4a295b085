"""The real FaultMaven process (Bolt socket mode + arq worker) against the fake Slack."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from arq.connections import ArqRedis
from pydantic import SecretStr

from bot.runtime import Role, SlackProcess
from engine.core.config import Settings
from tests.fakes.slack import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def bot_settings(settings: Settings, slack: FakeSlack, redis: ArqRedis) -> Settings:
    # `redis` clears the queue and claim keys: fake event ids repeat from test to test.
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(slack.bot_token),
            "slack_app_token": SecretStr(slack.app_token),
            "slack_api_url": slack.api_url,
            "slack_ping_interval_s": 1.0,
            # No operations endpoints unless a test asks (start_bot(http_port=...)): the
            # default port would clash between processes and concurrent test runs.
            "http_port": 0,
        }
    )


@dataclass
class RunningBot:
    process: SlackProcess
    task: asyncio.Task[None]

    async def stop(self, timeout: float = 30.0) -> None:
        self.process.request_stop()
        await asyncio.wait_for(self.task, timeout)


StartBot = Callable[..., Awaitable[RunningBot]]


async def stop_all(running: Sequence[RunningBot]) -> None:
    """Stop every process a test started; a process that crashed fails the test."""
    for bot in running:
        if not bot.task.done():
            with contextlib.suppress(Exception):
                await bot.stop()
    for bot in running:
        if bot.task.done() and not bot.task.cancelled() and bot.task.exception():
            raise bot.task.exception()  # type: ignore[misc]


@pytest.fixture
async def start_bot(bot_settings: Settings, slack: FakeSlack) -> AsyncIterator[StartBot]:
    """Start a FaultMaven process in this event loop; stopped (cleanly) after the test."""
    running: list[RunningBot] = []

    async def start(role: Role = "all", **overrides: Any) -> RunningBot:
        sockets_before = len(slack.connections)
        process = SlackProcess(bot_settings.model_copy(update=overrides), role)
        bot = RunningBot(process, asyncio.create_task(process.run()))
        running.append(bot)
        if role != "worker":
            await slack.wait_for_connections(n=sockets_before + 1, timeout=20)
        return bot

    yield start
    await stop_all(running)
