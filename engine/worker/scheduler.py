"""The scheduler of worker processes: it finds what is due and enqueues it, exactly once.

Every worker process runs one (apscheduler's AsyncIOScheduler in its event loop), so with N
workers N schedulers tick at about the same moments. None of them does the work itself: each
tick enqueues arq jobs whose ids name the period they are for,

    reminder:{case_id}:{stamp of the last activity}   one per quiet spell of a case
    digest:{channel_id}:{YYYY-MM-DD}                  one per opted-in channel and day
    retention:{YYYY-MM-DD}                            one per day

and `JobQueue.submit` claims that id in Redis (SET NX) before enqueueing, so whichever tick
comes first enqueues and the others are refused. The jobs (engine/worker/jobs.py) then post under
reply keys of the same names through `Poster.post_once`, so even a job run twice (a retry
after a worker died) never posts twice. Daily work is due from its hour until the day ends:
a process that starts late still does it, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

from engine.cases import digest, reminders
from engine.cases.retention import RetentionRequest
from engine.core.config import Settings
from engine.store.schedule import reminder_key
from engine.worker.jobs import JobKind
from engine.worker.queue import JobQueue

log = logging.getLogger(__name__)

RETENTION_TICK_S = 3600.0  # daily work, checked hourly: cheap, and soon after a day starts


def utc_now() -> datetime:
    return datetime.now(UTC)


class Schedule:
    def __init__(
        self,
        pool: AsyncConnectionPool,
        queue: JobQueue,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.pool = pool
        self.queue = queue
        self.settings = settings
        self.clock = clock
        self.scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()
        # Ids this process already submitted (or saw taken) today: a channel's digest is due
        # all day, and asking Redis again every tick would only log refusals.
        self._submitted: set[str] = set()
        self._submitted_on: date | None = None

    # --- ticks: what is due now, enqueued under ids that name its period ---------------

    async def tick_reminders(self, now: datetime | None = None) -> int:
        """Enqueue a reminder job per case quiet long enough; how many were enqueued now."""
        now = now or self.clock()
        enqueued = 0
        for req in await reminders.due(
            self.pool, now=now, stale_after_h=self.settings.stale_after_h
        ):
            key = reminder_key(req.case_id, req.stamp)
            enqueued += await self._submit(JobKind.REMIND_STALE_CASE, req, key, now)
        return enqueued

    async def tick_digests(self, now: datetime | None = None) -> int:
        """Enqueue today's digest of every opted-in channel once its hour has come."""
        now = now or self.clock()
        enqueued = 0
        for req in await digest.requests(
            self.pool, now=now, hour_utc=self.settings.digest_hour_utc
        ):
            key = digest.digest_key(req.channel_id, req.day)
            enqueued += await self._submit(JobKind.POST_DIGEST, req, key, now)
        return enqueued

    async def tick_retention(self, now: datetime | None = None) -> bool:
        """Enqueue today's purge of old evidence content (none when kept forever)."""
        if self.settings.evidence_retention_days <= 0:
            return False
        now = now or self.clock()
        key = f"retention:{now.date().isoformat()}"
        request = RetentionRequest(day=now.date())
        return await self._submit(JobKind.PURGE_OLD_EVIDENCE, request, key, now)

    async def _submit(self, kind: JobKind, req: BaseModel, key: str, now: datetime) -> bool:
        """Enqueue a job of `kind` under the id `key` unless any process did (the Redis claim
        decides); True when this call enqueued it."""
        if self._submitted_on != now.date():
            self._submitted, self._submitted_on = set(), now.date()
        if key in self._submitted:
            return False
        enqueued = await self.queue.submit(kind, req, dedup_key=key)
        self._submitted.add(key)
        return enqueued

    # --- running in a process ----------------------------------------------------------

    def start(self) -> None:
        """Tick in this event loop: now, then every tick (reminders, digests) or hour."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        tick = self.settings.scheduler_tick_s
        for name, every, run in (
            ("reminders", tick, self.tick_reminders),
            ("digests", tick, self.tick_digests),
            ("retention", RETENTION_TICK_S, self.tick_retention),
        ):
            scheduler.add_job(
                self._guarded,
                IntervalTrigger(seconds=every, timezone=UTC),
                args=(name, run),
                id=name,
                next_run_time=self.clock(),
                # A slow tick is never run twice at once, and missed ticks collapse into one.
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        # apscheduler logs every run at INFO: three lines a minute of nothing to read.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        scheduler.start()
        self.scheduler = scheduler
        log.info(
            "scheduler started: reminders after %s h, digest at %02d:00 UTC, retention %s days",
            self.settings.stale_after_h,
            self.settings.digest_hour_utc,
            self.settings.evidence_retention_days,
        )

    async def stop(self, grace_s: float = 10.0) -> None:
        """No new ticks; a tick under way may finish (it only enqueues), then shut down."""
        if self.scheduler is None:
            return
        self.scheduler.pause()
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_s)
        self.scheduler.shutdown(wait=False)
        self.scheduler = None
        await asyncio.sleep(0)  # apscheduler finishes its shutdown on the next loop turn

    async def _guarded(self, name: str, run: Callable[[], Awaitable[object]]) -> None:
        """One tick; a failure (database or Redis away) is logged and the next tick retries."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await run()
        except Exception:
            log.warning("scheduler tick %s failed; trying again next tick", name, exc_info=True)
        finally:
            if task is not None:
                self._running.discard(task)
