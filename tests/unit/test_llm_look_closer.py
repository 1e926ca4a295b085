"""The look-closer loop through the real litellm client against the fake OpenAI server: the
model runs a tool, reads its answer, and answers citing what it found."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from engine.core.redact import Redactor
from engine.investigate.llm import LLM
from engine.investigate.turn import TurnInput, run_turn
from engine.tools.case_files import CaseFiles
from engine.tools.evidence_tools import evidence_tools
from engine.tools.registry import ToolRegistry
from tests.fakes.llm_turns import turn
from tests.fakes.openai import FakeOpenAI, Reply, Status, ToolCalls
from tests.unit.test_llm_turn_merge import (
    LOG,
    POOL_LINE,
    checkout_evidence,
    message,
    read_file,
    the_case,
)


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def _toolbox() -> ToolRegistry:
    evidence = checkout_evidence()
    assert evidence.report is not None
    files = CaseFiles({"checkout.log": LOG.decode()}, {"checkout.log": evidence.report})
    return ToolRegistry(evidence_tools(files))


async def _turn(openai: FakeOpenAI, tools: str = "on") -> object:
    llm = LLM(
        ["openai/fake-model"],
        api_base=openai.base_url,
        api_key="sk-fake",
        timeout_s=5,
        tools=tools,  # type: ignore[arg-type]
    )
    question = message("checkout 502s since 14:00, what broke?", "U1")

    async def quiet(status: str) -> None:
        pass

    return await run_turn(
        TurnInput(
            case=the_case(),
            history=[question],
            evidence=[checkout_evidence()],
            feedback=[],
            questions=[question],
            read_file=read_file,
            toolbox=_toolbox(),
        ),
        llm=llm,
        redactor=Redactor(),
        deadline_s=30,
        budget_tokens=6000,
        progress=quiet,
    )


async def test_the_model_looks_closer_then_answers_with_what_it_found(openai: FakeOpenAI) -> None:
    found = {"source": "checkout.log", "text": "connection pool exhausted", "line": POOL_LINE}
    openai.script(
        ToolCalls((("grep_evidence", json.dumps({"pattern": "pool exhausted"})),)),
        Reply(""),  # no more tools: ready to answer
        Reply(
            turn(
                "The checkout pool is exhausted.",
                {
                    "statement": "checkout's connection pool is exhausted",
                    "confidence": 0.8,
                    "status": "proposed",
                    "supporting": [found],
                },
            )
        ),
    )
    outcome = await _turn(openai)
    first, second, answer = openai.requests
    assert [spec["function"]["name"] for spec in first.body["tools"]] == [
        "grep_evidence",
        "lines_around",
        "template_examples",
    ]
    tool_message = second.messages[-1]
    assert (
        tool_message["role"] == "tool" and f"checkout.log:{POOL_LINE}:" in tool_message["content"]
    )
    assert "tools" not in answer.body  # the answer is the structured turn, without tools
    assert "<tool_results>" in answer.messages[-1]["content"]
    assert outcome.engine == "llm"  # type: ignore[attr-defined]
    result = outcome.result  # type: ignore[attr-defined]
    assert [note.line for note in result.tool_runs] == [
        "`grep_evidence(pattern='pool exhausted', regex=False, max_matches=20)` → ok, "
        f"{len(tool_message['content']):,} characters"
    ]
    assert "looked closer: `grep_evidence(pattern='pool exhausted'" in outcome.footer  # type: ignore[attr-defined]
    assert result.hypotheses[0].supporting[0].line == POOL_LINE


async def test_a_model_that_takes_no_tools_still_answers(openai: FakeOpenAI) -> None:
    openai.script(Status(400), Reply(turn("Looks like the pool.")))
    outcome = await _turn(openai)
    assert outcome.engine == "llm" and outcome.result.tool_runs == []  # type: ignore[attr-defined]
    assert "tools" not in openai.requests[-1].body


async def test_without_tools_for_the_model_no_tool_round_is_asked(openai: FakeOpenAI) -> None:
    openai.script(Reply(turn("Looks like the pool.")))
    await _turn(openai, tools="auto")  # litellm does not know the fake model: no tools
    assert len(openai.requests) == 1 and "tools" not in openai.requests[0].body
