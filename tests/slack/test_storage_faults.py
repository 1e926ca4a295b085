"""Storage restarted under a running FaultMaven: Redis, then Postgres.

The real process (Bolt socket mode + arq worker, in this event loop) runs against the fake
Slack and a Redis or Postgres server of the test's own (tests/restartable.py), which the
test stops and starts again on the same address. What a user would notice is checked:
every question asked before, during and after the outage gets exactly one answer, and no
error notice is left in the thread.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from engine.ops.prometheus import REGISTRY
from tests.fakes.llm_turns import turn
from tests.fakes.openai import Delay, FakeOpenAI, Reply
from tests.fakes.slack import FakeSlack
from tests.restartable import PostgresServer, RedisServer, create_database
from tests.slack.answers import answers_in_thread, wait_for_answer, warnings_in_thread
from tests.slack.conftest import StartBot

pytestmark = pytest.mark.slack

CHANNEL = "C0INCIDENT"


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[PostgresServer, str]]:
    """A Postgres of the test's own with an empty database (the process migrates it)."""
    # Not in tmp_path: as root, pgserver runs Postgres as another user, who cannot enter it.
    with tempfile.TemporaryDirectory(prefix="fm-pg-fault-") as tmp:
        server = PostgresServer(Path(tmp) / "pgdata")
        admin = await asyncio.to_thread(server.start)
        url = await asyncio.to_thread(create_database, admin, "faultmaven")
        yield server, url
        await asyncio.to_thread(server.cleanup)


def retried(job: str) -> float:
    """Tries of `job` that failed and were put back (the process runs in this interpreter)."""
    return REGISTRY.get_sample_value("faultmaven_jobs_retried_total", {"job": job}) or 0.0


async def until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll a condition the process does not signal (a metric) until a deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


async def ask(slack: FakeSlack, text: str, *, timeout: float = 10.0) -> tuple[str, str]:
    """Mention the bot in a new thread; returns (thread ts, first envelope id)."""
    event = slack.mention_event(text, channel=CHANNEL)
    envelope = await slack.send_event(event, timeout=timeout)
    return str(event["ts"]), envelope


def answered_once(slack: FakeSlack, thread: str) -> None:
    assert len(answers_in_thread(slack, thread)) == 1, answers_in_thread(slack, thread)
    assert warnings_in_thread(slack, thread) == []


async def test_redis_restart_loses_no_event_and_answers_each_once(
    own_redis: RedisServer, slack: FakeSlack, start_bot: StartBot
) -> None:
    await start_bot("all", redis_url=own_redis.url)
    slack.redeliver_unacked(after_s=3.0)  # Slack's own ack deadline
    before, _ = await ask(slack, "checkout 502s")
    await wait_for_answer(slack, before)

    await own_redis.stop()
    during, envelope = await ask(slack, "asked while Redis is down")
    # Not acked while the job cannot be queued: Slack sends the event again.
    await slack.wait_for_redelivery(envelope, timeout=30)
    await own_redis.start()

    await wait_for_answer(slack, during, timeout=60)
    after, _ = await ask(slack, "asked after the restart")
    await wait_for_answer(slack, after, timeout=30)
    for thread in (before, during, after):
        answered_once(slack, thread)


async def test_postgres_restart_retries_the_job_and_answers_once(
    own_postgres: tuple[PostgresServer, str], slack: FakeSlack, start_bot: StartBot
) -> None:
    """Postgres goes away under a running process: the question asked meanwhile fails its
    job, arq tries it again, and once Postgres is back the pool hands out fresh connections:
    the question is answered once, and so is the next one."""
    server, url = own_postgres
    await start_bot("all", database_url=url)
    before, _ = await ask(slack, "checkout 502s")
    await wait_for_answer(slack, before)
    failed_before = retried("answer_mention")

    await asyncio.to_thread(server.stop)
    during, _ = await ask(slack, "asked while Postgres is down")
    await until(lambda: retried("answer_mention") > failed_before, "a failed try of the job")
    await asyncio.to_thread(server.start)

    await wait_for_answer(slack, during, timeout=60)
    after, _ = await ask(slack, "asked after the restart")
    await wait_for_answer(slack, after, timeout=30)
    for thread in (before, during, after):
        answered_once(slack, thread)


async def test_redis_restart_during_a_running_job_answers_once(
    own_redis: RedisServer, slack: FakeSlack, start_bot: StartBot
) -> None:
    """Redis goes away while a worker is inside a case's run (holding its lock, waiting on
    the LLM) and comes back before the LLM answers: the run finishes, records its end, and
    the thread gets one answer, from the LLM."""
    async with FakeOpenAI() as openai:
        openai.script(
            Delay(4, then=Reply(turn("*Most likely:* the ledger DB is down.", next_steps=[])))
        )
        await start_bot(
            "all",
            redis_url=own_redis.url,
            llm_model="openai/fake-model",
            llm_api_base=openai.base_url,
            llm_api_key=SecretStr("sk-fake"),
            llm_retries=0,
        )
        thread, _ = await ask(slack, "ledger writes failing")
        await openai.wait_for_request(timeout=30)  # the run holds the case now

        await own_redis.stop()
        await own_redis.start()

        text = await wait_for_answer(slack, thread, timeout=60)
        assert "ledger DB is down" in text
        answered_once(slack, thread)
        assert len(openai.requests) == 1  # the run was not started again
