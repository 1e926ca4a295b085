"""What the engine says back. Surfaces render these (Block Kit in Slack, text in the shell).

Every reply carries `text`, a complete plain-Markdown rendering: Slack uses it for
notifications and fallbacks, the shell prints it, tests read it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class CaseOpenedReply(BaseModel):
    kind: Literal["case_opened"] = "case_opened"
    case_id: int
    title: str
    opened_by: str
    text: str


class AnswerReply(BaseModel):
    kind: Literal["answer"] = "answer"
    case_id: int
    text: str
    engine: Literal["llm", "offline"]
    model: str | None = None
    findings: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    footer: str = Field(description="says which engine answered, e.g. 'Offline analysis — no LLM'")


class EvidenceReply(BaseModel):
    kind: Literal["evidence"] = "evidence"
    case_id: int
    text: str
    accepted: list[str] = Field(default_factory=list, description="one summary line per file")
    rejected: list[str] = Field(default_factory=list, description="one reason per refused file")
    details: list[str] = Field(default_factory=list, description="top error groups, one per line")
    suspects: list[str] = Field(
        default_factory=list, description="the case's suspects so far, all evidence combined"
    )
    timeline: list[str] = Field(default_factory=list, description="the case's merged timeline")


class HypothesisLine(BaseModel):
    """A hypothesis as the case summary shows it, with what people decided about it."""

    key: str
    statement: str
    confidence: float
    status: Literal["proposed", "testing", "confirmed", "ruled_out"]
    decided_by: str | None = None
    evidence: str | None = Field(default=None, description="the first supporting citation")
    check: str | None = Field(default=None, description="a live check to run on it: a tool call")


class CaseSummaryReply(BaseModel):
    """The one message per case that is kept up to date: phase, conclusion, hypotheses."""

    kind: Literal["case_summary"] = "case_summary"
    case_id: int
    title: str
    phase: str
    working_conclusion: str
    confidence: float
    hypotheses: list[HypothesisLine] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    status: str | None = Field(default=None, description="progress of a run going on now")
    footer: str = ""
    text: str


class HelpedOption(BaseModel):
    """A runbook or past case the case was shown, offered at close as "it helped"."""

    document_id: int
    kind: Literal["case", "runbook"]
    title: str
    link: str | None = None


class OutcomePrompt(BaseModel):
    """What people grade at close: the leading hypothesis (root cause / contributing /
    symptom / wrong), and optionally which of the pages shown helped."""

    hypothesis_key: str | None = Field(default=None, description="None: nothing to grade")
    statement: str | None = None
    helped: list[HelpedOption] = Field(default_factory=list)


class CaseClosedReply(BaseModel):
    kind: Literal["case_closed"] = "case_closed"
    case_id: int
    title: str
    text: str = Field(description="the resolution summary, Markdown")
    outcome: OutcomePrompt | None = Field(default=None, description="buttons to grade it")


class NoticeReply(BaseModel):
    """A short message: confirmations, problems, progress."""

    kind: Literal["notice"] = "notice"
    text: str
    is_error: bool = False


class KnowledgeLine(BaseModel):
    """One cited document: a past case or a runbook, with a link where there is one."""

    document_id: int
    kind: Literal["case", "runbook", "note"]
    text: str = Field(description="one line, Slack mrkdwn, the link included")
    snippet: str = ""
    votable: bool = Field(default=False, description="offers Helpful / Outdated buttons")


class KnowledgeReply(BaseModel):
    """Past cases and runbooks: related to a case (in its thread) or found by a search."""

    kind: Literal["knowledge"] = "knowledge"
    case_id: int | None = None
    heading: str
    lines: list[KnowledgeLine] = Field(default_factory=list)
    text: str


Reply = (
    CaseOpenedReply
    | AnswerReply
    | EvidenceReply
    | CaseSummaryReply
    | CaseClosedReply
    | NoticeReply
    | KnowledgeReply
)
