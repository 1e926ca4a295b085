"""Run what is queued with the real arq worker, as a worker process would."""

from __future__ import annotations

import asyncio

from arq.connections import ArqRedis

from bot.runtime import make_worker
from engine.cases.service import CaseService


async def run_jobs(service: CaseService, redis: ArqRedis) -> None:
    """Run what is queued with the real arq worker (burst: until the queue is empty)."""
    worker = make_worker(service, redis, service.settings, burst=True)
    try:
        async with asyncio.timeout(60):
            await worker.async_run()
    finally:
        await worker.close()
