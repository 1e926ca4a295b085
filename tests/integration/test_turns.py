"""Investigation turns as a team lives them: phases, verdicts, and one run per case at a time."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from arq.connections import ArqRedis
from psycopg_pool import AsyncConnectionPool

from bot.runtime import make_worker
from engine.cases.service import CaseService
from engine.cases.turns import DrainRequest, answer_key
from engine.core.config import Settings
from engine.core.models import (
    CloseCaseRequest,
    FeedbackRequest,
    FilesRequest,
    MentionRequest,
    MessageRequest,
    ThreadRef,
)
from engine.core.replies import AnswerReply, CaseSummaryReply, NoticeReply
from engine.store import investigation, messages, replies
from engine.worker.coalesce import CaseRuns
from engine.worker.jobs import JobKind
from engine.worker.queue import JobQueue
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.samples.incident import json_lines, plain_log

pytestmark = pytest.mark.integration

THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000001")


def mention(text: str, ts: str) -> MentionRequest:
    return MentionRequest(thread=THREAD, ts=ts, user="U1", text=text)


def summary_of(replier: MemoryReplier) -> CaseSummaryReply:
    [summary] = replier.summaries(THREAD.thread_ts)
    latest = summary.latest
    assert isinstance(latest, CaseSummaryReply)
    return latest


async def test_a_case_moves_through_its_phases_and_keeps_why(
    pool: AsyncConnectionPool, settings: Settings
) -> None:
    replier, files = MemoryReplier(), MemoryFiles()
    service = CaseService(pool, settings, replier=replier, files=files)

    await service.answer_mention(mention("checkout is failing since 14:05", "1.0"), key="E1")
    assert summary_of(replier).phase == "consulting"

    refs = [
        files.add("F1", "checkout.log", plain_log("checkout")),
        files.add("F2", "payments.json", json_lines("payments")),
    ]
    await service.add_files(FilesRequest(thread=THREAD, ts="2.0", user="U1", files=refs), key="E2")
    summary = summary_of(replier)
    assert summary.phase in ("diagnosing", "analyzing")
    top = summary.hypotheses[0]
    assert "connection pool is exhausted" in top.statement and top.statement.endswith("payments")

    # Confirming the lead: analysis, and the summary says who confirmed it.
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    await service.record_feedback(
        FeedbackRequest(case_id=case.id, hypothesis_key=top.key, kind="confirm", user="U2"),
        key="click-1",
    )
    summary = summary_of(replier)
    assert summary.phase == "analyzing"
    assert summary.hypotheses[0].status == "confirmed"
    assert summary.hypotheses[0].decided_by == "U2"
    assert summary.working_conclusion.endswith("(confirmed by U2)")

    # Changing their mind: ruled out, it drops from the lead, and with no other strong lead the
    # case goes back to diagnosing, the reason kept in the phase history.
    await service.record_feedback(
        FeedbackRequest(case_id=case.id, hypothesis_key=top.key, kind="rule_out", user="U2"),
        key="click-2",
    )
    summary = summary_of(replier)
    assert summary.hypotheses[0].key != top.key
    assert [h.status for h in summary.hypotheses if h.key == top.key] == ["ruled_out"]
    assert summary.phase == "diagnosing"

    await service.close_case(CloseCaseRequest(case_id=case.id, user="U1"), key="E9")
    assert summary_of(replier).phase == "resolved"

    history = await investigation.phase_history(pool, case.id)
    assert [(c.from_phase, c.to_phase) for c in history] == [
        ("consulting", "analyzing"),  # the evidence points strongly at one cause
        ("analyzing", "diagnosing"),  # ...which people then ruled out: back a step
        ("diagnosing", "resolved"),
    ]
    assert history[0].reason.startswith("leading hypothesis (")
    assert history[1].reason == "no hypothesis leads any more"
    assert history[2].reason == "closed by U1"


async def test_a_typed_correction_changes_the_next_turn(
    pool: AsyncConnectionPool, settings: Settings
) -> None:
    replier, files = MemoryReplier(), MemoryFiles()
    service = CaseService(pool, settings, replier=replier, files=files)
    await service.answer_mention(mention("checkout 502s", "1.0"), key="E1")
    refs = [
        files.add("F1", "checkout.log", plain_log("checkout")),
        files.add("F2", "payments.json", json_lines("payments")),
    ]
    await service.add_files(FilesRequest(thread=THREAD, ts="2.0", user="U1", files=refs), key="E2")
    lead = summary_of(replier).hypotheses[0]
    assert "payments" in lead.statement

    said = MessageRequest(thread=THREAD, ts="3.0", user="U2", text="payments looks healthy to me")
    assert await service.record_message(said)

    summary = summary_of(replier)
    assert summary.hypotheses[0].key != lead.key
    ruled = [h for h in summary.hypotheses if h.status == "ruled_out"]
    assert ruled and all("payments" in h.statement for h in ruled)
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    [note] = await investigation.feedback(pool, case.id)
    assert note.kind == "note" and note.text == "payments looks healthy to me"


async def test_runs_of_one_case_never_overlap_across_workers_and_no_input_is_lost(
    pool: AsyncConnectionPool, settings: Settings, redis: ArqRedis
) -> None:
    """Three workers take the jobs of one case at once: turns run one at a time, later input
    is coalesced into fewer turns, and every question gets its answer."""
    replier, files = MemoryReplier(), MemoryFiles()

    def service() -> CaseService:
        return CaseService(
            pool,
            settings,
            replier=replier,
            files=files,
            runs=CaseRuns(redis, lock_ttl_s=settings.run_lock_ttl_s),
        )

    first = service()
    case = await first.start_case(THREAD, title="checkout failing", user="U1")
    queue = JobQueue(redis)
    jobs = 0
    for i, name in enumerate(["checkout", "payments", "search", "gateway"]):
        ref = files.add(f"F{i}", f"{name}.log", plain_log(name))
        request = FilesRequest(thread=THREAD, ts=f"2.{i}", user="U1", files=[ref])
        jobs += await queue.submit(JobKind.ADD_FILES, request, dedup_key=f"files-{i}")
        question = mention(f"what about {name}?", f"3.{i}")
        jobs += await queue.submit(JobKind.ANSWER_MENTION, question, dedup_key=f"ask-{i}")
    assert jobs == 8

    workers = [make_worker(service(), redis, settings, burst=True) for _ in range(3)]
    try:
        async with asyncio.timeout(120):
            await asyncio.gather(*(w.async_run() for w in workers))
    finally:
        for w in workers:
            await w.close()

    turns = await investigation.turns(pool, case.id)
    assert 1 <= len(turns) < jobs, "input arriving during a run joins the next run"
    spans = sorted((t.started_at, t.finished_at) for t in turns)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end is not None and end <= start, "two turns of one case ran at the same time"
    assert turns[-1].evidence_count == 4, "the last turn read every file"

    # Every question got the answer, or a note pointing to the answer given with a later one.
    asked = [m for m in await messages.history(pool, case.id, limit=100) if m.asks]
    assert len(asked) == 4
    answered = 0
    for question in asked:
        posted = await replies.find(pool, answer_key(case.id, question.ts))
        assert posted is not None, f"question {question.text!r} was never answered"
        [message] = [p for p in replier.posted if p.ts == posted[1]]
        assert isinstance(message.latest, AnswerReply | NoticeReply)
        answered += isinstance(message.latest, AnswerReply)
    assert answered >= 1
    assert len(replier.summaries(THREAD.thread_ts)) == 1, "one summary per case, updated"


async def test_a_case_held_by_a_dead_worker_is_looked_at_again(
    pool: AsyncConnectionPool, settings: Settings, redis: ArqRedis
) -> None:
    """A worker died holding the case: the input that arrived meanwhile is not left waiting
    for the next message; another drain is scheduled for when the dead lock expires."""
    replier, files = MemoryReplier(), MemoryFiles()
    runs = CaseRuns(redis, lock_ttl_s=settings.run_lock_ttl_s)
    asked_again: list[tuple[int, float]] = []

    async def look_again(case_id: int, delay: float) -> None:
        asked_again.append((case_id, delay))

    service = CaseService(
        pool, settings, replier=replier, files=files, runs=runs, look_again=look_again
    )
    case = await service.start_case(THREAD, title="ledger writes failing", user="U1")
    await redis.set(runs.lock_key(case.id), "a-dead-worker", px=1500)

    await service.answer_mention(mention("ledger writes failing", "1.0"), key="E1")

    assert replier.answers(THREAD.thread_ts) == [], "the case was held: no turn ran here"
    [(case_id, delay)] = asked_again
    assert case_id == case.id and 0 < delay <= 2.0
    for _ in range(200):  # the dead worker's lock expires within its 1.5 s
        if not await redis.exists(runs.lock_key(case.id)):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the dead worker's lock never expired")
    assert await service.drain_case(DrainRequest(case_id=case.id)) == 1  # the scheduled job
    [answer] = replier.answers(THREAD.thread_ts)
    assert "Upload the logs" in answer.text


async def test_a_redelivered_correction_is_kept_once_and_runs_no_extra_turn(
    pool: AsyncConnectionPool, settings: Settings
) -> None:
    replier, files = MemoryReplier(), MemoryFiles()
    service = CaseService(pool, settings, replier=replier, files=files)
    await service.answer_mention(mention("checkout 502s", "1.0"), key="E1")
    ref = files.add("F1", "payments.json", json_lines("payments"))
    await service.add_files(FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[ref]), key="E2")
    case = await service.case_for_thread("C1", THREAD.thread_ts)
    assert case is not None
    said = MessageRequest(thread=THREAD, ts="3.0", user="U2", text="already checked DNS, fine")

    await service.record_message(said)
    turns_after_first = len(await investigation.turns(pool, case.id))
    await service.record_message(said)  # Slack delivers it again

    assert len(await investigation.feedback(pool, case.id)) == 1
    assert len(await investigation.turns(pool, case.id)) == turns_after_first
