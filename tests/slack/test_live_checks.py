"""Run check in Slack: a hypothesis's live check against a configured source, from the
button on the case summary. The real bot and worker run against the fake workspace; the
database checked is a real Postgres of the test's own, really saturated.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg_pool import AsyncConnectionPool

from bot.ids import ActionId
from engine.store import audit
from tests.fakes.slack import FakeSlack, buttons
from tests.restartable import PostgresServer, free_port
from tests.slack.conftest import StartBot
from tests.slack.test_investigation import (
    BOB,
    CHANNEL,
    hypotheses,
    open_investigation,
    settled_with,
)

pytestmark = pytest.mark.slack

RUN_CHECK = ActionId.RUN_CHECK.value
MAX_CONNECTIONS = 20
CHECK_CALL = "postgres_diagnose(source='payments-db', check='connections')"


@pytest.fixture
async def saturated_database(tmp_path: Path) -> AsyncIterator[str]:
    """A Postgres of its own with 20 connection slots, 18 of them held by sessions idle in a
    transaction (as a leaking pool leaves them); its URL."""
    server = PostgresServer(tmp_path / "target-pg")
    url = await asyncio.to_thread(server.start)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    await asyncio.to_thread(server.stop)
    url = await asyncio.to_thread(server.start)  # max_connections takes a restart
    held = []
    try:
        for _ in range(MAX_CONNECTIONS - 2):
            conn = await psycopg.AsyncConnection.connect(url, application_name="payments")
            await conn.execute("SELECT 1")  # opens a transaction, left idle in it
            held.append(conn)
        yield url
    finally:
        for conn in held:
            await conn.close()
        await asyncio.to_thread(server.cleanup)


def sources_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "sources.yaml"
    source = {"name": "payments-db", "kind": "postgres", "url": url, "channels": [CHANNEL]}
    path.write_text(yaml.safe_dump({"sources": [source]}))
    return path


def pool_hypothesis_block(message: dict[str, object]) -> str:
    """The block id of the hypothesis whose Run check is the connections check."""
    for rank, line in enumerate(hypotheses(message), 1):  # type: ignore[arg-type]
        if CHECK_CALL in line:
            return f"hypothesis-{rank}"
    raise AssertionError(f"no hypothesis offers `{CHECK_CALL}`: {hypotheses(message)}")  # type: ignore[arg-type]


async def test_run_check_confirms_pool_exhaustion_on_a_saturated_database(
    slack: FakeSlack,
    start_bot: StartBot,
    pool: AsyncConnectionPool,
    saturated_database: str,
    tmp_path: Path,
) -> None:
    await start_bot(sources_file=sources_file(tmp_path, saturated_database))
    case = await open_investigation(slack, pool)
    shown = slack.message(CHANNEL, case.summary)
    block = pool_hypothesis_block(shown)
    assert RUN_CHECK in {b.action_id for b in buttons(shown) if b.block_id == block}

    envelope = await slack.click(CHANNEL, case.summary, RUN_CHECK, user_id=BOB, block_id=block)

    await slack.wait_for_ack(envelope, timeout=5)
    said = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and "🔎" in c.params["text"], timeout=30
    )
    assert said.params["thread_ts"] == case.thread
    text = said.params["text"]
    assert CHECK_CALL in text and "pg_stat_activity" in text  # the exact call and its SQL
    assert f"{MAX_CONNECTIONS - 2} of {MAX_CONNECTIONS} connections in use" in text
    assert "supports the hypothesis" in text
    confirmed = await settled_with(slack, case, f"confirmed by check `{CHECK_CALL}`")
    assert hypotheses(confirmed)[0].startswith("*1.* ✅ ")
    entries = await audit.recent(pool, limit=50, case_id=case.case_id)
    runs = [e for e in entries if e.action == "tool.run"]
    assert runs and runs[0].target == "postgres_diagnose" and runs[0].detail["ok"] is True
    assert runs[0].actor == f"<@{BOB}>"


async def test_a_check_that_cannot_reach_its_source_says_so_and_is_audited(
    slack: FakeSlack, start_bot: StartBot, pool: AsyncConnectionPool, tmp_path: Path
) -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    await start_bot(sources_file=sources_file(tmp_path, nowhere))
    case = await open_investigation(slack, pool)
    block = pool_hypothesis_block(slack.message(CHANNEL, case.summary))

    await slack.click(CHANNEL, case.summary, RUN_CHECK, user_id=BOB, block_id=block)

    said = await slack.wait_for_call(
        "chat.postMessage", lambda c: c.ok and "🔎" in c.params["text"], timeout=30
    )
    assert "⚠️" in said.params["text"] and "cannot connect to Postgres" in said.params["text"]
    entries = await audit.recent(pool, limit=50, case_id=case.case_id)
    [run] = [e for e in entries if e.action == "tool.run"]
    assert run.detail["ok"] is False and "cannot connect" in str(run.detail["error"])
    # The case goes on: a later turn still answers, the hypothesis still open.
    shown = slack.message(CHANNEL, case.summary)
    assert "confirmed by check" not in shown["text"]
