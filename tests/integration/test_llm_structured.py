"""Structured LLM turns through the real litellm client against the fake OpenAI server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from engine.investigate.llm import LLM, MAX_TOKENS, LLMUnavailable, estimate_tokens
from engine.investigate.reply_schema import compact, reply_schema
from engine.investigate.result import LLMTurn, TurnUsage
from tests.fakes.openai import FakeOpenAI, Reply, Status

pytestmark = pytest.mark.integration

MESSAGES = [
    {"role": "system", "content": "You are FaultMaven, an SRE assistant."},
    {"role": "user", "content": "checkout 502s since 14:00, what broke?"},
]
TURN = {
    "response_type": "answer",
    "answer": "*Most likely:* payments-db pool exhaustion.",
    "working_conclusion": "connection pool exhaustion on payments-db",
    "confidence": "85%",
    "hypotheses": [{"statement": "payments-db pool exhausted", "confidence": 0.85}],
}
GOOD = json.dumps(TURN)


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def make_llm(openai: FakeOpenAI, *models: str, retries: int = 0) -> LLM:
    return LLM(
        list(models or ["openai/fake-model"]),
        api_base=openai.base_url,
        api_key="sk-fake",
        timeout_s=5.0,
        retries=retries,
    )


async def test_json_mode_is_requested_and_the_schema_is_in_the_prompt(openai: FakeOpenAI) -> None:
    openai.script(Reply(GOOD, prompt_tokens=321, completion_tokens=45))

    result = await make_llm(openai).complete_structured(MESSAGES, LLMTurn)

    assert isinstance(result.value, LLMTurn)
    assert result.value.confidence == pytest.approx(0.85)
    assert result.model == "openai/fake-model" and not result.repaired
    assert result.usage == [
        TurnUsage(model="openai/fake-model", prompt_tokens=321, completion_tokens=45)
    ]
    request = await openai.wait_for_request(timeout=5)
    assert request.response_format == {"type": "json_object"}
    roles = [m["role"] for m in request.messages]
    assert roles == ["system", "system", "user"]  # schema right after the first system message
    instruction = request.messages[1]["content"]
    assert "Reply with one JSON object only" in instruction
    # Not enforced by the provider: the schema is written out, compactly, reasoning first
    # and the answer last.
    assert instruction.endswith(compact(reply_schema(LLMTurn)))
    assert instruction.index('"reasoning"') < instruction.index('"hypotheses"')
    assert instruction.index('"hypotheses"') < instruction.index('"answer"')
    assert request.messages[0] == MESSAGES[0] and request.messages[2] == MESSAGES[1]
    # The same evidence should give the same diagnosis, and a reply has a ceiling.
    assert request.body["temperature"] == 0 and request.body["max_tokens"] == MAX_TOKENS


async def test_a_model_with_schema_support_gets_the_json_schema(openai: FakeOpenAI) -> None:
    openai.script(Reply(GOOD))

    await make_llm(openai, "openai/gpt-4o").complete_structured(MESSAGES, LLMTurn)

    request = await openai.wait_for_request(timeout=5)
    assert request.response_format == {
        "type": "json_schema",
        "json_schema": {
            "name": "LLMTurn",
            "schema": reply_schema(LLMTurn),
            "strict": False,
        },
    }
    # The provider enforces the schema: the prompt does not pay for it again.
    instruction = request.messages[1]["content"]
    assert "Reply with one JSON object only" in instruction and '"answer"' not in instruction
    fields = list(reply_schema(LLMTurn)["properties"])
    assert fields[0] == "reasoning" and fields[-1] == "answer"


async def test_without_a_system_message_the_schema_comes_first(openai: FakeOpenAI) -> None:
    openai.script(Reply(GOOD))
    await make_llm(openai).complete_structured(MESSAGES[1:], LLMTurn)
    request = await openai.wait_for_request(timeout=5)
    assert [m["role"] for m in request.messages] == ["system", "user"]
    assert "Reply with one JSON object only" in request.messages[0]["content"]


async def test_a_fenced_reply_with_prose_is_parsed(openai: FakeOpenAI) -> None:
    openai.script(Reply(f"Here is my analysis:\n```json\n{GOOD}\n```\nGood luck!"))

    result = await make_llm(openai).complete_structured(MESSAGES, LLMTurn)

    assert result.value.working_conclusion == TURN["working_conclusion"]
    assert not result.repaired and len(openai.requests) == 1


async def test_an_invalid_reply_gets_one_repair_turn(openai: FakeOpenAI) -> None:
    bad = json.dumps({**TURN, "response_type": "shrug"})
    openai.script(
        Reply(bad, prompt_tokens=100, completion_tokens=10),
        Reply(GOOD, prompt_tokens=130, completion_tokens=20),
    )

    result = await make_llm(openai).complete_structured(MESSAGES, LLMTurn)

    assert result.repaired and result.value.response_type == "answer"
    assert len(openai.requests) == 2
    first, second = openai.requests
    assert second.messages[: len(first.messages)] == first.messages
    assistant, user = second.messages[-2:]
    assert assistant == {"role": "assistant", "content": bad}
    assert user["role"] == "user"
    assert user["content"].startswith("Your reply could not be used: response_type: Input should")
    assert "Reply again with only the JSON object that matches the schema." in user["content"]
    assert second.response_format == {"type": "json_object"}
    assert [(u.prompt_tokens, u.completion_tokens) for u in result.usage] == [(100, 10), (130, 20)]


async def test_prose_only_twice_falls_back_to_the_next_model(openai: FakeOpenAI) -> None:
    openai.script(Reply("The pool is exhausted."), Reply("Restart it, really."), model="primary")
    openai.script(Reply(GOOD), model="backup")

    result = await make_llm(openai, "openai/primary", "openai/backup").complete_structured(
        MESSAGES, LLMTurn
    )

    assert result.model == "openai/backup" and not result.repaired
    assert [r.model for r in openai.requests] == ["primary", "primary", "backup"]
    assert "no JSON object in the reply" in openai.requests[1].messages[-1]["content"]
    assert "Restart it" not in str(openai.requests[2].messages)  # a fresh prompt for the backup
    assert [u.model for u in result.usage] == ["openai/primary"] * 2 + ["openai/backup"]
    assert openai.pending_steps == 0


async def test_every_model_failing_names_each_reason(openai: FakeOpenAI) -> None:
    openai.script(Reply("not json"), Reply('{"confidence": 2}'), model="primary")
    openai.script(Status(500), Status(500), model="backup")

    with pytest.raises(LLMUnavailable) as info:
        await make_llm(openai, "openai/primary", "openai/backup", retries=1).complete_structured(
            MESSAGES, LLMTurn
        )

    primary, backup = info.value.reasons
    assert primary.startswith("openai/primary: invalid structured output: response_type:")
    assert backup.startswith("openai/backup: InternalServerError")
    assert [r.model for r in openai.requests] == ["primary", "primary", "backup", "backup"]
    assert len(info.value.usage) == 2  # the two answers that came back, not the 500s


async def test_a_provider_error_in_the_repair_turn_moves_on(openai: FakeOpenAI) -> None:
    openai.script(Reply("not json"), Status(500), model="primary")
    openai.script(Reply(GOOD), model="backup")

    result = await make_llm(openai, "openai/primary", "openai/backup").complete_structured(
        MESSAGES, LLMTurn
    )

    assert result.model == "openai/backup"
    assert [r.model for r in openai.requests] == ["primary", "primary", "backup"]


async def test_a_400_on_response_format_retries_without_it_once_and_remembers(
    openai: FakeOpenAI,
) -> None:
    rejected = {
        "error": {
            "message": "response_format of type json_object is not supported with this model",
            "type": "invalid_request_error",
            "param": "response_format",
            "code": None,
        }
    }
    openai.script(Status(400, body=rejected), Reply(GOOD), Reply(GOOD))
    llm = make_llm(openai)

    first = await llm.complete_structured(MESSAGES, LLMTurn)
    second = await llm.complete_structured(MESSAGES, LLMTurn)

    assert first.model == second.model == "openai/fake-model"
    assert [r.response_format for r in openai.requests] == [{"type": "json_object"}, None, None]
    assert len(first.usage) == 1 and len(second.usage) == 1  # the 400 carried no usage
    assert '"answer": string' in openai.requests[1].messages[1]["content"]  # the prompt asks


async def test_another_400_is_not_retried_without_response_format(openai: FakeOpenAI) -> None:
    too_long = {"error": {"message": "maximum context length exceeded", "type": "x"}}
    openai.script(Status(400, body=too_long), model="primary")
    openai.script(Reply(GOOD), model="backup")

    result = await make_llm(openai, "openai/primary", "openai/backup").complete_structured(
        MESSAGES, LLMTurn
    )

    assert result.model == "openai/backup"
    assert [r.model for r in openai.requests] == ["primary", "backup"]


async def test_no_model_configured_is_unavailable() -> None:
    with pytest.raises(LLMUnavailable) as info:
        await LLM([]).complete_structured(MESSAGES, LLMTurn)
    assert info.value.reasons == []


def test_count_tokens_uses_the_model_tokenizer_and_falls_back_to_an_estimate() -> None:
    short = [{"role": "user", "content": "hello"}]
    long = [{"role": "user", "content": "checkout returns 502 since 14:00 " * 50}]
    llm = LLM(["openai/gpt-4o-mini"])
    assert 0 < llm.count_tokens(short) < llm.count_tokens(long)
    assert llm.count_tokens(long) != estimate_tokens(long)  # a real tokenizer, not len/4
    assert LLM([]).count_tokens(long) == estimate_tokens(long)
    assert estimate_tokens(short) == 2 + 4 + 3 and estimate_tokens([]) == 3
