"""Hand work to the workers through Redis (arq), at most once per Slack event.

Slack redelivers events it thinks were not acked (retry_attempt > 0) and, with several bot
processes, the same event can reach two of them. `submit` claims the event id and enqueues
its job in one Lua script (atomic, one round trip); arq's job id is the same key.

When Redis cannot be reached, `submit` raises QueueUnavailable and the listener must not ack:
the event is then not lost, Slack delivers it again (bot/app.py acks only after the listener
returned). The client retries a dropped connection for a moment first (`redis_settings`), so
a Redis restart of a second or two is not even noticed.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from pydantic import BaseModel
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.cases.turns import DrainRequest
from engine.worker.jobs import JobKind

log = logging.getLogger(__name__)

CLAIM_TTL_S = 24 * 3600  # Slack retries for minutes; a day is ample and bounded.
# Claim values, as CLAIM_AND_ENQUEUE writes and reads them.
PENDING, QUEUED = b"pending", b"queued"
# What arq's enqueue_job writes (the job, its place in the queue), behind the claim, atomically.
# A QUEUED claim refuses the key for a day, longer than arq keeps a result; a PENDING one
# (left by a submit of an earlier version that died between claim and job) does not. arq
# refuses a job id that is queued, running or has a result. KEYS: claim, job, result,
# in-progress, queue; ARGV: claim TTL s, serialized job, job expiry ms, score ms, job id.
CLAIM_AND_ENQUEUE = """
local claim = redis.call('GET', KEYS[1])
if claim and claim ~= 'pending' then return 0 end
if redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4]) > 0 then return 0 end
redis.call('PSETEX', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
redis.call('SET', KEYS[1], 'queued', 'EX', ARGV[1])
return 1
"""
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
        self._claim_and_enqueue = redis.register_script(CLAIM_AND_ENQUEUE)

    async def submit(self, kind: JobKind, request: BaseModel, *, dedup_key: str) -> bool:
        """Enqueue a job of `kind` for `request` unless `dedup_key` was seen; True when
        enqueued now. QueueUnavailable when Redis cannot be reached (nothing was queued)."""
        try:
            return await self._submit(kind, request, dedup_key)
        except UNREACHABLE as exc:
            raise QueueUnavailable(f"could not queue {kind.value} for {dedup_key}: {exc}") from exc

    async def _submit(self, kind: JobKind, request: BaseModel, dedup_key: str) -> bool:
        # The ack waits for this (bot/app.py), so it is one round trip: under load each extra
        # one is another wait for Redis and the bot to be scheduled (five of them made acks
        # of a busy 2-core host take 200 ms at p99; tests/bench/bench_load.py).
        payload: dict[str, Any] = request.model_dump(mode="json")
        now_ms = timestamp_ms()
        queued = await self._claim_and_enqueue(
            keys=[
                f"faultmaven:claim:{dedup_key}",
                job_key_prefix + dedup_key,
                result_key_prefix + dedup_key,
                in_progress_key_prefix + dedup_key,
                self.redis.default_queue_name,
            ],
            args=[
                CLAIM_TTL_S,
                serialize_job(
                    kind.value,
                    (dedup_key, payload),
                    {},
                    None,
                    now_ms,
                    serializer=self.redis.job_serializer,
                ),
                self.redis.expires_extra_ms,  # arq's default expiry of a queued job
                now_ms,
                dedup_key,
            ],
        )
        if not queued:
            log.info("duplicate delivery of %s ignored", dedup_key)
        return bool(queued)

    async def drain_later(self, case_id: int, delay_s: float) -> None:
        """Run a drain of the case in `delay_s`. Never deduplicated: a second look that finds
        nothing pending costs one Redis round trip, a skipped one would leave input waiting."""
        key = f"drain:{case_id}:{uuid.uuid4().hex[:12]}"
        payload = DrainRequest(case_id=case_id).model_dump(mode="json")
        await self.redis.enqueue_job(
            JobKind.DRAIN_CASE.value, key, payload, _job_id=key, _defer_by=delay_s
        )
