"""The one narrow LLM interface; the only module that imports litellm (DESIGN.md section 4).

Models are tried in order (LLM_MODEL, then LLM_FALLBACK_MODELS), each with a timeout and
litellm's own retries. When all fail the caller falls back to the offline reasoner.

`complete_structured` returns a validated pydantic model: the schema is enforced where the
provider can (`json_schema` mode) and written compactly into the prompt elsewhere, in the
order the model should write it (engine/investigate/reply_schema.py), and a reply that does
not parse gets one repair turn on the same model before the next model is tried. Every call
asks for temperature 0 (the same evidence should give the same diagnosis) and at most
`max_tokens` (a runaway reply is cut, costed and repaired, not waited for); litellm drops
either for a provider that refuses it.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import os
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

from engine.core.config import Settings
from engine.investigate.json_reply import ReplyError, parse_reply
from engine.investigate.look_closer import ToolCall, ToolStep
from engine.investigate.reply_schema import JsonMode, instruction, reply_schema
from engine.investigate.result import TurnUsage
from engine.ops import prometheus

log = logging.getLogger(__name__)

# litellm fetches a model price map from the internet at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


class LLMResult(BaseModel):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


T = TypeVar("T", bound=BaseModel)

MAX_TOKENS = 3000  # a turn's reply: its reasoning, hypotheses with citations, the answer

REPAIR_PROMPT = (
    "Your reply could not be used: {reason}. "
    "Reply again with only the JSON object that matches the schema."
)


@dataclass(frozen=True)
class StructuredResult(Generic[T]):
    value: T
    model: str
    #: One entry per completion received (repairs and retries included), across all models.
    usage: list[TurnUsage] = field(default_factory=list)
    #: True when the value came from the repair turn.
    repaired: bool = False


class LLMUnavailable(Exception):
    """Every configured model failed (or none is configured); `reasons` says why, per model."""

    def __init__(self, reasons: list[str], usage: list[TurnUsage] | None = None) -> None:
        super().__init__("; ".join(reasons) or "no LLM configured")
        self.reasons = reasons
        #: Tokens spent on the failed attempts (structured calls only).
        self.usage = usage or []


class ModelTimeout(Exception):
    """A model used up its whole budget (every try, and the waits between them)."""


class _InvalidOutput(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _short_error(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {text[:160]}" if text else name


class LLM:
    def __init__(
        self,
        models: list[str],
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 2,
        max_tokens: int = MAX_TOKENS,
        tools: Literal["auto", "on", "off"] = "auto",
    ) -> None:
        self.models = models
        self.tools = tools
        self.api_base = api_base
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_tokens = max_tokens
        self._json_modes: dict[str, JsonMode] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> LLM:
        return cls(
            settings.llm_models,
            api_base=settings.llm_api_base,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            timeout_s=settings.llm_timeout_s,
            retries=settings.llm_retries,
            tools=settings.llm_tools,
        )

    @property
    def configured(self) -> bool:
        return bool(self.models)

    async def warm_up(self) -> None:
        """Import litellm now, in a thread: its ~2 s import would otherwise block the event loop
        (socket acks included) inside the first job that asks a question."""
        if self.configured:
            await asyncio.to_thread(importlib.import_module, "litellm")

    async def complete(self, messages: list[dict[str, str]]) -> LLMResult:
        """Return the first successful completion; raise LLMUnavailable when none succeeds."""
        if not self.models:
            raise LLMUnavailable([])
        litellm = _litellm()
        reasons: list[str] = []
        for model in self.models:
            try:
                prometheus.llm_call(model)
                response = await self._acompletion(
                    litellm, model=model, messages=messages, **self._call_kwargs()
                )
                text = response.choices[0].message.content
                if not isinstance(text, str) or not text.strip():
                    raise ValueError("the model returned an empty answer")
            except Exception as exc:  # any provider failure moves on to the next model
                prometheus.llm_error(model)
                log.warning("LLM %s failed: %s", model, _short_error(exc))
                reasons.append(f"{model}: {_short_error(exc)}")
                continue
            usage = getattr(response, "usage", None)
            result = LLMResult(
                text=text.strip(),
                model=model,
                prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            )
            prometheus.llm_tokens(model, result.prompt_tokens, result.completion_tokens)
            return result
        raise LLMUnavailable(reasons)

    @property
    def calls_tools(self) -> bool:
        """Whether the look-closer loop runs: LLM_TOOLS on, or auto and litellm knows the
        first model calls functions (a self-hosted one behind an OpenAI-compatible server
        is unknown to it: LLM_TOOLS=on where it does)."""
        if not self.models or self.tools == "off":
            return False
        if self.tools == "on":
            return True
        try:
            return bool(_litellm().supports_function_calling(model=self.models[0]))
        except Exception:  # an unknown model: litellm raises rather than saying no
            return False

    async def tool_step(
        self, messages: list[dict[str, Any]], specs: list[dict[str, Any]]
    ) -> ToolStep:
        """One round of the look-closer loop (look_closer.py) on the first model: the tool
        calls it asks for, none when it is ready to answer. Raises when the model cannot be
        reached or takes no tools; the loop then ends and the turn answers without it."""
        if not self.models:
            raise LLMUnavailable([])
        model = self.models[0]
        prometheus.llm_call(model)
        response = await self._acompletion(
            _litellm(),
            model=model,
            messages=messages,
            tools=specs,
            tool_choice="auto",
            **self._call_kwargs(),
        )
        message = response.choices[0].message
        calls = [
            ToolCall(call.id, call.function.name, call.function.arguments or "{}")
            for call in (getattr(message, "tool_calls", None) or [])
        ]
        usage = _turn_usage(model, response)
        prometheus.llm_tokens(model, usage.prompt_tokens, usage.completion_tokens)
        return ToolStep(calls, usage)

    @property
    def model_budget_s(self) -> float:
        """The most one call may take: LLM_TIMEOUT_S for each of its 1 + LLM_RETRIES tries."""
        return self.timeout_s * (self.retries + 1)

    async def _acompletion(self, litellm: ModuleType, **kwargs: Any) -> Any:
        """litellm.acompletion bounded by the model's budget. The provider SDK waits out a
        429's Retry-After (up to 60 s) between tries, outside the per-try timeout: a provider
        asking for more patience than the budget is left for the next model instead."""
        try:
            async with asyncio.timeout(self.model_budget_s):
                return await litellm.acompletion(**kwargs)
        except TimeoutError as exc:
            raise ModelTimeout(
                f"no answer within {self.model_budget_s:g} s "
                f"({self.retries + 1} tries of {self.timeout_s:g} s, waits included)"
            ) from exc

    def _call_kwargs(self) -> dict[str, Any]:
        # max_retries goes to the provider SDK (it honours Retry-After); litellm's own
        # num_retries would stack a second retry loop on top (2N+1 requests for N).
        kwargs: dict[str, Any] = {
            "timeout": self.timeout_s,
            "max_retries": self.retries,
            "temperature": 0.0,
            "max_tokens": self.max_tokens,
            # A reasoning model that takes no temperature gets the call without it.
            "drop_params": True,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        return kwargs

    async def complete_structured(
        self, messages: list[dict[str, str]], response_model: type[T]
    ) -> StructuredResult[T]:
        """The first model's reply that validates as `response_model`.

        Each model gets one repair turn for a reply that does not parse or validate; provider
        errors and a failed repair move on to the next model. LLMUnavailable when none works.
        """
        if not self.models:
            raise LLMUnavailable([])
        litellm = _litellm()
        schema = reply_schema(response_model)
        prompt = list(messages)  # the schema instruction is added per model, by its JSON mode
        reasons: list[str] = []
        usage: list[TurnUsage] = []
        for model in self.models:
            try:
                value, repaired = await self._structured_from(
                    litellm, model, prompt, response_model, schema, usage
                )
            except _InvalidOutput as exc:
                prometheus.llm_error(model, "invalid_output")
                log.warning("LLM %s gave invalid structured output: %s", model, exc.reason)
                reasons.append(f"{model}: invalid structured output: {exc.reason}")
                continue
            except Exception as exc:  # any provider failure moves on to the next model
                prometheus.llm_error(model)
                log.warning("LLM %s failed: %s", model, _short_error(exc))
                reasons.append(f"{model}: {_short_error(exc)}")
                continue
            return StructuredResult(value=value, model=model, usage=usage, repaired=repaired)
        raise LLMUnavailable(reasons, usage=usage)

    async def _structured_from(
        self,
        litellm: ModuleType,
        model: str,
        prompt: list[dict[str, str]],
        response_model: type[T],
        schema: dict[str, Any],
        usage: list[TurnUsage],
    ) -> tuple[T, bool]:
        name = response_model.__name__
        text = await self._ask_json(litellm, model, prompt, name, schema, usage)
        try:
            return parse_reply(text, response_model), False
        except ReplyError as exc:
            log.info("LLM %s reply unusable (%s); asking once more", model, exc.reason)
            repair = list(prompt)
            if text.strip():  # some providers refuse an empty assistant turn
                repair.append({"role": "assistant", "content": text})
            repair.append({"role": "user", "content": REPAIR_PROMPT.format(reason=exc.reason)})
        text = await self._ask_json(litellm, model, repair, name, schema, usage)
        try:
            return parse_reply(text, response_model), True
        except ReplyError as exc:
            raise _InvalidOutput(exc.reason) from exc

    async def _ask_json(
        self,
        litellm: ModuleType,
        model: str,
        messages: list[dict[str, str]],
        name: str,
        schema: dict[str, Any],
        usage: list[TurnUsage],
    ) -> str:
        """One completion in the model's JSON mode, with the schema instruction for that mode;
        without JSON mode (and with the schema written out) if the provider rejects it."""
        kwargs = self._call_kwargs()
        mode = self._json_mode(litellm, model)
        response_format = _response_format(mode, name, schema)
        if response_format is not None:
            kwargs["response_format"] = response_format
        try:
            prometheus.llm_call(model)
            sent = with_schema(messages, schema, mode)
            response = await self._acompletion(litellm, model=model, messages=sent, **kwargs)
        except Exception as exc:
            if response_format is None or not _rejects_response_format(exc):
                raise
            log.warning("LLM %s rejects response_format; using the prompt alone", model)
            self._json_modes[model] = "prompt"
            del kwargs["response_format"]
            prometheus.llm_call(model)
            sent = with_schema(messages, schema, "prompt")
            response = await self._acompletion(litellm, model=model, messages=sent, **kwargs)
        usage.append(_turn_usage(model, response))
        prometheus.llm_tokens(model, usage[-1].prompt_tokens, usage[-1].completion_tokens)
        content = response.choices[0].message.content
        return content if isinstance(content, str) else ""

    def _json_mode(self, litellm: ModuleType, model: str) -> JsonMode:
        """Decided once per model from litellm's capability tables (which raise on unknowns)."""
        cached = self._json_modes.get(model)
        if cached is not None:
            return cached
        mode: JsonMode = "prompt"
        try:
            if litellm.supports_response_schema(model=model):
                mode = "json_schema"
            else:
                _, provider, _, _ = litellm.get_llm_provider(model, api_base=self.api_base)
                params = litellm.get_supported_openai_params(
                    model=model, custom_llm_provider=provider
                )
                if params and "response_format" in params:
                    mode = "json_object"
        except Exception as exc:
            log.debug("no JSON mode known for %s: %s", model, _short_error(exc))
        self._json_modes[model] = mode
        return mode

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """Prompt tokens by the first model's tokenizer; an estimate without one."""
        if not self.models:
            return estimate_tokens(messages)
        try:
            return int(_litellm().token_counter(model=self.models[0], messages=messages))
        except Exception as exc:
            log.debug("token_counter failed for %s: %s", self.models[0], _short_error(exc))
            return estimate_tokens(messages)


def _litellm() -> ModuleType:
    import litellm  # slow import (~2 s); only paid when an LLM is configured

    litellm.suppress_debug_info = True
    return litellm


def estimate_tokens(messages: list[dict[str, str]]) -> int:
    """About 4 characters a token plus a few per message, as OpenAI counts chat framing."""
    return sum(math.ceil(len(m.get("content") or "") / 4) + 4 for m in messages) + 3


def with_schema(
    messages: list[dict[str, str]], schema: dict[str, Any], mode: JsonMode = "prompt"
) -> list[dict[str, str]]:
    """`messages` with the schema instruction for `mode` after the first system message (or
    first): the compact schema, or only "reply with the object" where the schema is enforced."""
    said = {"role": "system", "content": instruction(schema, mode)}
    at = next((i + 1 for i, m in enumerate(messages) if m.get("role") == "system"), 0)
    return [*messages[:at], said, *messages[at:]]


def _response_format(mode: JsonMode, name: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode == "json_schema":
        # OpenAI wants ^[a-zA-Z0-9_-]{1,64}$; strict mode would reject optional fields.
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "reply"
        return {
            "type": "json_schema",
            "json_schema": {"name": safe, "schema": schema, "strict": False},
        }
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def _rejects_response_format(exc: BaseException) -> bool:
    """A 400 that names response_format or JSON: the provider lacks JSON mode after all."""
    if getattr(exc, "status_code", None) != 400:
        return False
    text = str(exc).lower()
    return "response_format" in text or "json" in text


def _turn_usage(model: str, response: Any) -> TurnUsage:
    usage = getattr(response, "usage", None)
    return TurnUsage(
        model=model,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )
