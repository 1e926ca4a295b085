"""The structured result of one investigation turn, with or without an LLM.

Every turn produces an `Investigation`: the phase, a working conclusion, ranked suspects and
hypotheses with the evidence for and against them, next steps and commands. The offline
reasoner fills it from the evidence; an LLM turn must return the same shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)

from engine.core.tool_runs import ToolRunNote
from engine.evidence.suspects.ranking import Suspect
from engine.evidence.timeline import TimelineEvent

ResponseType = Literal[
    "answer", "plan", "clarification", "needs_more_data", "solution", "escalation"
]
Phase = Literal["consulting", "diagnosing", "analyzing", "resolved"]
HypothesisStatus = Literal["proposed", "testing", "confirmed", "ruled_out"]


class Citation(BaseModel):
    """A piece of evidence: which file, where, when, and what it says."""

    source: str
    text: str
    line: int | None = None
    at: datetime | None = None


class Hypothesis(BaseModel):
    id: str = Field(description="stable across turns: the signature and the component")
    statement: str
    category: str | None = Field(default=None, description="e.g. resource-exhaustion, network")
    signature: str | None = Field(default=None, description="failure signature id")
    component: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    status: HypothesisStatus = "proposed"
    supporting: list[Citation] = Field(default_factory=list)
    contradicting: list[Citation] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list, description="how to confirm or rule out")
    evidence_confidence: float | None = Field(
        default=None, ge=0.0, le=1.0, description="the evidence's own score, before people's word"
    )
    decided_by: str | None = Field(
        default=None, description="who confirmed or ruled it out; the engine never overrides them"
    )
    live_check: str | None = Field(
        default=None,
        description="the live check a person can run on it (a tool call), when a source can",
    )


class DroppedCitation(BaseModel):
    """A model's citation the case does not hold, left out of the hypothesis it was for."""

    hypothesis: str = Field(description="the statement it was cited for")
    source: str
    text: str
    line: int | None = None
    why: str


class CitationCheck(BaseModel):
    """What grounding did to an LLM turn's citations (engine/investigate/grounding.py)."""

    kept: int = 0
    normalised: int = Field(default=0, description="kept, once a loose form was read as meant")
    dropped: list[DroppedCitation] = Field(default_factory=list)


class TurnUsage(BaseModel):
    model: str
    prompt_tokens: int
    completion_tokens: int


class Investigation(BaseModel):
    response_type: ResponseType
    phase: Phase
    working_conclusion: str
    confidence: float = Field(ge=0.0, le=1.0)
    suspects: list[Suspect] = Field(default_factory=list)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list, description="diagnostic commands to run")
    timeline: list[TimelineEvent] = Field(default_factory=list)
    usage: list[TurnUsage] = Field(default_factory=list, description="LLM tokens per call")
    llm_errors: list[str] = Field(
        default_factory=list, description="why each LLM failed, when the turn fell back offline"
    )
    citations: CitationCheck | None = Field(
        default=None, description="an LLM turn's citations: kept, normalised, dropped"
    )
    tool_runs: list[ToolRunNote] = Field(
        default_factory=list,
        description="the tools run for this turn: each exact call and its outcome",
    )

    @field_validator("tool_runs", mode="before")
    @classmethod
    def _runs_stored_as_lines(cls, value: object) -> object:
        """Turns saved before runs were structured kept one line each: read them as notes."""
        if isinstance(value, list):
            return [
                {"tool": "", "ok": True, "summary": item, "call": item}
                if isinstance(item, str)
                else item
                for item in value
            ]
        return value


def _as_fraction(value: object) -> object:
    """Models sometimes write 85 or "85%" for 0.85; read them as the fraction they meant."""
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            value = float(text)
        except ValueError:
            return value
    if isinstance(value, int | float) and 1.0 < value <= 100.0:
        return value / 100.0
    return value


# Keys models write instead of the schema's, read as the field they mean.
_CITATION_ALIASES = {
    "source": ("file", "filename", "file_name", "path", "name", "from"),
    "text": ("quote", "excerpt", "line_text", "log", "log_line", "message", "content", "evidence"),
    "line": ("line_number", "lineno", "line_no", "lines"),
    "at": ("time", "timestamp", "ts", "when"),
}


# A citation as a model writes it. Loose forms ("at": "14:05", "line": "L176", a "file:line"
# source, a bare string, "file"/"quote" keys) are accepted rather than costing a repair call:
# engine/investigate/grounding.py reads them as meant and keeps only what the case holds.
# The docstring goes into the schema the model reads, so it stays one line.
class LLMCitation(BaseModel):
    """Evidence for or against: the file (or 'thread'), the words quoted, where and when."""

    source: str = Field(
        default="", description="the file name as in <evidence name=...>, or 'thread'"
    )
    text: str = Field(default="", description="the line or message quoted exactly as shown")
    line: int | str | None = Field(default=None, description="the line number in the file")
    at: str | None = Field(default=None, description="the time of the line, ISO 8601")
    _reshaped: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def _loose(cls, data: object, handler: ModelWrapValidatorHandler[LLMCitation]) -> LLMCitation:
        reshaped, changed = _reshape_citation(data)
        value = handler(reshaped)
        value._reshaped = changed
        return value

    @property
    def reshaped(self) -> bool:
        """True when it came as a string, under other keys, or with values of other types."""
        return self._reshaped


def _reshape_citation(data: object) -> tuple[object, bool]:
    if isinstance(data, str):
        return {"text": data}, True
    if not isinstance(data, dict):
        return data, False
    out = dict(data)
    changed = False
    for field, aliases in _CITATION_ALIASES.items():
        if out.get(field) not in (None, ""):
            continue
        for alias in aliases:
            if out.get(alias) not in (None, ""):
                out[field] = out.pop(alias)
                changed = True
                break
    line = out.get("line")
    if isinstance(line, list):  # [176, 180]: the first line of a span
        out["line"] = line[0] if line else None
        changed = True
    elif isinstance(line, float):
        out["line"] = int(line)
    at = out.get("at")
    if at is not None and not isinstance(at, str):
        out["at"] = str(at)  # an epoch number, read (or dropped) by grounding
        changed = True
    for field in ("source", "text"):
        if out.get(field) is None:
            out[field] = ""
        elif not isinstance(out[field], str):
            out[field] = str(out[field])
            changed = True
    return out, changed


class LLMHypothesis(BaseModel):
    """A hypothesis as an LLM states it; `id` repeats an existing hypothesis' id to update it."""

    id: str | None = Field(default=None, description="an existing hypothesis id, or null if new")
    statement: str
    component: str | None = None
    category: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    status: HypothesisStatus = "proposed"
    supporting: list[LLMCitation] = Field(default_factory=list)
    contradicting: list[LLMCitation] = Field(default_factory=list)
    checks: list[str] = Field(default_factory=list)

    @field_validator("confidence", mode="before")
    @classmethod
    def _fraction(cls, value: object) -> object:
        return _as_fraction(value)


class LLMTurn(BaseModel):
    """What an LLM returns each turn: the JSON object its prompt asks for."""

    response_type: ResponseType
    answer: str = Field(description="the reply to post in the thread, short Slack mrkdwn")
    working_conclusion: str
    confidence: float = Field(ge=0.0, le=1.0)
    hypotheses: list[LLMHypothesis] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list, description="diagnostic commands to run")

    @field_validator("confidence", mode="before")
    @classmethod
    def _fraction(cls, value: object) -> object:
        return _as_fraction(value)
