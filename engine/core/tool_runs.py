"""A tool run as the engine's layers share it, and the toolbox a model's loop is given.

The tools themselves live in engine/tools (above the investigation in the layers); the
investigation's look-closer loop only needs this: what tools there are (as function specs)
and a way to run one that never raises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class ToolAnswer(BaseModel):
    """What a tool may give beside its text: the exact query to rerun it by hand (PromQL,
    a catalogue query's SQL, an argv) and data that becomes case evidence (a Prometheus
    range result as JSON goes through the metrics analysers like an upload)."""

    text: str
    query: str | None = None
    evidence_name: str | None = None  # a file name for the case, e.g. "promql-errors.json"
    evidence: bytes | None = None
    # The numbers that decide, for a hypothesis's check to judge without reading prose:
    # {"used": 98, "max": 100} for connections, {"days_left": 3} for a certificate.
    facts: dict[str, Any] = Field(default_factory=dict)


SUMMARY_CHARS = 200


class ToolRunNote(BaseModel):
    """A run as a turn's result keeps it: what ran, with what, and what came of it."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool
    summary: str  # the answer's first line, or the error
    call: str = ""
    query: str | None = None
    output_chars: int = 0
    requested_by: str = "model"

    @property
    def line(self) -> str:
        """ "`grep_evidence(pattern='pool')` → ok, 1,204 characters", for the thread."""
        if not self.ok:
            return f"`{self.call}` → {self.summary}"
        return f"`{self.call}` → ok, {self.output_chars:,} characters"


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
    query: str | None = None  # the exact query behind the run, to rerun it by hand
    evidence_name: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)
    # Data for the case's evidence; not kept with the run (stored as evidence instead).
    evidence: bytes | None = Field(default=None, exclude=True, repr=False)

    def note(self) -> ToolRunNote:
        first = next((line.strip() for line in self.output.splitlines() if line.strip()), "")
        return ToolRunNote(
            tool=self.tool,
            args=self.arguments,
            ok=self.ok,
            summary=(first if self.ok else self.error or "failed")[:SUMMARY_CHARS],
            call=self.call,
            query=self.query,
            output_chars=self.output_chars,
            requested_by=self.requested_by,
        )

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


CheckVerdict = Literal["supports", "contradicts", "unclear"]


class CheckResult(BaseModel):
    """A hypothesis's check run against a live source (the Run check button, or on its own
    when a case opens), and what it says about the hypothesis; the next turn applies it."""

    hypothesis_key: str
    tool: str
    call: str
    query: str | None = None
    ok: bool
    verdict: CheckVerdict
    summary: str  # one line: what the source said, in the words that decide
    requested_by: str
    created_at: datetime | None = None
