"""A fake OpenAI-compatible chat completions server on an ephemeral loopback port.

Lets tests run the REAL litellm client (``model="openai/<name>"``,
``api_base=fake.base_url``) against scripted answers, failures and delays::

    async with FakeOpenAI() as llm:
        llm.script(Reply("hypothesis: pool exhaustion"), Status(500), Reply("ok"))
        await litellm.acompletion(model="openai/fake-model", api_base=llm.base_url,
                                  api_key="sk-fake", messages=[...])
        request = await llm.wait_for_request(lambda r: r.model == "fake-model")

Steps are consumed one per request; steps scripted for a specific model win
over unscoped ones. With nothing scripted the server answers ``default_reply``.
Every request is recorded, whatever it was answered with.
"""

# The spec'd test API takes `timeout=` deadlines (tests read better than asyncio.timeout blocks).

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.recording import EventLog
from tests.fakes.server import LoopbackServer

__all__ = [
    "Delay",
    "FakeOpenAI",
    "Malformed",
    "RecordedRequest",
    "Reply",
    "Status",
    "Step",
    "ToolCalls",
]


@dataclass(frozen=True)
class Reply:
    """A successful completion; token counts are estimated when not given."""

    content: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"


@dataclass(frozen=True)
class ToolCalls:
    """The model asks to run tools: ``calls`` are (function name, arguments as JSON text)."""

    calls: tuple[tuple[str, str], ...]
    content: str | None = None


@dataclass(frozen=True)
class Status:
    """An HTTP error such as 429 or 500, with an OpenAI-shaped error body by default."""

    code: int
    body: dict[str, Any] | str | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before answering with ``then`` (to trigger client timeouts)."""

    seconds: float
    then: Step = field(default_factory=lambda: Reply("delayed"))


@dataclass(frozen=True)
class Malformed:
    """HTTP 200 with a broken body: invalid JSON, or (``missing_choices``) no choices."""

    missing_choices: bool = False


Step = Reply | ToolCalls | Status | Delay | Malformed


@dataclass(frozen=True)
class RecordedRequest:
    """One POST /v1/chat/completions as received."""

    model: str
    messages: list[dict[str, Any]]
    body: dict[str, Any]
    at: float
    headers: dict[str, str] = field(default_factory=dict)
    #: The scripted step (or default reply) chosen to answer it.
    step: Step | None = None

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def response_format(self) -> dict[str, Any] | None:
        """The request's ``response_format`` (JSON mode / schema), or None when not sent."""
        value = self.body.get("response_format")
        return value if isinstance(value, dict) else None

    def __str__(self) -> str:
        last = self.messages[-1].get("content") if self.messages else None
        return f"model={self.model!r} stream={self.stream} last={str(last)[:60]!r} -> {self.step}"


def estimate_tokens(text: str) -> int:
    """Rough OpenAI-ish count (~4 characters per token), never zero for non-empty text."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # multi-part content: [{"type": "text", "text": ...}]
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _bare(model: str) -> str:
    """``openai/fake-model`` -> ``fake-model`` (litellm strips the provider prefix)."""
    return model.split("/", 1)[1] if "/" in model else model


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}


class FakeOpenAI(LoopbackServer):
    """Scripted OpenAI-compatible server (``/v1/chat/completions``) on 127.0.0.1."""

    def __init__(self, default_reply: Reply | str = "OK") -> None:
        self.default_reply: Reply | str = default_reply
        self._scripts: dict[str | None, deque[Step]] = {None: deque()}
        self._requests: EventLog[RecordedRequest] = EventLog("chat completion requests", str)
        self._stopping: asyncio.Event | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1`` — the ``api_base`` for litellm / ``base_url`` for openai."""
        return f"{self.root_url}/v1"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/chat/completions", self._handle_chat),
            web.get("/v1/models", self._handle_models),
        ]

    def _on_start(self) -> None:
        # A fresh event per run, so a restarted server does not see the last stop.
        self._stopping = asyncio.Event()

    async def _before_cleanup(self) -> None:
        """Release pending Delays so shutdown never waits them out."""
        assert self._stopping is not None
        self._stopping.set()

    # ------------------------------------------------------------------ scripting

    def script(self, *steps: Step, model: str | None = None) -> None:
        """Queue ``steps``; with ``model`` only requests for that model consume them."""
        key = None if model is None else _bare(model)
        self._scripts.setdefault(key, deque()).extend(steps)

    @property
    def pending_steps(self) -> int:
        """Scripted steps not consumed yet (assert 0 to prove every step was used)."""
        return sum(len(queue) for queue in self._scripts.values())

    def _next_step(self, model: str) -> Step:
        for key in (_bare(model), None):
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
        reply = self.default_reply
        return Reply(reply) if isinstance(reply, str) else reply

    # ------------------------------------------------------------------ recording

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every chat completion request, in arrival order."""
        return self._requests.items

    async def wait_for_request(
        self,
        predicate: Callable[[RecordedRequest], bool] | None = None,
        timeout: float = 10.0,
    ) -> RecordedRequest:
        """First request (past or future) matching ``predicate``; AssertionError on timeout."""
        return await self._requests.wait_for(
            predicate, timeout=timeout, wanted="a chat completion request"
        )

    # ------------------------------------------------------------------ serving

    async def _handle_models(self, request: web.Request) -> web.Response:
        names = sorted({k for k in self._scripts if k} | {"fake-model"})
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "fake"} for n in names]
        return web.json_response({"object": "list", "data": data})

    async def _handle_chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "request body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "request body must be an object")
        model = str(body.get("model", ""))
        messages = body.get("messages")
        if not isinstance(messages, list):
            return _error(400, "'messages' is required")
        step = self._next_step(model)
        self._requests.append(
            RecordedRequest(model, messages, body, time.monotonic(), dict(request.headers), step)
        )
        return await self._answer(request, body, step)

    async def _answer(
        self, request: web.Request, body: dict[str, Any], step: Step
    ) -> web.StreamResponse:
        if isinstance(step, Delay):
            assert self._stopping is not None
            # Interruptible so stop() never waits out a long Delay.
            try:
                await asyncio.wait_for(self._stopping.wait(), step.seconds)
                return web.Response(status=503, text="fake server stopping")
            except TimeoutError:
                return await self._answer(request, body, step.then)
        if isinstance(step, Status):
            return _error(step.code, None, step.body, step.retry_after)
        if isinstance(step, Malformed):
            if step.missing_choices:
                broken = {"id": _completion_id(), "object": "chat.completion", "created": 0}
                return web.json_response({**broken, "model": body.get("model")})
            truncated = '{"id": "chatcmpl-broken", "choices": ['
            return web.Response(text=truncated, content_type="application/json")
        if isinstance(step, ToolCalls):
            return web.json_response(self._tool_calls(body, step))
        if body.get("stream"):
            return await self._stream(request, body, step)
        return web.json_response(self._completion(body, step))

    def _tool_calls(self, body: dict[str, Any], step: ToolCalls) -> dict[str, Any]:
        calls = [
            {
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            for name, arguments in step.calls
        ]
        completion = self._completion(body, Reply(step.content or "", finish_reason="tool_calls"))
        message = completion["choices"][0]["message"]
        message["content"], message["tool_calls"] = step.content, calls
        return completion

    def _usage(self, body: dict[str, Any], reply: Reply) -> dict[str, int]:
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = sum(estimate_tokens(_message_text(m)) + 3 for m in body["messages"]) + 3
        completion = reply.completion_tokens
        if completion is None:
            completion = estimate_tokens(reply.content)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        return {
            "id": _completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "system_fingerprint": "fp_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": self._usage(body, reply),
        }

    async def _stream(
        self, request: web.Request, body: dict[str, Any], reply: Reply
    ) -> web.StreamResponse:
        """Server-sent events exactly as OpenAI sends them, ending with ``[DONE]``."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        base = {
            "id": _completion_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model"),
            "system_fingerprint": "fp_fake",
        }

        async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
            chunk = {**base, "choices": choices, **extra}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        first = {"role": "assistant", "content": "", "refusal": None}
        await send([{"index": 0, "delta": first, "logprobs": None, "finish_reason": None}])
        words = reply.content.split(" ")
        for i, word in enumerate(words):
            piece = word if i == len(words) - 1 else word + " "
            delta = {"content": piece}
            await send([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])
        last = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": reply.finish_reason}
        await send([last])
        if (body.get("stream_options") or {}).get("include_usage"):
            await send([], usage=self._usage(body, reply))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def _error(
    status: int,
    message: str | None,
    body: dict[str, Any] | str | None = None,
    retry_after: float | None = None,
) -> web.Response:
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}
    if isinstance(body, str):
        return web.Response(status=status, text=body, headers=headers)
    if body is None:
        kind = _ERROR_TYPES.get(status, "api_error")
        text = message or f"fake error {status}"
        body = {"error": {"message": text, "type": kind, "param": None, "code": kind}}
    return web.json_response(body, status=status, headers=headers)
