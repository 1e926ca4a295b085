"""Render the LLM prompt from Jinja templates (StrictUndefined: a missing field is a bug).

The case, its state, messages and evidence are quoted data: they go inside <case>,
<case_state>, <case_history> (one <message> each), <analysis> (suspects and timeline),
<evidence> and <knowledge> tags, and anything in them that
looks like one of those tags (or a chat-template token such as <|im_start|>) is neutralised, so
a file or a message cannot close its data block, forge another message, or speak as
instructions. Attribute values (file names, authors) are flattened to one line without quotes
or brackets. The system prompt is fixed text: nothing from a case ever goes into it. What people
typed is redacted before it is clipped, so clipping can never cut a secret in half.

The question comes first, with the time of the turn and the incident window, and again last
(the model reads it before the data and answers it after). `build_messages` is the full prompt
(every message, every evidence part worth showing); `engine.investigate.memory` builds the same
prompt within a token budget from the views below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from engine.core.models import Case, Message
from engine.core.redact import Redactor
from engine.evidence.analyze import describe_report
from engine.evidence.reports import Evidence
from engine.investigate.evidence_choice import MIN_SCORE, evidence_query, rank
from engine.investigate.excerpts import PromptSources
from engine.investigate.parts import Part
from engine.investigate.prompt_context import Context, context
from engine.investigate.relevance import query
from engine.investigate.result import Hypothesis

PROMPTS_DIR = Path(__file__).parent / "prompts"
MAX_MESSAGE_CHARS = 2000
MAX_GROUPS_PER_FILE = 8
PART_CHARS = 20_000  # a part is cut here (a whole file is at most excerpts.VERBATIM_CHARS)

_env = Environment(
    loader=FileSystemLoader(PROMPTS_DIR),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
)
_DATA_TAG = re.compile(
    r"<\s*(/?)\s*(case_state|case_history|case|evidence|message|analysis|knowledge"
    r"|tool_results?)\b",
    re.IGNORECASE,
)
# Chat-template control tokens of open models (<|im_start|>, <|system|>, <|eot_id|>): a server
# that renders the chat into one string must not read them in data as a turn boundary.
_CONTROL = re.compile(r"<\|")
# Shown first: what the team settled, then what is still open; ruled-out ones last.
_STATUS_ORDER = {"confirmed": 0, "testing": 1, "proposed": 2, "ruled_out": 3}


MAX_RELATED = 4
RELATED_CHARS = 300


def quote(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Data as it may appear inside a tag block: no tag look-alikes, bounded length."""
    text = _DATA_TAG.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text)
    text = _CONTROL.sub("‹|", text)
    return text if len(text) <= limit else text[:limit] + " …"


def attr(text: str, limit: int) -> str:
    """A tag attribute's value (a file name, an author): one line with no double quote or
    angle bracket, so it cannot end its attribute or its tag."""
    flat = " ".join(text.split()).replace('"', "'").replace("<", "‹").replace(">", "›")
    return flat if len(flat) <= limit else flat[:limit] + "…"


def evidence_details(item: Evidence, limit: int = MAX_GROUPS_PER_FILE) -> list[str]:
    """The top error groups of a file, one line each (empty for rejected or text files)."""
    return describe_report(item.report, limit) if item.report is not None else []


def part_text(part: Part) -> str:
    """A part as the prompt shows it: its heading after "## ", its lines, quoted."""
    return quote(f"## {part.text()}", PART_CHARS)


def prompt_context(
    evidence: list[Evidence],
    history: list[Message],
    question: str,
    state: CaseState,
    redactor: Redactor,
    sources: PromptSources | None,
) -> Context:
    """The evidence parts a turn may show (`prompt_context.context`) for this question."""
    analysed = [e for e in evidence if e.status == "analysed"]
    said = [m.text for m in history if m.role == "user"]
    asked = evidence_query(query(question, state.hypotheses))
    return context(analysed, question, said, asked, redactor, sources)


def typed(redactor: Redactor, text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Text a person typed (or an LLM wrote from it): redacted, then quoted."""
    return quote(redactor.redact(text).text, limit)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def one_line(redactor: Redactor, text: str, limit: int) -> str:
    """A message shortened to its first line or sentence, at most `limit` characters, ending
    in "…" when something was left out. Redacted before it is cut, so no secret is half-cut."""
    whole = redactor.redact(text).text.strip()
    first = _SENTENCE_END.split(whole.split("\n", 1)[0].strip(), maxsplit=1)[0]
    if len(first) > limit:
        cut = first[:limit]
        first = (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(",;:-")
    if len(first) < len(whole):
        first += " …"
    return quote(first, limit + 2)


@dataclass(frozen=True)
class CaseState:
    """What the investigation holds between turns: it is always in the prompt, because team
    feedback must change the next turn."""

    hypotheses: list[Hypothesis] = field(default_factory=list)
    working_conclusion: str = ""
    feedback: list[str] = field(default_factory=list)  # "ruled out: dns", "note from U2: ..."
    related: list[str] = field(default_factory=list)  # past cases and runbooks that look alike


# --- views: already quoted, what the templates read ---------------------------------------


@dataclass(frozen=True)
class CaseView:
    id: int
    title: str
    opened_by: str
    status: str


@dataclass(frozen=True)
class HypothesisView:
    id: str
    status: str
    confidence: str
    statement: str
    component: str


@dataclass(frozen=True)
class StateView:
    conclusion: str
    hypotheses: list[HypothesisView]
    feedback: list[str]
    related: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MessageView:
    when: str
    author: str
    role: str
    text: str


@dataclass(frozen=True)
class HistoryView:
    messages: list[MessageView]
    omitted: int = 0
    shortened: bool = False
    day: str = ""  # "2026-11-21": the date of message times written without one


@dataclass(frozen=True)
class EvidenceView:
    name: str
    summary: str
    details: list[str]  # the parts shown, each `part_text`
    more: int = 0  # parts worth showing that did not fit


@dataclass(frozen=True)
class KnowledgeView:
    kind: str
    title: str
    text: str


def case_view(case: Case, redactor: Redactor) -> CaseView:
    return CaseView(
        id=case.id,
        title=typed(redactor, case.title, 200),
        opened_by=attr(case.opened_by, 80),
        status=case.status,
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment


def history_day(history: list[Message]) -> date | None:
    """The day of the latest message: the thread's times are written on it without a date."""
    return _utc(history[-1].created_at).date() if history else None


def message_view(message: Message, text: str, day: date | None = None) -> MessageView:
    """`text` is the message's text as it will be shown (already redacted and quoted); the
    time is UTC, with its date unless it is `day` (said once, in the history's heading)."""
    at = _utc(message.created_at)
    return MessageView(
        when=at.strftime("%H:%M" if at.date() == day else "%Y-%m-%d %H:%M"),
        author=attr(message.author, 80),
        role=message.role,
        text=text,
    )


def state_view(
    state: CaseState,
    redactor: Redactor,
    *,
    max_hypotheses: int = 12,
    statement_chars: int = 300,
    max_feedback: int = 20,
    feedback_chars: int = 300,
    conclusion_chars: int = 600,
) -> StateView:
    """The state, clipped to the limits given. Settled hypotheses (confirmed, ruled out) are
    the last to go, then the least confident; the newest feedback is kept."""
    kept = sorted(
        state.hypotheses,
        key=lambda h: (h.status not in ("confirmed", "ruled_out"), -h.confidence),
    )[:max_hypotheses]
    kept.sort(key=lambda h: (_STATUS_ORDER.get(h.status, 2), -h.confidence))
    return StateView(
        conclusion=typed(redactor, state.working_conclusion, conclusion_chars),
        hypotheses=[
            HypothesisView(
                id=quote(h.id, 120),
                status=h.status,
                confidence=f"{round(h.confidence * 100)}%",
                statement=typed(redactor, h.statement, statement_chars),
                component=quote(h.component or "", 120),
            )
            for h in kept
        ],
        feedback=[typed(redactor, line, feedback_chars) for line in state.feedback[-max_feedback:]],
        related=[typed(redactor, line, RELATED_CHARS) for line in state.related[:MAX_RELATED]],
    )


def render(
    case: CaseView,
    state: StateView,
    history: HistoryView,
    evidence: list[EvidenceView],
    question: str,
    asker: str,
    *,
    now: str = "",
    analysis: list[str] | None = None,
    knowledge: list[KnowledgeView] | None = None,
    question_first: bool = True,
) -> list[dict[str, str]]:
    """The chat messages: the system prompt, then one user message: the question with the
    time and incident window, the quoted data, and the question again last. `question`,
    `asker`, `analysis` (parts) and `knowledge` are already quoted."""
    system = _env.get_template("system.jinja2").render()
    user = _env.get_template("answer.jinja2").render(
        case=case,
        state=state,
        history=history,
        evidence=evidence,
        question=question,
        asker=asker,
        now=now,
        analysis=analysis or [],
        knowledge=knowledge or [],
        question_first=question_first,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def render_line(macro: str, item: Any) -> str:
    """One line of the user prompt exactly as the template writes it (to measure its cost)."""
    return str(getattr(_env.get_template("lines.jinja2").module, macro)(item))


def knowledge_views(ctx: Context, chosen: list[list[Part]]) -> list[KnowledgeView]:
    """The knowledge blocks with a part chosen (blocks after the files and the analysis)."""
    views = []
    for (kind, title), parts in zip(ctx.knowledge_titles, chosen[ctx.analysis + 1 :], strict=True):
        if parts:
            text = "\n".join(quote("\n".join(p.lines), PART_CHARS) for p in parts)
            views.append(KnowledgeView(attr(kind, 20), attr(title, 200), text))
    return views


def file_views(
    analysed: list[Evidence], chosen: list[list[Part]], offered: list[int], summary_chars: int
) -> list[EvidenceView]:
    """Each file's summary line and the parts chosen for it, in file order (a whole file
    first); `offered` is how many parts of each were worth showing."""
    return [
        EvidenceView(
            name=attr(e.name, 200),
            summary=quote(e.summary, summary_chars),
            details=[part_text(p) for p in sorted(parts, key=_reading_order)],
            more=0 if any(p.whole for p in parts) else max(0, total - len(parts)),
        )
        for e, parts, total in zip(analysed, chosen, offered, strict=True)
    ]


def _reading_order(part: Part) -> tuple[int, int]:
    """Findings first, then a whole file, then parts top to bottom of the file."""
    return (0 if part.stays else 1 if part.whole else 2, part.order)


def build_messages(
    case: Case,
    history: list[Message],
    evidence: list[Evidence],
    question: str,
    asker: str,
    redactor: Redactor,
    *,
    state: CaseState | None = None,
    sources: PromptSources | None = None,
) -> list[dict[str, str]]:
    """The full prompt for one turn: every message verbatim, every evidence part worth
    showing, the case state. What people typed is redacted here too (a pasted token must not
    reach the LLM); evidence is redacted when its parts are made."""
    state = state or CaseState()
    ctx = prompt_context(evidence, history, question, state, redactor, sources)
    chosen: list[list[Part]] = [[] for _ in ctx.blocks]
    asked = evidence_query(query(question, state.hypotheses))
    for candidate in rank(ctx.blocks, asked, lambda _: 0):
        if candidate.score >= MIN_SCORE:
            chosen[candidate.slot].append(candidate.part)
    # A file shown whole needs none of its other parts but its findings.
    chosen = [
        [p for p in ps if p.whole or p.stays] if any(p.whole for p in ps) else ps for ps in chosen
    ]
    analysed = [e for e in evidence if e.status == "analysed"]
    return render(
        case_view(case, redactor),
        state_view(state, redactor),
        HistoryView(
            [message_view(m, typed(redactor, m.text), history_day(history)) for m in history],
            day=f"{history_day(history) or ''}",
        ),
        file_views(
            analysed, chosen[: ctx.files], [len(c) for c in chosen[: ctx.files]], MAX_MESSAGE_CHARS
        ),
        typed(redactor, question),
        quote(asker, 80),
        now=ctx.now,
        analysis=[part_text(p) for p in chosen[ctx.analysis]],
        knowledge=knowledge_views(ctx, chosen),
    )
