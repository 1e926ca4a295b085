"""arq job functions: the long work, run by workers, retried when a worker dies.

Each job gets `(key, payload)`: the trigger key that makes it idempotent and the request
model as JSON. The worker's ctx holds the CaseService, built by whoever starts the worker
(bot/runtime.py) with the surface's Replier and FileSource.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from arq import Retry
from arq.typing import WorkerCoroutine
from arq.worker import Function, func

from engine.cases import digest, reminders, retention
from engine.cases.service import CaseService
from engine.core.errors import FaultMavenError
from engine.core.models import (
    CloseCaseRequest,
    FeedbackRequest,
    FilesRequest,
    KnowledgeAddRequest,
    KnowledgeSearchRequest,
    MentionRequest,
    MessageRequest,
    OpenCaseRequest,
    ReopenCaseRequest,
    ThreadRef,
)
from engine.core.replies import NoticeReply
from engine.ops import log_setup, prometheus

log = logging.getLogger(__name__)

Ctx = dict[str, Any]


def _service(ctx: Ctx) -> CaseService:
    service: CaseService = ctx["service"]
    return service


async def _run(
    ctx: Ctx, key: str, work: Callable[[], Awaitable[object]], thread: ThreadRef | None = None
) -> None:
    """Run one job: user errors are final, anything else is retried with backoff; after the
    last try the thread is told, with an error id to quote, so nobody waits in silence."""
    try:
        await work()
    except FaultMavenError as exc:
        log.info("job %s ended with a user-facing error: %s", key, exc.user_message)
    except Exception as exc:
        job_try: int = ctx.get("job_try", 1)
        max_tries: int = ctx.get("max_tries", 5)
        if job_try < max_tries:
            log.warning("job %s failed (try %d), retrying: %s", key, job_try, exc, exc_info=True)
            raise Retry(defer=min(2**job_try, 30)) from exc
        error_id = uuid.uuid4().hex[:8]
        log.exception("job %s failed for good (error id %s)", key, error_id)
        if thread is not None:
            notice = NoticeReply(
                is_error=True,
                text=f"Something went wrong on my side and I gave up after {job_try} tries "
                f"(error id `{error_id}`). Please try again; if it keeps failing, quote the id.",
            )
            with contextlib.suppress(Exception):
                await _service(ctx).replier.post(thread.channel_id, notice, thread.thread_ts)
        raise


async def open_case(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = OpenCaseRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).open_case(req, key=key))


async def answer_mention(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = MentionRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).answer_mention(req, key=key), req.thread)


async def record_message(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = MessageRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).record_message(req))


async def add_files(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = FilesRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).add_files(req, key=key), req.thread)


async def record_feedback(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = FeedbackRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).record_feedback(req, key=key))


async def drain_case(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    """A second look at a case whose run was held by a worker that may have died."""
    case_id = int(payload["case_id"])
    await _run(ctx, key, lambda: _service(ctx).turns.drain(case_id))


async def close_case(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = CloseCaseRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).close_case(req, key=key))


async def reopen_case(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = ReopenCaseRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).reopen_case(req, key=key))


async def search_knowledge(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    """`/faultmaven search`: embedding the query takes the model, so it runs here."""
    req = KnowledgeSearchRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).knowledge_desk.search(req))


async def add_knowledge(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    req = KnowledgeAddRequest.model_validate(payload)
    await _run(ctx, key, lambda: _service(ctx).knowledge_desk.add(req, key=key))


async def remind_stale_case(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    """Scheduled (engine/worker/scheduler.py): a nudge in the thread of a case gone quiet."""
    service = _service(ctx)
    req = reminders.ReminderRequest.model_validate(payload)
    hours = service.settings.stale_after_h
    await _run(
        ctx,
        key,
        lambda: reminders.remind(
            service.pool, service.poster, req, now=datetime.now(UTC), stale_after_h=hours
        ),
    )


async def post_digest(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    """Scheduled: the day's digest of open cases in a channel that asked for it."""
    service = _service(ctx)
    req = digest.DigestRequest.model_validate(payload)
    now = datetime.now(UTC)
    await _run(ctx, key, lambda: digest.post(service.pool, service.poster, req, now=now))


async def purge_old_evidence(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    """Scheduled: delete evidence content older than the retention period."""
    service = _service(ctx)
    days = service.settings.evidence_retention_days
    now = datetime.now(UTC)
    await _run(ctx, key, lambda: retention.purge(service.pool, now=now, days=days))


JOBS: dict[str, WorkerCoroutine] = {
    "open_case": open_case,
    "answer_mention": answer_mention,
    "record_message": record_message,
    "add_files": add_files,
    "record_feedback": record_feedback,
    "drain_case": drain_case,
    "close_case": close_case,
    "reopen_case": reopen_case,
    "search_knowledge": search_knowledge,
    "add_knowledge": add_knowledge,
    "remind_stale_case": remind_stale_case,
    "post_digest": post_digest,
    "purge_old_evidence": purge_old_evidence,
}


def _instrumented(name: str, job: WorkerCoroutine) -> WorkerCoroutine:
    """`job` with its log context bound (job name, its key, the case when the payload names
    it) and its runs counted and timed by outcome."""
    for family in (
        prometheus.JOBS_STARTED,
        prometheus.JOBS_COMPLETED,
        prometheus.JOBS_RETRIED,
        prometheus.JOBS_FAILED,
        prometheus.JOBS_INTERRUPTED,
    ):
        family.labels(name)  # zeros from the start, so rates and alerts see every job

    @functools.wraps(job)
    async def run(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
        # arq runs each job in a task of its own: what is bound here stays with this job.
        case_id = payload.get("case_id") if isinstance(payload, dict) else None
        log_setup.bind(
            job=name, event_id=key, case_id=case_id if isinstance(case_id, int) else None
        )
        prometheus.JOBS_STARTED.labels(name).inc()
        running = prometheus.JOBS_RUNNING.labels(name)
        running.inc()
        started = time.perf_counter()
        try:
            await job(ctx, key, payload)
        except Retry:
            prometheus.JOBS_RETRIED.labels(name).inc()
            raise
        except asyncio.CancelledError:
            prometheus.JOBS_INTERRUPTED.labels(name).inc()
            raise
        except Exception:
            prometheus.JOBS_FAILED.labels(name).inc()
            raise
        else:
            prometheus.JOBS_COMPLETED.labels(name).inc()
        finally:
            running.dec()
            prometheus.JOB_DURATION.labels(name).observe(time.perf_counter() - started)

    return run


def functions(*, timeout_s: int, max_tries: int) -> list[Function]:
    return [
        func(_instrumented(name, job), name=name, timeout=timeout_s, max_tries=max_tries)
        for name, job in JOBS.items()
    ]
