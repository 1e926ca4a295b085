"""LLM provider faults through the real litellm client against the fake OpenAI server:
rate limits with Retry-After, server errors and timeouts, on the primary and the fallback.

What must hold: a 429's Retry-After is waited out on the same model when the budget allows;
a model is given up after its time budget (LLM_TIMEOUT_S for each of its 1 + LLM_RETRIES
tries), whatever the provider asks, and the next model is tried; when all fail the person
still gets the offline answer, and the turn says which models failed and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from psycopg_pool import AsyncConnectionPool

from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.models import MentionRequest, ThreadRef
from engine.core.replies import AnswerReply
from engine.investigate.llm import LLM, LLMUnavailable
from engine.investigate.result import LLMTurn
from engine.store import investigation
from tests.fakes.llm_turns import turn
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.fakes.openai import Delay, FakeOpenAI, Reply, Status

pytestmark = pytest.mark.integration

MESSAGES = [
    {"role": "system", "content": "You are FaultMaven, an SRE assistant."},
    {"role": "user", "content": "checkout 502s since 14:00, what broke?"},
]
THREAD = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.000001")


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(default_reply=turn("filler")) as fake:
        yield fake


def make_llm(openai: FakeOpenAI, *models: str, timeout_s: float = 5.0, retries: int = 1) -> LLM:
    return LLM(
        list(models), api_base=openai.base_url, api_key="sk-fake", timeout_s=timeout_s,
        retries=retries,
    )  # fmt: skip


async def test_429_retry_after_is_waited_out_on_the_same_model(openai: FakeOpenAI) -> None:
    openai.script(Status(429, retry_after=1.5), Reply(turn("after the rate limit")))

    result = await make_llm(openai, "openai/primary", "openai/backup").complete_structured(
        MESSAGES, LLMTurn
    )

    assert result.model == "openai/primary"
    assert result.value.answer == "after the rate limit"
    limited, retried = openai.requests
    assert retried.at - limited.at >= 1.5  # not sooner than the provider asked


async def test_a_retry_after_past_the_budget_moves_to_the_fallback(openai: FakeOpenAI) -> None:
    """A provider asking for 30 s of patience does not get it when the model's budget is
    2 × 1 s: the fallback answers instead, long before the 30 s are up."""
    openai.script(Status(429, retry_after=30), model="primary")
    openai.script(Reply(turn("from the backup")), model="backup")
    llm = make_llm(openai, "openai/primary", "openai/backup", timeout_s=1.0, retries=1)

    # Bounded: the primary may take 1 s per try (2 tries), the backup answers at once.
    result = await asyncio.wait_for(llm.complete_structured(MESSAGES, LLMTurn), timeout=15)

    assert result.model == "openai/backup"
    assert [r.model for r in openai.requests] == ["primary", "backup"]


async def test_429_then_500_then_timeout_gives_up_with_every_reason(openai: FakeOpenAI) -> None:
    openai.script(Status(429, retry_after=0), Status(429, retry_after=0), model="first")
    openai.script(Status(500), Status(500), model="second")
    openai.script(Delay(60, then=Reply(turn("late"))), Delay(60), model="third")
    llm = make_llm(openai, "openai/first", "openai/second", "openai/third", timeout_s=1.0)

    with pytest.raises(LLMUnavailable) as info:
        await asyncio.wait_for(llm.complete_structured(MESSAGES, LLMTurn), timeout=30)

    first, second, third = info.value.reasons
    assert first.startswith("openai/first: RateLimitError")
    assert second.startswith("openai/second: InternalServerError")
    assert third.startswith("openai/third: ") and "Timeout" in third
    assert [r.model for r in openai.requests] == ["first"] * 2 + ["second"] * 2 + ["third"] * 2


async def test_every_model_failing_still_answers_and_the_turn_keeps_why(
    pool: AsyncConnectionPool, settings: Settings, openai: FakeOpenAI
) -> None:
    openai.script(Status(429, retry_after=0), Status(429, retry_after=0), model="primary")
    openai.script(Delay(60), Delay(60), model="backup")
    replier = MemoryReplier()
    llm = make_llm(openai, "openai/primary", "openai/backup", timeout_s=1.0)
    service = CaseService(pool, settings, replier=replier, files=MemoryFiles(), llm=llm)

    await service.answer_mention(
        MentionRequest(thread=THREAD, ts="1.0", user="U1", text="db timeouts?"), key="E1"
    )

    answers = [p.latest for p in replier.posted if isinstance(p.latest, AnswerReply)]
    assert len(answers) == 1
    [answer] = answers
    assert answer.engine == "offline" and answer.text.strip()
    assert "LLM unavailable: openai/primary, openai/backup" in answer.footer
    case = await service.case_for_thread(THREAD.channel_id, THREAD.thread_ts)
    assert case is not None
    [stored] = await investigation.turns(pool, case.id)
    assert stored.engine == "offline"
    errors = stored.result.llm_errors
    assert [e.split(":", 1)[0] for e in errors] == ["openai/primary", "openai/backup"]
    assert "RateLimitError" in errors[0] and "Timeout" in errors[1]
