"""Job wrappers: transient failures are retried; the last failure is told in the thread."""

from __future__ import annotations

import pytest
from arq import Retry
from psycopg_pool import AsyncConnectionPool

from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.models import FileRef, MentionRequest, ThreadRef
from engine.core.replies import NoticeReply
from engine.worker import jobs
from engine.worker.jobs import JobKind
from tests.fakes.memory import MemoryReplier

pytestmark = pytest.mark.integration

THREAD = ThreadRef(channel_id="C1", thread_ts="1700000000.000001")


class BrokenFiles:
    """A file source failing the way a bug or an outage would: not a user error."""

    async def fetch(self, file: FileRef, max_bytes: int) -> bytes:
        raise RuntimeError("storage backend exploded")


def mention_with_file() -> dict[str, object]:
    request = MentionRequest(
        thread=THREAD,
        ts="1.0",
        user="U1",
        text="look at this",
        files=[FileRef(source_id="F1", name="app.log")],
    )
    return request.model_dump(mode="json")


@pytest.fixture
def service(pool: AsyncConnectionPool, settings: Settings) -> CaseService:
    return CaseService(pool, settings, replier=MemoryReplier(), files=BrokenFiles())


async def test_a_failing_job_is_retried_before_the_last_try(service: CaseService) -> None:
    ctx = {"service": service, "job_try": 1, "max_tries": 3}
    with pytest.raises(Retry):
        await jobs.run_job(JobKind.ANSWER_MENTION, ctx, "Ev1", mention_with_file())
    assert not service.replier.posted  # type: ignore[attr-defined]


async def test_the_last_failure_tells_the_thread_with_an_error_id(service: CaseService) -> None:
    ctx = {"service": service, "job_try": 3, "max_tries": 3}
    with pytest.raises(RuntimeError):
        await jobs.run_job(JobKind.ANSWER_MENTION, ctx, "Ev1", mention_with_file())
    [notice] = service.replier.posted  # type: ignore[attr-defined]
    assert notice.thread_ts == THREAD.thread_ts
    assert isinstance(notice.reply, NoticeReply) and notice.reply.is_error
    assert "error id `" in notice.reply.text and "after 3 tries" in notice.reply.text
