"""Who may close a case and what the audit log keeps, against real Postgres."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from bot.cli.main import app as cli
from engine.cases.service import CaseService
from engine.core.authz import NotAllowed
from engine.core.config import Settings
from engine.core.models import (
    CloseCaseRequest,
    FeedbackRequest,
    FilesRequest,
    MentionRequest,
    MessageRequest,
    ThreadRef,
)
from engine.core.replies import CaseClosedReply
from engine.store import audit, cases
from engine.store.db import open_pool
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.samples.incident import json_lines, plain_log

pytestmark = pytest.mark.integration

THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000001")
OPENER, UPLOADER, WRITER, STRANGER, ADMIN = "U1", "U3", "U4", "U9", "U0ADMIN"


@pytest.fixture
def files() -> MemoryFiles:
    return MemoryFiles()


@pytest.fixture
def service(pool: AsyncConnectionPool, settings: Settings, files: MemoryFiles) -> CaseService:
    with_admin = settings.model_copy(update={"admins": [ADMIN], "close_policy": "participants"})
    return CaseService(pool, with_admin, replier=MemoryReplier(), files=files)


async def open_case(service: CaseService) -> int:
    await service.answer_mention(
        MentionRequest(thread=THREAD, ts="1.0", user=OPENER, text="checkout 502s since 14:05"),
        key="E1",
    )
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    return case.id


def close(case_id: int, user: str) -> CloseCaseRequest:
    return CloseCaseRequest(case_id=case_id, user=user, resolution="raised the payments pool")


async def test_a_case_life_is_in_the_audit_log(
    service: CaseService, files: MemoryFiles, pool: AsyncConnectionPool
) -> None:
    case_id = await open_case(service)
    refs = [
        files.add("F1", "checkout.log", plain_log("checkout")),
        files.add("F2", "payments.json", json_lines("payments")),
    ]
    upload = FilesRequest(thread=THREAD, ts="2.0", user=UPLOADER, files=refs)
    await service.add_files(upload, key="E2")
    await service.add_files(upload, key="E2")  # Slack redelivered it
    [top, *_] = await service.case_hypotheses(case_id)
    await service.record_feedback(
        FeedbackRequest(case_id=case_id, hypothesis_key=top.id, kind="confirm", user=WRITER),
        key="click-1",
    )
    # Having uploaded evidence makes the uploader a participant: they may close.
    assert isinstance(await service.close_case(close(case_id, UPLOADER), key="C1"), CaseClosedReply)

    entries = await audit.recent(pool, case_id=case_id)
    assert [e.action for e in reversed(entries)] == [
        "case.open",
        "evidence.add",
        "hypothesis.confirmed",
        "case.close",
    ]
    opened, uploaded, confirmed, closed = reversed(entries)
    assert (opened.actor, opened.team_id, opened.target) == (OPENER, "T1", "C1")
    assert opened.detail == {"title": "checkout 502s since 14:05"}
    assert uploaded.actor == UPLOADER
    assert uploaded.detail == {"files": ["checkout.log", "payments.json"]}
    assert confirmed.detail == {"hypothesis": top.id}
    assert closed.actor == UPLOADER
    assert closed.detail == {"resolution": "raised the payments pool"}


async def test_a_stranger_may_not_close_and_the_refusal_is_kept(
    service: CaseService, pool: AsyncConnectionPool
) -> None:
    case_id = await open_case(service)

    with pytest.raises(NotAllowed) as refused:
        await service.close_case(close(case_id, STRANGER), key="C1")
    with pytest.raises(NotAllowed):
        await service.close_case(close(case_id, STRANGER), key="C1")  # the job retried

    assert "may not close case" in refused.value.user_message
    case = await cases.get(pool, case_id)
    assert case is not None and case.status == "open" and case.resolution is None
    [denied] = [e for e in await audit.recent(pool, case_id=case_id) if e.action == "denied"]
    assert (denied.actor, denied.target, denied.team_id) == (STRANGER, "C1", "T1")
    assert denied.detail == {"asked": "close", "policy": "participants"}


async def test_someone_who_wrote_in_the_thread_may_close(service: CaseService) -> None:
    case_id = await open_case(service)
    await service.record_message(
        MessageRequest(thread=THREAD, ts="3.0", user=WRITER, text="rolled back at 14:20")
    )
    assert isinstance(await service.close_case(close(case_id, WRITER), key="C1"), CaseClosedReply)


async def test_an_admin_may_close_any_case(service: CaseService, pool: AsyncConnectionPool) -> None:
    case_id = await open_case(service)
    assert isinstance(await service.close_case(close(case_id, ADMIN), key="C1"), CaseClosedReply)
    case = await cases.get(pool, case_id)
    assert case is not None and case.status != "open"


async def test_recording_is_once_per_key_and_follows_its_transaction(
    pool: AsyncConnectionPool,
) -> None:
    assert await audit.record(pool, actor="U1", action="knowledge.add", target="doc", key="k1")
    assert not await audit.record(pool, actor="U1", action="knowledge.add", target="doc", key="k1")
    with pytest.raises(RuntimeError):
        async with pool.connection() as conn, conn.transaction():
            await audit.record(conn, actor="U2", action="knowledge.outdated", target="doc")
            raise RuntimeError("the change failed")
    for n in range(3):
        await audit.record(pool, actor=f"U{n}", action="denied", detail={"n": n})

    assert [e.actor for e in await audit.recent(pool, limit=2)] == ["U2", "U1"]
    everything = await audit.recent(pool)
    assert [e.action for e in everything].count("knowledge.add") == 1
    assert "knowledge.outdated" not in [e.action for e in everything]


def test_the_audit_command_prints_recent_entries(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> None:
        pool = await open_pool(db_url, max_size=1)
        try:
            async with pool.connection() as conn:
                cur = await conn.execute(
                    "INSERT INTO cases (team_id, channel_id, thread_ts, title, opened_by)"
                    " VALUES ('T1', 'C1', '1.0', 'dns flaky', 'U1') RETURNING id"
                )
                row = await cur.fetchone()
            assert row is not None
            await audit.record(pool, actor="U1", action="case.open", case_id=row[0], target="C1")
            await audit.record(pool, actor="U0ADMIN", action="knowledge.add", target="runbook.md")
        finally:
            await pool.close()

    asyncio.run(seed())
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTMAVEN_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    everything = runner.invoke(cli, ["audit"])
    one_case = runner.invoke(cli, ["audit", "--case", "1", "--limit", "5"])
    nothing = runner.invoke(cli, ["audit", "--case", "999"])

    assert everything.exit_code == 0, everything.output
    lines = everything.output.splitlines()
    assert len(lines) == 2
    assert "U0ADMIN  knowledge.add  runbook.md" in lines[0]  # newest first
    assert "case #1  U1  case.open  C1" in lines[1]
    assert one_case.output.splitlines() == lines[1:]
    assert "No audit entries for case #999" in nothing.output
