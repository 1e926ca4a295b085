"""The scheduler's work, exactly once: stale reminders and daily digests (real Postgres, real
Redis, the real arq worker). Time is passed in (`now`) instead of waited for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from arq.connections import ArqRedis
from psycopg_pool import AsyncConnectionPool

from bot.runtime import QUEUE_NAME
from engine.cases import reminders
from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.models import CloseCaseRequest, FilesRequest, MentionRequest, ThreadRef
from engine.store import messages
from engine.store import schedule as schedule_store
from engine.worker.jobs import JobKind
from engine.worker.queue import JobQueue
from engine.worker.scheduler import Schedule
from tests.fakes.memory import MemoryFiles, MemoryReplier, Posted
from tests.integration.arq_jobs import run_jobs
from tests.samples import checkout_log

pytestmark = pytest.mark.integration

THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000100")


def schedules(
    pool: AsyncConnectionPool, settings: Settings, redis: ArqRedis, n: int = 2
) -> list[Schedule]:
    """`n` schedulers as `n` worker processes would hold them (each its own JobQueue)."""
    return [Schedule(pool, JobQueue(redis), settings) for _ in range(n)]


async def open_case(service: CaseService, thread: ThreadRef = THREAD, title: str = "502s") -> int:
    mention = MentionRequest(thread=thread, ts=thread.thread_ts, user="U1", text=title)
    await service.answer_mention(mention, key=f"open:{thread.channel_id}:{thread.thread_ts}")
    case = await service.case_for_thread(thread.channel_id, thread.thread_ts)
    assert case is not None
    return case.id


def reminders_in(replier: MemoryReplier, thread_ts: str) -> list[Posted]:
    return [p for p in replier.in_thread(thread_ts) if "No activity on case" in p.reply.text]


async def test_two_schedulers_ticking_together_give_one_job_and_one_reminder(
    service: CaseService, replier: MemoryReplier, redis: ArqRedis, pool: AsyncConnectionPool
) -> None:
    case_id = await open_case(service)
    later = datetime.now(UTC) + timedelta(hours=5)

    enqueued = await asyncio.gather(
        *(s.tick_reminders(later) for s in schedules(pool, service.settings, redis))
    )

    assert sorted(enqueued) == [0, 1], "one of the two ticks enqueued, the other was refused"
    assert await redis.zcard(QUEUE_NAME) == 1
    await run_jobs(service, redis)
    [reminder] = reminders_in(replier, THREAD.thread_ts)
    assert reminder.channel_id == THREAD.channel_id
    assert reminder.reply.text.startswith(f"⏰ No activity on case #{case_id} for 5 h.")
    assert f"`/faultmaven close #{case_id} <resolution>`" in reminder.reply.text

    # Later ticks of the same quiet spell find it reminded; even a job re-enqueued after its
    # Redis claim expired posts nothing more.
    again = [
        await s.tick_reminders(later + timedelta(hours=3))
        for s in schedules(pool, service.settings, redis)
    ]
    assert again == [0, 0]
    stamp = (await schedule_store.activity(pool, case_id)).stamp  # type: ignore[union-attr]
    await redis.delete(f"faultmaven:claim:reminder:{case_id}:{stamp}")
    await JobQueue(redis).submit(
        JobKind.REMIND_STALE_CASE,
        reminders.ReminderRequest(case_id=case_id, stamp=stamp, due_at=later),
        dedup_key=f"reminder:{case_id}:{stamp}:again",
    )
    await run_jobs(service, redis)
    assert len(reminders_in(replier, THREAD.thread_ts)) == 1


async def test_no_reminder_before_the_quiet_time_nor_when_turned_off(
    service: CaseService, replier: MemoryReplier, redis: ArqRedis, pool: AsyncConnectionPool
) -> None:
    await open_case(service)
    [schedule] = schedules(pool, service.settings, redis, 1)
    now = datetime.now(UTC)

    assert await schedule.tick_reminders(now + timedelta(hours=3, minutes=59)) == 0
    off = service.settings.model_copy(update={"stale_after_h": 0})
    quiet = Schedule(pool, JobQueue(redis), off)
    assert await quiet.tick_reminders(now + timedelta(days=30)) == 0

    assert await schedule.tick_reminders(now + timedelta(hours=4, minutes=1)) == 1
    await run_jobs(service, redis)
    [reminder] = reminders_in(replier, THREAD.thread_ts)
    assert "for 4 h" in reminder.reply.text


async def test_new_activity_rearms_the_reminder(
    service: CaseService, replier: MemoryReplier, redis: ArqRedis, pool: AsyncConnectionPool
) -> None:
    case_id = await open_case(service)
    [schedule] = schedules(pool, service.settings, redis, 1)
    assert await schedule.tick_reminders(datetime.now(UTC) + timedelta(hours=5)) == 1
    await run_jobs(service, redis)
    assert len(reminders_in(replier, THREAD.thread_ts)) == 1

    # Someone writes in the thread: a new quiet spell starts from that message.
    await messages.record(
        pool, case_id=case_id, ts="1700000100.000001", author="U2", role="user",
        text="rolled back the deploy, watching",
    )  # fmt: skip
    spoke = datetime.now(UTC)
    assert await schedule.tick_reminders(spoke + timedelta(hours=3)) == 0
    assert await schedule.tick_reminders(spoke + timedelta(hours=4, minutes=30)) == 1
    await run_jobs(service, redis)
    assert len(reminders_in(replier, THREAD.thread_ts)) == 2


async def test_a_reminder_found_due_is_dropped_when_the_case_moved_on(
    service: CaseService, replier: MemoryReplier, redis: ArqRedis, pool: AsyncConnectionPool
) -> None:
    """Between the tick and the job, someone spoke, or closed the case: no reminder."""
    case_id = await open_case(service)
    later = datetime.now(UTC) + timedelta(hours=5)
    [due] = await reminders.due(pool, now=later, stale_after_h=4)
    await messages.record(
        pool, case_id=case_id, ts="1700000100.000002", author="U2", role="user",
        text="still failing",
    )  # fmt: skip
    assert not await service.remind_stale_case(due, now=later)

    [due] = await reminders.due(pool, now=later, stale_after_h=4)
    await service.close_case(CloseCaseRequest(case_id=case_id, user="U1"), key="close1")
    assert not await service.remind_stale_case(due, now=later)
    assert reminders_in(replier, THREAD.thread_ts) == []
    [schedule] = schedules(pool, service.settings, redis, 1)
    assert await schedule.tick_reminders(later + timedelta(days=3)) == 0, "closed: never"


# --- digest ------------------------------------------------------------------------------


async def subscribe(service: CaseService, channel_id: str, on: bool = True) -> str:
    return await service.set_digest(channel_id=channel_id, team_id="T1", user="U1", on=on)


def digests(replier: MemoryReplier, channel_id: str) -> list[Posted]:
    return [
        p
        for p in replier.posted
        if p.channel_id == channel_id and p.thread_ts is None and "Daily digest" in p.reply.text
    ]


async def test_the_digest_lists_open_cases_once_a_day_in_opted_in_channels(
    service: CaseService,
    replier: MemoryReplier,
    files: MemoryFiles,
    redis: ArqRedis,
    pool: AsyncConnectionPool,
) -> None:
    checkout = await open_case(service, THREAD, "checkout 502s since 14:00")
    ref = files.add("F1", "checkout.log", checkout_log())
    await service.add_files(FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[ref]), key="f1")
    search = await open_case(service, THREAD.model_copy(update={"thread_ts": "2.5"}), "search slow")
    closed = await open_case(service, THREAD.model_copy(update={"thread_ts": "3.0"}), "dns flaky")
    await service.close_case(CloseCaseRequest(case_id=closed, user="U1"), key="close-dns")
    other = ThreadRef(team_id="T1", channel_id="C2", thread_ts="4.0")
    await open_case(service, other, "elsewhere")
    assert "Daily digest on" in await subscribe(service, "C1")
    assert "already on" in await subscribe(service, "C1")
    [first, second] = schedules(pool, service.settings, redis)
    day = datetime(2031, 5, 6, tzinfo=UTC)

    assert await first.tick_digests(day.replace(hour=8, minute=59)) == 0, "before its hour"
    ticked = await asyncio.gather(
        first.tick_digests(day.replace(hour=9)), second.tick_digests(day.replace(hour=9))
    )
    assert sorted(ticked) == [0, 1]
    assert await second.tick_digests(day.replace(hour=17)) == 0, "once a day"
    await run_jobs(service, redis)

    [posted] = digests(replier, "C1")
    text = posted.reply.text
    assert "2 open cases" in text
    assert f"#{checkout}* checkout 502s since 14:00 — open " in text
    assert f"#{search}* search slow — open " in text
    assert f"#{closed}*" not in text and "dns flaky" not in text
    checkout_line = next(line for line in text.splitlines() if f"#{checkout}*" in line)
    assert "leading: " in checkout_line and "%)" in checkout_line
    assert digests(replier, "C2") == [], "C2 never opted in"

    # The next day's tick gives the next day's digest; after `off`, none.
    assert await first.tick_digests(day.replace(day=7, hour=9)) == 1
    await run_jobs(service, redis)
    assert len(digests(replier, "C1")) == 2
    assert "Daily digest off" in await subscribe(service, "C1", on=False)
    assert await first.tick_digests(day.replace(day=8, hour=9)) == 0
    assert "not on" in await subscribe(service, "C1", on=False)


async def test_no_digest_for_a_channel_without_open_cases(
    service: CaseService, replier: MemoryReplier, redis: ArqRedis, pool: AsyncConnectionPool
) -> None:
    await subscribe(service, "C9")
    [schedule] = schedules(pool, service.settings, redis, 1)
    assert await schedule.tick_digests(datetime(2031, 5, 6, 10, tzinfo=UTC)) == 1
    await run_jobs(service, redis)
    assert not [p for p in replier.posted if p.channel_id == "C9"]
