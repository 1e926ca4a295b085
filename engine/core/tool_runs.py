"""A tool run as the engine's layers share it, and the toolbox a model's loop is given.

The tools themselves live in engine/tools (above the investigation in the layers); the
investigation's look-closer loop only needs this: what tools there are (as function specs)
and a way to run one that never raises.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field


class ToolRun(BaseModel):
    """One run, as shown in the thread, fed back to a model and audited."""

    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    call: str  # the exact call, to rerun or cite: "grep_evidence(pattern='pool', file='app.log')"
    ok: bool
    output: str = ""  # secrets masked, at most the cap
    error: str | None = None  # what went wrong, in words, when not ok
    truncated: bool = False
    output_chars: int = 0  # before the cap
    seconds: float = 0.0
    requested_by: str = "model"  # "model", a person's id, "reasoner"

    def for_model(self) -> str:
        """What a model reads back as the tool's answer."""
        if not self.ok:
            return f"error: {self.error}"
        note = (
            f"\n[cut at {len(self.output):,} of {self.output_chars:,} characters]"
            if self.truncated
            else ""
        )
        return (self.output or "(nothing found)") + note


class ToolBox(Protocol):
    def specs(self) -> list[dict[str, Any]]:
        """The tools as OpenAI-style function specs."""
        ...

    async def run(
        self, name: str, raw: str | dict[str, Any], *, requested_by: str = "model"
    ) -> ToolRun:
        """One validated, time-limited, capped, masked and recorded run; never raises."""
        ...
