"""Tools by name, and the one way to run them: validated, time-limited, capped, masked,
recorded."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from pydantic import ValidationError

from engine.core.redact import Redactor
from engine.tools.base import Tool, ToolAnswer, ToolError, ToolRun

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_CHARS = 4_000
Recorder = Callable[[ToolRun], Awaitable[None]]


def call_text(name: str, arguments: dict[str, Any]) -> str:
    """`grep_evidence(pattern='pool', file='app.log')`: the run as a person could repeat it."""
    shown = ", ".join(f"{key}={value!r}" for key, value in arguments.items() if value is not None)
    return f"{name}({shown})"


class ToolRegistry:
    def __init__(
        self,
        tools: Iterable[Tool] = (),
        *,
        redactor: Redactor | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_chars: int = DEFAULT_MAX_CHARS,
        record: Recorder | None = None,
    ) -> None:
        self._tools: dict[str, Tool] = {}
        self.redactor = redactor or Redactor()
        self.timeout_s = timeout_s
        self.max_chars = max_chars
        self._record = record
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"two tools are named {tool.name}")
        self._tools[tool.name] = tool

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def specs(self) -> list[dict[str, Any]]:
        """The tools as OpenAI-style function specs (what litellm passes as `tools`)."""
        return [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters.model_json_schema(),
                },
            }
            for tool in self._tools.values()
        ]

    async def run(
        self, name: str, raw: str | dict[str, Any], *, requested_by: str = "model"
    ) -> ToolRun:
        """Run tool `name` with `raw` arguments (a JSON text, as models send them, or a dict).
        Never raises: an unknown tool, bad arguments, a timeout or a failure is a run that
        says what went wrong, so a model can correct itself."""
        started = time.monotonic()
        arguments: dict[str, Any] = {}
        run = ToolRun(tool=name, call=f"{name}(…)", ok=False, requested_by=requested_by)
        try:
            tool = self._tools.get(name)
            if tool is None:
                raise ToolError(
                    f"no tool named {name!r}; tools: {', '.join(self._tools) or 'none'}"
                )
            arguments = _arguments(raw)
            params = tool.parameters.model_validate(arguments)
            arguments = params.model_dump(exclude_none=True)
            output = await asyncio.wait_for(tool.answer(params), self.timeout_s)
            run = self._answer(run, output)
        except ValidationError as exc:
            run.error = "bad arguments: " + "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
                for err in exc.errors()
            )
        except TimeoutError:
            run.error = f"no answer within {self.timeout_s:g} s"
        except ToolError as exc:
            run.error = str(exc)
        run.arguments = arguments
        run.call = call_text(name, arguments)
        run.seconds = round(time.monotonic() - started, 3)
        if self._record is not None:
            await self._record(run)
        return run

    def _answer(self, run: ToolRun, output: str | ToolAnswer) -> ToolRun:
        if isinstance(output, ToolAnswer):
            run.query = self.redactor.redact(output.query).text if output.query else None
            run.evidence_name = output.evidence_name
            run.facts = output.facts
            run.evidence = output.evidence  # redacted when the case takes it in
            output = output.text
        masked = self.redactor.redact(output).text
        run.ok = True
        run.output_chars = len(masked)
        run.truncated = len(masked) > self.max_chars
        run.output = masked[: self.max_chars]
        return run


def _arguments(raw: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ToolError(f"arguments are not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise ToolError("arguments must be a JSON object")
    return value


def parse_pairs(pairs: list[str]) -> dict[str, Any]:
    """Arguments typed by a person as `name=value`; a value that reads as JSON (a number,
    true, a list) is taken as such, anything else as text."""
    arguments: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ToolError(f"{pair!r}: write arguments as name=value")
        try:
            arguments[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            arguments[key.strip()] = value
    return arguments
