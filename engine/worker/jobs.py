"""arq jobs: the long work, run by workers, retried when a worker dies.

Every kind of job is one row of `JOBS`: the request model its payload holds and the
CaseService method that does the work. arq runs `run_job` for every kind (under the kind's
name), which binds the log context, counts and times the run, and handles failures the
same way for all of them.

Each job gets `(key, payload)`: the trigger key that makes it idempotent (also its arq job
id, engine/worker/queue.py) and the request model as JSON. The worker's ctx holds the
CaseService, built by whoever starts the worker (bot/runtime.py) with the surface's Replier
and FileSource.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from arq import Retry
from arq.typing import WorkerCoroutine
from arq.worker import Function, func
from pydantic import BaseModel

from engine.cases import alert_cases
from engine.cases.digest import DigestRequest
from engine.cases.reminders import ReminderRequest
from engine.cases.retention import RetentionRequest
from engine.cases.service import CaseService
from engine.cases.source_query import SourceQueryRequest
from engine.cases.turns import DrainRequest
from engine.core.errors import FaultMavenError, new_error_id
from engine.core.models import (
    AlertGroupRequest,
    AlertMessageRequest,
    CloseCaseRequest,
    FeedbackRequest,
    FilesRequest,
    KnowledgeAddRequest,
    KnowledgeSearchRequest,
    MentionRequest,
    MessageRequest,
    OpenCaseRequest,
    ReopenCaseRequest,
    RunCheckRequest,
    ThreadRef,
)
from engine.core.replies import NoticeReply
from engine.ops import log_setup, prometheus

log = logging.getLogger(__name__)

Ctx = dict[str, Any]
R = TypeVar("R", bound=BaseModel)
R_in = TypeVar("R_in", bound=BaseModel, contravariant=True)


class JobKind(StrEnum):
    """The kinds of job. A value is the arq function name, so it is stored in queued jobs:
    renaming one strands the jobs queued under the old name."""

    OPEN_CASE = "open_case"
    ANSWER_MENTION = "answer_mention"
    RECORD_MESSAGE = "record_message"
    ADD_FILES = "add_files"
    RECORD_FEEDBACK = "record_feedback"
    RUN_CHECK = "run_check"  # a hypothesis's live check (the Run check button)
    QUERY_SOURCE = "query_source"  # `/faultmaven query <source> …`
    DRAIN_CASE = "drain_case"  # a second look at a case held by a worker that may have died
    CLOSE_CASE = "close_case"
    REOPEN_CASE = "reopen_case"
    SEARCH_KNOWLEDGE = "search_knowledge"  # embedding the query takes the model
    ADD_KNOWLEDGE = "add_knowledge"
    # Scheduled (engine/worker/scheduler.py).
    REMIND_STALE_CASE = "remind_stale_case"
    POST_DIGEST = "post_digest"
    PURGE_OLD_EVIDENCE = "purge_old_evidence"
    # Alerts open cases (engine/cases/alert_cases.py).
    ALERT_GROUP = "alert_group"  # an Alertmanager notification
    INVESTIGATE_ALERT = "investigate_alert"  # the Investigate button under an alert message


@dataclass(frozen=True)
class Job(Generic[R]):
    """How one kind of job runs."""

    request: type[R]
    # Calls the CaseService method doing the work with the request and the trigger key.
    run: Callable[[CaseService, R, str], Awaitable[object]]
    # Work someone waits for in a thread (a question, an upload): told there when it fails
    # for good, so nobody waits in silence.
    thread: Callable[[R], ThreadRef] | None = None


class KeyedMethod(Protocol[R_in]):
    """A CaseService method that takes the trigger key: it stores or posts under it, so a
    retried job updates what the first try did instead of doing it again."""

    def __call__(self, service: CaseService, req: R_in, /, *, key: str) -> Awaitable[object]: ...


def _keyed(
    request: type[R], method: KeyedMethod[R], *, thread: Callable[[R], ThreadRef] | None = None
) -> Job[R]:
    return Job(request, lambda service, req, key: method(service, req, key=key), thread)


def _unkeyed(request: type[R], method: Callable[[CaseService, R], Awaitable[object]]) -> Job[R]:
    """A CaseService method that needs no trigger key: what it stores is unique by the
    request itself (a message's ts, a reminder's quiet spell), or a repeat is harmless."""
    return Job(request, lambda service, req, key: method(service, req))


def _asker_thread(req: MentionRequest | FilesRequest) -> ThreadRef:
    return req.thread


JOBS: dict[JobKind, Job[Any]] = {
    JobKind.OPEN_CASE: _keyed(OpenCaseRequest, CaseService.open_case),
    JobKind.ANSWER_MENTION: _keyed(
        MentionRequest, CaseService.answer_mention, thread=_asker_thread
    ),
    JobKind.RECORD_MESSAGE: _unkeyed(MessageRequest, CaseService.record_message),
    JobKind.ADD_FILES: _keyed(FilesRequest, CaseService.add_files, thread=_asker_thread),
    JobKind.RECORD_FEEDBACK: _keyed(FeedbackRequest, CaseService.record_feedback),
    JobKind.RUN_CHECK: _keyed(RunCheckRequest, CaseService.run_check),
    JobKind.QUERY_SOURCE: _keyed(SourceQueryRequest, CaseService.query_source),
    JobKind.DRAIN_CASE: _unkeyed(DrainRequest, CaseService.drain_case),
    JobKind.CLOSE_CASE: _keyed(CloseCaseRequest, CaseService.close_case),
    JobKind.REOPEN_CASE: _keyed(ReopenCaseRequest, CaseService.reopen_case),
    JobKind.SEARCH_KNOWLEDGE: _unkeyed(KnowledgeSearchRequest, CaseService.search_knowledge),
    JobKind.ADD_KNOWLEDGE: _keyed(KnowledgeAddRequest, CaseService.add_knowledge),
    JobKind.REMIND_STALE_CASE: _unkeyed(ReminderRequest, CaseService.remind_stale_case),
    JobKind.POST_DIGEST: _unkeyed(DigestRequest, CaseService.post_digest),
    JobKind.PURGE_OLD_EVIDENCE: _unkeyed(RetentionRequest, CaseService.purge_old_evidence),
    JobKind.ALERT_GROUP: _keyed(AlertGroupRequest, alert_cases.take_alert_group),
    JobKind.INVESTIGATE_ALERT: _keyed(AlertMessageRequest, alert_cases.investigate_alert_message),
}


async def run_job(kind: JobKind, ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
    """What arq runs for every kind: the job with its log context bound (its kind, its key,
    the case when the payload names one) and its run counted and timed by outcome."""
    name = kind.value
    # arq runs each job in a task of its own: what is bound here stays with this job.
    case_id = payload.get("case_id") if isinstance(payload, dict) else None
    log_setup.bind(job=name, event_id=key, case_id=case_id if isinstance(case_id, int) else None)
    prometheus.JOBS_STARTED.labels(name).inc()
    running = prometheus.JOBS_RUNNING.labels(name)
    running.inc()
    started = time.perf_counter()
    try:
        await _run(ctx, key, JOBS[kind], payload)
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


async def _run(ctx: Ctx, key: str, job: Job[Any], payload: dict[str, Any]) -> None:
    """Run one job: user errors are final, anything else is retried with backoff; after the
    last try the thread is told, with an error id to quote, so nobody waits in silence."""
    service: CaseService = ctx["service"]
    # A payload that is not the request fails here, untried: no retry would change it.
    req = job.request.model_validate(payload)
    try:
        await job.run(service, req, key)
    except FaultMavenError as exc:
        log.info("job %s ended with a user-facing error: %s", key, exc.user_message)
    except Exception as exc:
        job_try: int = ctx.get("job_try", 1)
        max_tries: int = ctx.get("max_tries", 5)
        if job_try < max_tries:
            log.warning("job %s failed (try %d), retrying: %s", key, job_try, exc, exc_info=True)
            raise Retry(defer=min(2**job_try, 30)) from exc
        error_id = new_error_id()
        log.exception("job %s failed for good (error id %s)", key, error_id)
        if job.thread is not None:
            notice = NoticeReply(
                is_error=True,
                text=f"Something went wrong on my side and I gave up after {job_try} tries "
                f"(error id `{error_id}`). Please try again; if it keeps failing, quote the id.",
            )
            with contextlib.suppress(Exception):
                await service.tell(job.thread(req), notice)
        raise


def functions(*, timeout_s: int, max_tries: int) -> list[Function]:
    """One arq function per kind, each named by its kind and running `run_job`."""
    for kind in JobKind:
        for family in (
            prometheus.JOBS_STARTED,
            prometheus.JOBS_COMPLETED,
            prometheus.JOBS_RETRIED,
            prometheus.JOBS_FAILED,
            prometheus.JOBS_INTERRUPTED,
        ):
            family.labels(kind.value)  # zeros from the start, so rates and alerts see every job
    return [
        func(_for_arq(kind), name=kind.value, timeout=timeout_s, max_tries=max_tries)
        for kind in JobKind
    ]


def _for_arq(kind: JobKind) -> WorkerCoroutine:
    async def run(ctx: Ctx, key: str, payload: dict[str, Any]) -> None:
        await run_job(kind, ctx, key, payload)

    return run
