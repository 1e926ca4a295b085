"""JobQueue when Redis is away or was lost mid-submit (real Redis servers)."""

from __future__ import annotations

import pytest
from arq.connections import ArqRedis, create_pool

from bot.runtime import QUEUE_NAME
from engine.core.models import MentionRequest, ThreadRef
from engine.worker.jobs import JobKind
from engine.worker.queue import PENDING, JobQueue, QueueUnavailable, redis_settings
from tests.restartable import free_port

pytestmark = pytest.mark.integration

REQUEST = MentionRequest(
    thread=ThreadRef(team_id="T1", channel_id="C1", thread_ts="1.0"), ts="1.0", user="U1", text="?"
)


async def test_unreachable_redis_raises_queue_unavailable() -> None:
    """Nothing listens on the port: after the client's short retries the caller is told, so
    the listener leaves the event unacked (and Slack sends it again)."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    settings = redis_settings(url)  # the retries FaultMaven's processes use
    redis = ArqRedis.from_url(url, retry=settings.retry, retry_on_error=settings.retry_on_error)
    try:
        with pytest.raises(QueueUnavailable, match="could not queue answer_mention for Ev1"):
            await JobQueue(redis).submit(JobKind.ANSWER_MENTION, REQUEST, dedup_key="Ev1")
    finally:
        await redis.aclose()


async def test_a_claim_left_without_its_job_does_not_block_the_redelivery(
    redis: ArqRedis, redis_url: str
) -> None:
    """A submit that died between claiming the event and queueing its job (Redis went away,
    or the bot) leaves a claim: the redelivered event is queued, once."""
    pool = await create_pool(redis_settings(redis_url), default_queue_name=QUEUE_NAME)
    queue = JobQueue(pool)
    try:
        await pool.set("faultmaven:claim:Ev2", PENDING)

        assert await queue.submit(JobKind.ANSWER_MENTION, REQUEST, dedup_key="Ev2") is True
        assert await queue.submit(JobKind.ANSWER_MENTION, REQUEST, dedup_key="Ev2") is False
        assert await pool.zcard(QUEUE_NAME) == 1
    finally:
        await pool.aclose()


async def test_a_queued_claim_outlives_the_job_result(redis: ArqRedis, redis_url: str) -> None:
    """Once queued, the claim alone refuses the key, also after arq forgot the job (its
    result is kept an hour): a daily digest claimed at 09:00 is not queued again at 10:30."""
    pool = await create_pool(redis_settings(redis_url), default_queue_name=QUEUE_NAME)
    queue = JobQueue(pool)
    try:
        assert await queue.submit(JobKind.ANSWER_MENTION, REQUEST, dedup_key="Ev3") is True
        await pool.delete(QUEUE_NAME, "arq:job:Ev3")  # ran, and its result expired

        assert await queue.submit(JobKind.ANSWER_MENTION, REQUEST, dedup_key="Ev3") is False
        assert await pool.zcard(QUEUE_NAME) == 0
    finally:
        await pool.aclose()
