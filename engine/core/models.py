"""The engine's vocabulary: cases, messages, evidence, and requests from chat surfaces.

Adapters (Slack, the shell, tests) build the *Request models and hand them to
`engine.cases.service`; rows come back from the store as the record models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from engine.core.alert_webhook import AlertmanagerWebhook

CaseStatus = Literal["open", "resolved", "closed"]
Role = Literal["user", "assistant", "system"]


class ThreadRef(BaseModel):
    """Where a case lives: a channel and the ts of the thread's root message."""

    team_id: str = ""
    channel_id: str
    thread_ts: str


class Case(BaseModel):
    id: int
    team_id: str
    channel_id: str
    thread_ts: str
    title: str
    status: CaseStatus
    phase: str
    opened_by: str
    resolution: str | None = None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    working_conclusion: str = ""
    confidence: float = 0.0
    next_steps: list[str] = Field(default_factory=list)

    @property
    def thread(self) -> ThreadRef:
        return ThreadRef(team_id=self.team_id, channel_id=self.channel_id, thread_ts=self.thread_ts)


class Message(BaseModel):
    id: int
    case_id: int
    ts: str
    author: str
    role: Role
    text: str
    created_at: datetime
    asks: bool = False


FeedbackKind = Literal["confirm", "rule_out", "note"]


class Feedback(BaseModel):
    """What a person told the investigation: a button on a hypothesis, or a correction."""

    id: int
    case_id: int
    hypothesis_key: str | None
    kind: FeedbackKind
    author: str
    text: str
    created_at: datetime


class PhaseChange(BaseModel):
    from_phase: str
    to_phase: str
    reason: str
    created_at: datetime


class CaseStats(BaseModel):
    """A case with the counts people ask about in `status` and `list`."""

    case: Case
    message_count: int
    evidence_count: int
    error_count: int
    last_activity: datetime


# --- Requests from chat surfaces -------------------------------------------------------


class FileRef(BaseModel):
    """A file a user shared; `url` is fetched by the surface's FileSource."""

    source_id: str = Field(description="stable id of the file on its surface (Slack file id)")
    name: str
    size: int | None = None
    mimetype: str | None = None
    url: str | None = None


class ThreadMessage(BaseModel):
    """A message already in a thread before it became a case (read back from the surface)."""

    ts: str
    user: str
    text: str
    files: list[FileRef] = Field(default_factory=list)


class MessageRequest(BaseModel):
    thread: ThreadRef
    ts: str
    user: str
    text: str


class MentionRequest(MessageRequest):
    """The bot was addressed: record the message, open a case if needed, answer."""

    files: list[FileRef] = Field(default_factory=list)


class FilesRequest(BaseModel):
    thread: ThreadRef
    ts: str
    user: str
    text: str = ""
    files: list[FileRef]


class OpenCaseRequest(BaseModel):
    team_id: str = ""
    channel_id: str
    user: str
    title: str


class FeedbackRequest(BaseModel):
    """A Confirm / Rule out button pressed on a hypothesis of the case summary."""

    case_id: int
    hypothesis_key: str
    kind: Literal["confirm", "rule_out"]
    user: str


class RunCheckRequest(BaseModel):
    """The Run check button pressed on a hypothesis of the case summary."""

    case_id: int
    hypothesis_key: str
    user: str


class CloseCaseRequest(BaseModel):
    case_id: int
    user: str
    resolution: str = ""


class ReopenCaseRequest(BaseModel):
    case_id: int
    user: str
    reason: str = ""


class KnowledgeSearchRequest(BaseModel):
    """`/faultmaven search <text>`: results go privately to whoever asked."""

    channel_id: str
    user: str
    query: str
    k: int = 5


class KnowledgeAddRequest(BaseModel):
    """`/faultmaven kb add [--global] <url|text>`, or files shared with `kb add`."""

    channel_id: str
    user: str
    text: str = ""
    scope: Literal["channel", "global"] = "channel"
    thread_ts: str | None = Field(default=None, description="where files were shared")
    files: list[FileRef] = Field(default_factory=list)


class KnowledgeVoteRequest(BaseModel):
    """A Helpful / Outdated button on a cited document."""

    document_id: int
    user: str
    verdict: Literal["helpful", "outdated"]
    channel_id: str
    case_id: int | None = None


OutcomeVerdict = Literal["root_cause", "contributing", "symptom", "wrong"]


class OutcomeRequest(BaseModel):
    """A click on a closed case's summary: how good its leading hypothesis was (`verdict`),
    or which runbook or past case helped (`document_id`)."""

    case_id: int
    user: str
    channel_id: str
    verdict: OutcomeVerdict | None = None
    hypothesis_key: str | None = None
    document_id: int | None = None


class ChannelRequest(BaseModel):
    """Anything a person asked of FaultMaven in a channel (a mention, a command, a click),
    as the channel allowlist judges it and the audit log keeps a refusal."""

    channel_id: str
    team_id: str = ""
    user: str = ""
    asked: str = Field(description='"mention", "command close", "click"; "" for plain messages')
    trigger: str | None = Field(
        default=None, description="the event or trigger id: one audit entry per request"
    )
    thread_ts: str | None = Field(default=None, description="where a mention is answered")


class AlertGroupRequest(BaseModel):
    """One Alertmanager notification (one alert group), routed to a channel by the receiver
    (bot/serving/alerts_http.py); engine/cases/alert_cases.py opens or updates its case."""

    channel_id: str = Field(description="where the group's case opens, if it has none yet")
    webhook: AlertmanagerWebhook
    raw: str = Field(description="the body as received: the case's first evidence")


class AlertMessageRequest(BaseModel):
    """The Investigate button under an alert another integration posted: open a case on the
    alert message's thread with its text as the first evidence."""

    thread: ThreadRef = Field(description="the alert message (its ts is the thread's)")
    user: str = Field(description="who clicked")
    text: str = Field(description="the message's text, attachments and blocks, as lines")
