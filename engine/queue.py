"""Hand work to the workers through Redis (arq), at most once per Slack event.

Slack redelivers events it thinks were not acked (retry_attempt > 0) and, with several bot
processes, the same event can reach two of them. `submit` claims the event id with SET NX
before enqueueing; arq's job id is the same key, so a second enqueue is refused too.

When Redis cannot be reached, `submit` raises QueueUnavailable and the listener must not ack:
the event is then not lost, Slack delivers it again (bot/app.py acks only after the listener
returned). The client retries a dropped connection for a moment first (`redis_settings`), so
a Redis restart of a second or two is not even noticed.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from arq.jobs import Job, JobStatus
from pydantic import BaseModel
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

CLAIM_TTL_S = 24 * 3600  # Slack retries for minutes; a day is ample and bounded.
# A claim is PENDING from SET NX until its job is queued, then QUEUED.
PENDING, QUEUED = b"pending", b"queued"
# About 1.5 s of retries (0.1, 0.2, 0.4, 0.8 s): a restart that quick is ridden out inside
# Slack's 3 s ack window; a longer outage surfaces as QueueUnavailable (no ack, redelivery).
REDIS_RETRIES = 4
REDIS_BACKOFF = ExponentialBackoff(cap=1.0, base=0.05)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class QueueUnavailable(Exception):
    """Redis could not be reached, so the job was not queued; the caller must not ack."""


def redis_settings(url: str) -> RedisSettings:
    """arq's settings for `url`, retrying commands over a dropped or refused connection:
    without this, redis-py gives up on the first refused connect and arq's worker loop dies
    with it."""
    settings = RedisSettings.from_dsn(url)
    settings.retry = Retry(REDIS_BACKOFF, REDIS_RETRIES)
    # redis-py retries only the errors listed here (OSError: a refused connect).
    settings.retry_on_error = [RedisConnectionError, RedisTimeoutError, OSError]
    return settings


class JobQueue:
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def submit(self, job: str, request: BaseModel, *, dedup_key: str) -> bool:
        """Enqueue `job(request)` unless `dedup_key` was seen; True when enqueued now.
        QueueUnavailable when Redis cannot be reached (nothing was queued)."""
        try:
            return await self._submit(job, request, dedup_key)
        except UNREACHABLE as exc:
            raise QueueUnavailable(f"could not queue {job} for {dedup_key}: {exc}") from exc

    async def _submit(self, job: str, request: BaseModel, dedup_key: str) -> bool:
        claim = f"faultmaven:claim:{dedup_key}"
        if not await self.redis.set(claim, PENDING, nx=True, ex=CLAIM_TTL_S):
            if not await self._orphaned(claim, dedup_key):
                log.info("duplicate delivery of %s ignored", dedup_key)
                return False
            log.info("claim of %s has no job; queueing it now", dedup_key)
        try:
            payload: dict[str, Any] = request.model_dump(mode="json")
            job_handle = await self.redis.enqueue_job(job, dedup_key, payload, _job_id=dedup_key)
        except BaseException:
            # Release the claim so Slack's retry of this event can still get through (if
            # Redis is gone this fails too; the retry then finds a pending claim, no job).
            with contextlib.suppress(*UNREACHABLE):
                await self.redis.delete(claim)
            raise
        if job_handle is None:
            log.info("duplicate delivery of %s ignored: its job is queued or done", dedup_key)
            return False
        # From here the claim alone says "seen", for longer than arq keeps the job's result.
        await self.redis.set(claim, QUEUED, xx=True, keepttl=True)
        return True

    async def _orphaned(self, claim: str, dedup_key: str) -> bool:
        """A claim still pending with no job is left by a submit that died between the two
        (Redis went away, or the process): the caller queues the job. A submit racing us may
        be just about to; arq refuses a second job of one id, so it is still queued once."""
        if await self.redis.get(claim) != PENDING:
            return False
        return await Job(dedup_key, self.redis).status() == JobStatus.not_found

    async def drain_later(self, case_id: int, delay_s: float) -> None:
        """Run a drain of the case in `delay_s`. Never deduplicated: a second look that finds
        nothing pending costs one Redis round trip, a skipped one would leave input waiting."""
        key = f"drain:{case_id}:{uuid.uuid4().hex[:12]}"
        await self.redis.enqueue_job(
            "drain_case", key, {"case_id": case_id}, _job_id=key, _defer_by=delay_s
        )
