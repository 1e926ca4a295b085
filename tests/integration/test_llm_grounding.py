"""A model's citations through the whole service: the stored (sealed) file content grounds
them, and nothing the case does not hold reaches the summary, the hypotheses table or the
postmortem."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from psycopg_pool import AsyncConnectionPool

from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.models import CloseCaseRequest, FilesRequest, MentionRequest, ThreadRef
from engine.core.replies import CaseSummaryReply
from engine.investigate.llm import LLM
from engine.store import investigation
from tests.fakes.llm_turns import FILLER, turn
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.fakes.openai import FakeOpenAI, Reply
from tests.samples import checkout_log

pytestmark = pytest.mark.integration

THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000001")
LOG = checkout_log()
POOL_LINE = next(i for i, line in enumerate(LOG.decode().splitlines(), 1) if "exhausted" in line)


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(default_reply=FILLER) as fake:
        yield fake


async def test_only_grounded_citations_are_stored_shown_and_written_up(
    pool: AsyncConnectionPool, settings: Settings, openai: FakeOpenAI
) -> None:
    replier, files = MemoryReplier(), MemoryFiles()
    llm = LLM(["openai/fake-model"], api_base=openai.base_url, api_key="sk-fake", timeout_s=5)
    service = CaseService(pool, settings, replier=replier, files=files, llm=llm)
    openai.script(Reply(turn("Send the logs.")))
    await service.answer_mention(
        MentionRequest(thread=THREAD, ts="1.0", user="U1", text="checkout 502s, why?"), key="E1"
    )
    ref = files.add("F1", "checkout.log", LOG)
    await service.add_files(FilesRequest(thread=THREAD, ts="2.0", user="U1", files=[ref]), key="E2")

    supporting = [
        {
            "source": "checkout.log",
            "text": "connection pool exhausted",
            "line": f"line {POOL_LINE}",
        },
        # Only the file's content can tell this one: the quote is real, its line is not.
        {"source": "checkout.log", "text": "connection pool exhausted", "line": 2},
        {"source": "nonexistent.log", "text": "FATAL disk quota exceeded", "line": 99999},
    ]
    pool_hypothesis = {
        "statement": "payments-db connection pool exhausted",
        "component": "payments-db",
        "confidence": 0.8,
        "supporting": supporting,
    }
    openai.script(Reply(turn("*Most likely:* the pool.", pool_hypothesis)))
    await service.answer_mention(
        MentionRequest(thread=THREAD, ts="3.0", user="U1", text="what broke?"), key="E3"
    )

    case = await service.case_for_thread(THREAD.channel_id, THREAD.thread_ts)
    assert case is not None
    row = (await investigation.turns(pool, case.id))[-1]
    assert row.engine == "llm"
    check = row.result.citations
    assert check is not None and (check.kept, check.normalised) == (1, 1)
    assert sorted(d.line or 0 for d in check.dropped) == [2, 99999]
    assert any(f"line {POOL_LINE} does" in d.why for d in check.dropped)
    [stored] = [h for h in await investigation.hypotheses(pool, case.id) if h.id.startswith("llm:")]
    assert [(c.source, c.line) for c in stored.supporting] == [("checkout.log", POOL_LINE)]
    assert stored.confidence == pytest.approx(0.8 * 0.8 * 0.8)

    [summary] = replier.summaries(THREAD.thread_ts)
    assert isinstance(summary.latest, CaseSummaryReply)
    assert "nonexistent.log" not in summary.latest.model_dump_json()

    await service.close_case(CloseCaseRequest(case_id=case.id, user="U1"), key="close-1")
    [postmortem] = [u for u in replier.uploads if u.title.startswith("Postmortem")]
    text = postmortem.content.decode()
    assert f"checkout.log line {POOL_LINE}" in text
    assert "nonexistent.log" not in text and "line 2:" not in text
