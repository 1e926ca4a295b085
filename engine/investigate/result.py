"""The structured result of one investigation turn, with or without an LLM.

Every turn produces an `Investigation`: the phase, a working conclusion, ranked suspects and
hypotheses with the evidence for and against them, next steps and commands. The offline
reasoner fills it from the evidence; an LLM turn must return the same shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

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


class LLMHypothesis(BaseModel):
    """A hypothesis as an LLM states it; `id` repeats an existing hypothesis' id to update it."""

    id: str | None = Field(default=None, description="an existing hypothesis id, or null if new")
    statement: str
    component: str | None = None
    category: str | None = None
    confidence: float = Field(ge=0.0, le=1.0)
    status: HypothesisStatus = "proposed"
    supporting: list[Citation] = Field(default_factory=list)
    contradicting: list[Citation] = Field(default_factory=list)
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
