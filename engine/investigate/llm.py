"""The one narrow LLM interface; the only module that imports litellm (DESIGN.md section 4).

Models are tried in order (LLM_MODEL, then LLM_FALLBACK_MODELS), each with a timeout and
litellm's own retries. When all fail the caller falls back to the offline reasoner.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from typing import Any

from pydantic import BaseModel

from engine.config import Settings

log = logging.getLogger(__name__)

# litellm fetches a model price map from the internet at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


class LLMResult(BaseModel):
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LLMUnavailable(Exception):
    """Every configured model failed (or none is configured); `reasons` says why, per model."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons) or "no LLM configured")
        self.reasons = reasons


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
    ) -> None:
        self.models = models
        self.api_base = api_base
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries

    @classmethod
    def from_settings(cls, settings: Settings) -> LLM:
        return cls(
            settings.llm_models,
            api_base=settings.llm_api_base,
            api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
            timeout_s=settings.llm_timeout_s,
            retries=settings.llm_retries,
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
        import litellm  # slow import (~2 s); only paid when an LLM is configured

        litellm.suppress_debug_info = True
        reasons: list[str] = []
        for model in self.models:
            # max_retries goes to the provider SDK (it honours Retry-After); litellm's own
            # num_retries would stack a second retry loop on top (2N+1 requests for N).
            kwargs: dict[str, Any] = {"timeout": self.timeout_s, "max_retries": self.retries}
            if self.api_base:
                kwargs["api_base"] = self.api_base
            if self.api_key:
                kwargs["api_key"] = self.api_key
            try:
                response = await litellm.acompletion(model=model, messages=messages, **kwargs)
                text = response.choices[0].message.content
                if not isinstance(text, str) or not text.strip():
                    raise ValueError("the model returned an empty answer")
            except Exception as exc:  # any provider failure moves on to the next model
                log.warning("LLM %s failed: %s", model, _short_error(exc))
                reasons.append(f"{model}: {_short_error(exc)}")
                continue
            usage = getattr(response, "usage", None)
            return LLMResult(
                text=text.strip(),
                model=model,
                prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            )
        raise LLMUnavailable(reasons)
