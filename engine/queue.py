"""Hand work to the workers through Redis (arq), at most once per Slack event.

Slack redelivers events it thinks were not acked (retry_attempt > 0) and, with several bot
processes, the same event can reach two of them. `submit` claims the event id with SET NX
before enqueueing; arq's job id is the same key, so a second enqueue is refused too.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from arq.connections import ArqRedis
from pydantic import BaseModel

log = logging.getLogger(__name__)

CLAIM_TTL_S = 24 * 3600  # Slack retries for minutes; a day is ample and bounded.


class JobQueue:
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def submit(self, job: str, request: BaseModel, *, dedup_key: str) -> bool:
        """Enqueue `job(request)` unless `dedup_key` was seen; True when enqueued now."""
        claim = f"faultmaven:claim:{dedup_key}"
        if not await self.redis.set(claim, b"1", nx=True, ex=CLAIM_TTL_S):
            log.info("duplicate delivery of %s ignored", dedup_key)
            return False
        try:
            payload: dict[str, Any] = request.model_dump(mode="json")
            job_handle = await self.redis.enqueue_job(job, dedup_key, payload, _job_id=dedup_key)
        except BaseException:
            # Release the claim so Slack's retry of this event can still get through.
            await self.redis.delete(claim)
            raise
        if job_handle is None:
            log.info("job %s already queued or done", dedup_key)
            return False
        return True

    async def drain_later(self, case_id: int, delay_s: float) -> None:
        """Run a drain of the case in `delay_s`. Never deduplicated: a second look that finds
        nothing pending costs one Redis round trip, a skipped one would leave input waiting."""
        key = f"drain:{case_id}:{uuid.uuid4().hex[:12]}"
        await self.redis.enqueue_job(
            "drain_case", key, {"case_id": case_id}, _job_id=key, _defer_by=delay_s
        )
