"""The Tool contract and what one run of a tool gives back."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from engine.core.tool_runs import ToolAnswer, ToolRun

__all__ = ["Tool", "ToolAnswer", "ToolError", "ToolRun"]


class ToolError(Exception):
    """A tool could not answer (no such file, a bad pattern): said to the caller as is."""


@runtime_checkable
class Tool(Protocol):
    """A read-only capability. `parameters` is a pydantic model: its JSON schema is what a
    model sees, and arguments are validated by it before `answer` runs."""

    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[type[BaseModel]]

    async def answer(self, arguments: Any) -> str | ToolAnswer:
        """The tool's answer: text, or text with its query and evidence (ToolAnswer);
        raises ToolError when it cannot answer."""
        ...
