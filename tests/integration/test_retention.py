"""Retention: old evidence content is deleted once a day; what was learned from it stays, and
everything that reads evidence later copes (real Postgres, real Redis, the real arq worker)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from arq.connections import ArqRedis
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from bot.runtime import QUEUE_NAME
from engine.cases import retention
from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.crypto import new_key_text
from engine.core.models import CloseCaseRequest, FilesRequest, MentionRequest, ThreadRef
from engine.core.replies import CaseClosedReply
from engine.evidence.reports import Evidence
from engine.store import cases
from engine.store import evidence as evidence_store
from engine.worker.queue import JobQueue
from engine.worker.scheduler import Schedule
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.integration.arq_jobs import run_jobs
from tests.samples import checkout_log
from tests.samples.configs import NEW_DEPLOYMENT, OLD_DEPLOYMENT

pytestmark = pytest.mark.integration

OPEN = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000100")
CLOSED = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000200")
NOTE = "file content deleted after 30 days (retention); findings kept"


@pytest.fixture
def service(
    pool: AsyncConnectionPool, settings: Settings, replier: MemoryReplier, files: MemoryFiles
) -> CaseService:
    # A key of its own, so the rotation below can name it as the old one.
    keyed = settings.model_copy(update={"evidence_key": SecretStr(new_key_text())})
    return CaseService(pool, keyed, replier=replier, files=files)


async def upload(
    service: CaseService, files: MemoryFiles, thread: ThreadRef, source_id: str, name: str,
    content: bytes,
) -> list[str]:  # fmt: skip
    """Mention (opening the case), then upload; the reply's detail lines."""
    await service.answer_mention(
        MentionRequest(thread=thread, ts=f"{source_id}.1", user="U1", text="look"),
        key=f"ask-{source_id}",
    )
    ref = files.add(source_id, name, content)
    request = FilesRequest(thread=thread, ts=f"{source_id}.2", user="U1", files=[ref])
    reply = await service.add_files(request, key=f"up-{source_id}")
    assert reply is not None and reply.accepted
    return reply.details


async def age_evidence(pool: AsyncConnectionPool, source_id: str, days: int) -> None:
    """Pretend a file was uploaded `days` ago (the only way to have old rows in a test)."""
    async with pool.connection() as conn:
        await conn.execute(
            "UPDATE evidence SET created_at = now() - make_interval(days => %s)"
            " WHERE source_id = %s",
            (days, source_id),
        )


async def content_by_source(pool: AsyncConnectionPool) -> dict[str, bytes | None]:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT source_id, content FROM evidence")
        return {row[0]: row[1] for row in await cur.fetchall()}


async def test_old_content_is_deleted_once_and_what_was_learned_stays(
    service: CaseService,
    replier: MemoryReplier,
    files: MemoryFiles,
    redis: ArqRedis,
    pool: AsyncConnectionPool,
) -> None:
    await upload(service, files, OPEN, "F1", "checkout.log", checkout_log())
    await upload(service, files, CLOSED, "F2", "payments.log", checkout_log(seed=3))
    closed = await service.case_for_thread(CLOSED.channel_id, CLOSED.thread_ts)
    assert closed is not None
    await service.close_case(
        CloseCaseRequest(case_id=closed.id, user="U1", resolution="pool raised"), key="c1"
    )
    await upload(service, files, OPEN, "F3", "recent.log", checkout_log(seed=5))
    for source_id in ("F1", "F2"):
        await age_evidence(pool, source_id, 40)
    before = {e.source_id: e for e in await all_evidence(service, pool)}

    schedulers = [Schedule(pool, JobQueue(redis), service.settings) for _ in range(2)]
    ticked = await asyncio.gather(*(s.tick_retention() for s in schedulers))
    assert sorted(ticked) == [False, True], "one purge job a day, however many schedulers"
    assert await redis.zcard(QUEUE_NAME) == 1
    await run_jobs(service, redis)

    content = await content_by_source(pool)
    assert content["F1"] is None and content["F2"] is None
    assert content["F3"] is not None, "recent evidence keeps its content"
    after = {e.source_id: e for e in await all_evidence(service, pool)}
    assert after.keys() == before.keys(), "no evidence row was deleted"
    for source_id in ("F1", "F2"):
        assert after[source_id].report == before[source_id].report, "findings kept"
        assert after[source_id].summary == before[source_id].summary + retention.purged_note(30)
    assert NOTE not in after["F3"].summary
    still_closed = await cases.get(pool, closed.id)
    assert still_closed is not None and still_closed.status == "resolved"
    assert still_closed.resolution == "pool raised"
    assert await retention.purge(pool, now=after["F1"].created_at, days=30) == 0

    # A later turn reads the case and says which content is gone.
    await service.answer_mention(
        MentionRequest(thread=OPEN, ts="9.0", user="U1", text="what now?"), key="ask-later"
    )
    answer = replier.answers(OPEN.thread_ts)[-1]
    assert NOTE in answer.text
    assert (await service.case_stats(after["F1"].case_id)).evidence_count == 2
    # The postmortem of the open case, closed now, lists both files, the purged one saying so.
    summary = await service.close_case(
        CloseCaseRequest(case_id=after["F1"].case_id, user="U1", resolution="fixed"), key="c2"
    )
    assert isinstance(summary, CaseClosedReply)
    assert NOTE in summary.text and "recent.log" in summary.text

    # Rotating the key reseals what is left and passes over purged rows.
    rotated = service.settings.model_copy(
        update={
            "evidence_key": SecretStr(new_key_text()),
            "evidence_old_keys": [service.settings.evidence_key],
        }
    )
    assert await evidence_store.reseal_all(pool, rotated.evidence_cipher()) == 1


async def all_evidence(service: CaseService, pool: AsyncConnectionPool) -> list[Evidence]:
    found = []
    for thread in (OPEN, CLOSED):
        case = await service.case_for_thread(thread.channel_id, thread.thread_ts)
        assert case is not None
        found += await evidence_store.list_for_case(pool, case.id)
    return found


async def test_a_new_version_of_a_purged_config_says_why_there_is_no_diff(
    service: CaseService, files: MemoryFiles, pool: AsyncConnectionPool
) -> None:
    await upload(service, files, OPEN, "F1", "deployment.yaml", OLD_DEPLOYMENT)
    await age_evidence(pool, "F1", 31)
    await retention.purge(pool, now=await db_now(pool), days=30)

    details = await upload(service, files, OPEN, "F2", "deployment.yaml", NEW_DEPLOYMENT)

    assert any(
        "Not compared with deployment.yaml: its file content was deleted by the retention" in line
        for line in details
    ), details
    assert not any("replicas: 3 → 1" in line for line in details)


async def test_retention_off_keeps_content_forever(
    service: CaseService, files: MemoryFiles, redis: ArqRedis, pool: AsyncConnectionPool
) -> None:
    await upload(service, files, OPEN, "F1", "checkout.log", checkout_log())
    await age_evidence(pool, "F1", 3650)
    forever = service.settings.model_copy(update={"evidence_retention_days": 0})

    assert not await Schedule(pool, JobQueue(redis), forever).tick_retention()
    assert await retention.purge(pool, now=await db_now(pool), days=0) == 0
    assert (await content_by_source(pool))["F1"] is not None


async def db_now(pool: AsyncConnectionPool) -> datetime:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT now()")
        row = await cur.fetchone()
        assert row is not None
        return row[0]
