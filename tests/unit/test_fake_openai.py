"""Self-tests of FakeOpenAI, driven by the REAL litellm client.

They pin down both the fake's contract and the litellm 1.102 behaviour the
engine relies on: provider prefix stripping, usage, streaming, error mapping,
and that retries happen inside litellm/openai (so the fake sees every attempt).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import aiohttp
import pytest

from tests.fakes.openai import Delay, FakeOpenAI, Malformed, Reply, Status

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
MESSAGES = [
    {"role": "system", "content": "You are an SRE assistant."},
    {"role": "user", "content": "Why is checkout returning 502s?"},
]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx (under litellm/openai) honours proxy variables; the fake is on loopback."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def litellm() -> ModuleType:
    """Import litellm with the bundled cost map: no network fetch at import time."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return importlib.import_module("litellm")


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


async def complete(litellm: ModuleType, fake: FakeOpenAI, **kwargs: Any) -> Any:
    """One litellm call against the fake, as the engine makes it."""
    params: dict[str, Any] = {
        "model": "openai/fake-model",
        "api_base": fake.base_url,
        "api_key": "sk-fake",
        "messages": MESSAGES,
    }
    params.update(kwargs)
    return await litellm.acompletion(**params)


async def test_scripted_reply_and_recorded_request(litellm: ModuleType, llm: FakeOpenAI) -> None:
    llm.script(Reply("Connection pool exhausted.", prompt_tokens=42, completion_tokens=7))

    response = await complete(litellm, llm, temperature=0.1)

    assert response.choices[0].message.content == "Connection pool exhausted."
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (42, 7)
    request = await llm.wait_for_request(timeout=1)
    assert request.model == "fake-model"  # litellm strips the "openai/" prefix
    assert request.messages == MESSAGES
    assert request.body["temperature"] == 0.1
    assert request.headers["Authorization"] == "Bearer sk-fake"
    assert llm.pending_steps == 0


async def test_default_reply_and_estimated_usage(litellm: ModuleType, llm: FakeOpenAI) -> None:
    llm.default_reply = "default answer"

    response = await complete(litellm, llm)

    assert response.choices[0].message.content == "default answer"
    assert response.usage.prompt_tokens > 10
    assert response.usage.completion_tokens == 4


async def test_steps_scoped_to_a_model(litellm: ModuleType, llm: FakeOpenAI) -> None:
    llm.script(Reply("from the big model"), model="openai/big-model")
    llm.script(Reply("from any model"))

    small = await complete(litellm, llm, model="openai/small-model")
    big = await complete(litellm, llm, model="openai/big-model")

    assert small.choices[0].message.content == "from any model"
    assert big.choices[0].message.content == "from the big model"
    assert [r.model for r in llm.requests] == ["small-model", "big-model"]


async def test_server_error_then_success_with_num_retries(
    litellm: ModuleType, llm: FakeOpenAI
) -> None:
    llm.script(Status(500), Reply("recovered"))

    response = await complete(litellm, llm, num_retries=1)

    assert response.choices[0].message.content == "recovered"
    assert len(llm.requests) == 2


async def test_errors_surface_without_retries(litellm: ModuleType, llm: FakeOpenAI) -> None:
    # Without num_retries=0 the openai SDK would silently retry 429/5xx twice.
    llm.script(Status(429, retry_after=0), Status(500))

    with pytest.raises(litellm.RateLimitError):
        await complete(litellm, llm, num_retries=0)
    with pytest.raises(litellm.InternalServerError):
        await complete(litellm, llm, num_retries=0)
    assert len(llm.requests) == 2


async def test_delay_beyond_timeout_raises_timeout(litellm: ModuleType, llm: FakeOpenAI) -> None:
    llm.script(Delay(5, then=Reply("too late")))

    with pytest.raises(litellm.Timeout):
        await complete(litellm, llm, timeout=0.3, num_retries=0)
    assert len(llm.requests) == 1


async def test_malformed_bodies_raise(litellm: ModuleType, llm: FakeOpenAI) -> None:
    llm.script(Malformed(), Malformed(missing_choices=True))

    # litellm maps an unparseable HTTP 200 to InternalServerError (not APIError).
    with pytest.raises(litellm.InternalServerError, match="Expecting value"):
        await complete(litellm, llm, num_retries=0)
    with pytest.raises(litellm.InternalServerError, match="choices"):
        await complete(litellm, llm, num_retries=0)
    assert len(llm.requests) == 2


async def test_streaming_chunks_reassemble(litellm: ModuleType, llm: FakeOpenAI) -> None:
    llm.script(Reply("restart the payments pod"))

    stream = await complete(litellm, llm, stream=True, stream_options={"include_usage": True})
    pieces = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]

    assert "".join(pieces) == "restart the payments pod"
    assert llm.requests[0].stream


async def test_raw_wire_format(llm: FakeOpenAI) -> None:
    """The fake speaks plain HTTP too (for code that bypasses litellm)."""
    llm.script(Malformed(missing_choices=True), Reply("hi"))
    url = f"{llm.base_url}/chat/completions"
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body) as resp:
            assert resp.status == 200 and "choices" not in await resp.json()
        async with http.post(url, json=body) as resp:
            assert resp.content_type == "text/event-stream"
            events = (await resp.text()).strip().split("\n\n")
    assert events[-1] == "data: [DONE]"
    assert len(events) == 4  # role chunk, one content chunk, finish chunk, [DONE]


async def test_wait_for_request_timeout_lists_requests(
    litellm: ModuleType, llm: FakeOpenAI
) -> None:
    await complete(litellm, llm)

    with pytest.raises(AssertionError, match=r"(?s)chat completion request.*fake-model"):
        await llm.wait_for_request(lambda r: r.model == "other-model", timeout=0.2)
