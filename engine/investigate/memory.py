"""The investigation's memory: what of a long case goes into one turn's prompt.

A case thread grows every turn, and sending all of it makes each turn cost more than the last.
Within a token budget, filled by priority:

1. always: the system prompt, the question with the time and incident window, the case, the
   case state (working conclusion, hypotheses with their ids, team feedback: feedback must
   change the next turn), each file's summary line, and the question again. Clipped, step
   by step, only when they alone exceed the budget;
2. the last few messages verbatim (clipped to a length each);
3. the evidence parts that matter most (engine/investigate/evidence_choice.py: first errors
   with their neighbours, findings with their lines, small files whole, suspects, timeline,
   related knowledge), ranked by the question and the leading hypotheses;
4. the older messages most relevant to the question and the leading hypotheses (shared words
   and identifiers, weighted by rarity in the thread), verbatim;
5. the other older messages as one short line each, newest first, then a count of the rest;
6. the other evidence parts worth showing, best first, with whatever budget is left: unused
   budget goes to evidence, but nothing under the noise floor (evidence_choice.MIN_SCORE).

Tokens come from the caller's counter (litellm's tokenizer in production: only llm.py imports
litellm), so the budget is measured with the tokenizer of the model that is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from engine.core.models import Case, Message
from engine.core.redact import Redactor
from engine.evidence.reports import Evidence
from engine.investigate.evidence_choice import (
    CORE_SCORE,
    Candidate,
    Choice,
    choose,
    evidence_query,
    rank,
)
from engine.investigate.excerpts import PromptSources
from engine.investigate.parts import Part
from engine.investigate.prompt_context import Context
from engine.investigate.prompting import (
    CaseState,
    EvidenceView,
    HistoryView,
    MessageView,
    StateView,
    build_messages,
    case_view,
    file_views,
    history_day,
    knowledge_views,
    message_view,
    one_line,
    part_text,
    prompt_context,
    quote,
    render,
    render_line,
    state_view,
    typed,
)
from engine.investigate.relevance import query as relevance_query
from engine.investigate.relevance import ranked

__all__ = ["DEFAULT_BUDGET_TOKENS", "CaseState", "MemoryStats", "Prompt", "build_prompt"]

TokenCounter = Callable[[list[dict[str, str]]], int]

DEFAULT_BUDGET_TOKENS = 6000
RECENT_MESSAGES = 6  # the tail of the thread, verbatim
RECENT_CHARS = 1000
RETRIEVED_MESSAGES = 3  # older messages brought back verbatim for this question
RETRIEVED_CHARS = 1000
RELEVANCE_FLOOR = 0.5  # of the best score: weaker matches are not worth a verbatim message
SUMMARY_CHARS = 100  # an older message as its first line or sentence
SUMMARY_SHARE = 0.12  # of the budget, for those lines
OLDER_SHARE = 0.3  # kept from the most telling evidence for older messages (steps 4 and 5)


@dataclass(frozen=True)
class _Clip:
    """Limits on the mandatory parts; later levels are used only when earlier ones overflow."""

    hypotheses: int
    statement_chars: int
    feedback: int
    feedback_chars: int
    conclusion_chars: int
    summary_chars: int
    question_chars: int


_CLIP_LEVELS = (
    _Clip(12, 300, 20, 300, 600, 400, 2000),
    _Clip(8, 160, 12, 160, 300, 200, 1000),
    _Clip(4, 100, 6, 100, 160, 100, 400),
    _Clip(2, 60, 3, 60, 80, 40, 200),
)


@dataclass(frozen=True)
class MemoryStats:
    """What of the case went into the prompt."""

    verbatim: int = 0  # recent messages, as written
    retrieved: int = 0  # older messages brought back as written, for their relevance
    summarised: int = 0  # messages shortened to one line
    dropped: int = 0  # messages left out
    details_kept: int = 0  # evidence parts sent (suspects, timeline and knowledge included)
    details_dropped: int = 0  # parts worth showing that the budget left out
    clip_level: int = 0  # 0 unless the mandatory parts alone overflowed the budget


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    prompt_tokens: int
    full_history_tokens: int  # the same turn with every message and part, for comparison
    kept: MemoryStats = field(default_factory=MemoryStats)

    @property
    def ratio(self) -> float:
        return self.prompt_tokens / self.full_history_tokens if self.full_history_tokens else 1.0


# --- the budget ----------------------------------------------------------------------------

Kind = Literal["verbatim", "retrieved", "summarised"]


class _Fill:
    """Tokens left and what has been chosen, in the order it was chosen (the last choice is
    undone first). Line costs come from the caller's counter, which counts whole messages."""

    def __init__(self, count_tokens: TokenCounter, left: int) -> None:
        self.count = count_tokens
        self._empty = count_tokens([{"role": "user", "content": ""}])
        self.left = left
        self.messages: dict[int, tuple[Kind, MessageView]] = {}
        self.order: list[tuple[Kind, int]] = []

    def cost(self, macro: str, item: object) -> int:
        line = render_line(macro, item)
        return max(1, self.count([{"role": "user", "content": line}]) - self._empty)

    def part_cost(self, part: Part) -> int:
        return self.cost("detail_line", part_text(part))

    def take(self, cost: int, share: list[int] | None = None) -> bool:
        """Spend `cost` if it fits what is left (and the share, a one-item list, if given)."""
        if cost > self.left or (share is not None and cost > share[0]):
            return False
        self.left -= cost
        if share is not None:
            share[0] -= cost
        return True

    def add_message(
        self, index: int, kind: Kind, view: MessageView, share: list[int] | None = None
    ) -> bool:
        if not self.take(self.cost("message_line", view), share):
            return False
        self.messages[index] = (kind, view)
        self.order.append((kind, index))
        return True

    def undo(self) -> None:
        _, index = self.order.pop()
        del self.messages[index]

    def number(self, kind: Kind) -> int:
        return sum(1 for k, _ in self.messages.values() if k == kind)


def build_prompt(
    case: Case,
    history: list[Message],
    evidence: list[Evidence],
    state: CaseState,
    question: str,
    asker: str,
    redactor: Redactor,
    *,
    count_tokens: TokenCounter,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    sources: PromptSources | None = None,
) -> Prompt:
    """The prompt for one structured turn within `budget_tokens` (see the module docstring).
    `history` is oldest first and may end with the question's own message (it is then shown
    once, as the question); `count_tokens` counts the tokens of a list of chat messages;
    `sources` holds the uploads' parts and related knowledge (without it, the reports'
    own parts are quoted)."""
    full_tokens = count_tokens(
        build_messages(
            case, history, evidence, question, asker, redactor, state=state, sources=sources
        )
    )
    asked_last = bool(history) and history[-1].role == "user" and _same(history[-1].text, question)
    thread = history[:-1] if asked_last else history
    analysed = [e for e in evidence if e.status == "analysed"]
    ctx = prompt_context(evidence, history, question, state, redactor, sources)
    header, asked_by = case_view(case, redactor), quote(asker, 80)

    # 1. The mandatory parts, clipped further only while they alone overflow the budget.
    for level in range(len(_CLIP_LEVELS)):
        clip = _CLIP_LEVELS[level]
        state_part, asked = _mandatory(state, question, redactor, clip)
        bare = HistoryView([], omitted=len(thread))
        # At the last level the question is said once, "now" without the window, and no
        # count of the parts left out: the bare minimum.
        last = level == len(_CLIP_LEVELS) - 1
        now = ctx.now_short if last else ctx.now
        offered = [0] * len(analysed) if last else _offered_parts(ctx)
        files = file_views(analysed, [[] for _ in analysed], offered, clip.summary_chars)
        used = count_tokens(
            render(
                header, state_part, bare, files, asked, asked_by, now=now, question_first=not last
            )
        )
        if used <= budget_tokens:
            break
    fill = _Fill(count_tokens, budget_tokens - used)

    day = history_day(history)

    def shown(i: int, limit: int) -> MessageView:
        return message_view(thread[i], typed(redactor, thread[i].text, limit), day)

    def shortened(i: int) -> MessageView:
        return message_view(thread[i], one_line(redactor, thread[i].text, SUMMARY_CHARS), day)

    # 2. The tail of the thread as written (the question counts as one of its messages);
    # shortened, then left out, when even that does not fit.
    recent_from = max(0, len(thread) - RECENT_MESSAGES + asked_last)
    for i in reversed(range(recent_from, len(thread))):
        if not fill.add_message(i, "verbatim", shown(i, RECENT_CHARS)):
            fill.add_message(i, "summarised", shortened(i))

    # 3. The evidence parts that matter most, ranked by the question and the hypotheses.
    query = relevance_query(question, state.hypotheses)
    candidates = rank(ctx.blocks, evidence_query(query), fill.part_cost)
    choice = Choice(len(ctx.blocks))
    # Older messages keep a slice (what they do not use goes back to evidence in step 6).
    reserve = min(fill.left * 2 // 3, int(budget_tokens * OLDER_SHARE)) if recent_from else 0
    fill.left = reserve + choose(candidates, choice, fill.left - reserve, floor=CORE_SCORE)

    # 4. Older messages that bear on the question, as written.
    relevant = ranked([m.text for m in thread[:recent_from]], query)[:RETRIEVED_MESSAGES]
    for score, i in relevant:
        if score >= RELEVANCE_FLOOR * relevant[0][0]:
            fill.add_message(i, "retrieved", shown(i, RETRIEVED_CHARS))

    # 5. The other older messages, one line each, newest first, while they fit.
    share = [int(budget_tokens * SUMMARY_SHARE)]
    for i in reversed(range(recent_from)):
        if i not in fill.messages and not fill.add_message(i, "summarised", shortened(i), share):
            break

    # 6. The rest of the evidence worth showing, with what is left.
    fill.left = choose(candidates, choice, fill.left)

    # Parts and lines were measured one at a time; the whole is measured exactly, and the
    # last choices are undone (evidence first: the least telling was taken last) while it is
    # over the budget.
    offered = [0] * len(analysed) if last else _offered(ctx, candidates)

    def assemble() -> tuple[list[dict[str, str]], int]:
        part = HistoryView(
            [view for _, (_, view) in sorted(fill.messages.items())],
            omitted=len(thread) - len(fill.messages),
            shortened=fill.number("summarised") > 0,
            day=f"{day or ''}" if fill.messages else "",
        )
        messages = render(
            header,
            state_part,
            part,
            _files(analysed, ctx, choice, offered, clip.summary_chars),
            asked,
            asked_by,
            now=now,
            analysis=[part_text(p) for p in choice.parts[ctx.analysis]],
            knowledge=knowledge_views(ctx, choice.parts),
            question_first=not last,
        )
        return messages, count_tokens(messages)

    messages, tokens = assemble()
    while tokens > budget_tokens and (choice.order or fill.order):
        if choice.order:
            choice.undo()
        else:
            fill.undo()
        messages, tokens = assemble()

    kept = choice.count()
    return Prompt(
        messages=messages,
        prompt_tokens=tokens,
        full_history_tokens=full_tokens,
        kept=MemoryStats(
            verbatim=fill.number("verbatim") + asked_last,
            retrieved=fill.number("retrieved"),
            summarised=fill.number("summarised"),
            dropped=len(thread) - len(fill.messages),
            details_kept=kept,
            details_dropped=max(0, len(candidates) - kept),
            clip_level=level,
        ),
    )


def _offered_parts(ctx: Context) -> list[int]:
    """How many parts each file has, before ranking (the mandatory step counts them)."""
    return [len(parts) for parts in ctx.blocks[: ctx.files]]


def _offered(ctx: Context, candidates: list[Candidate]) -> list[int]:
    """How many parts of each file were worth showing."""
    counts = [0] * ctx.files
    for candidate in candidates:
        if candidate.slot < ctx.files:
            counts[candidate.slot] += 1
    return counts


def _files(
    analysed: list[Evidence], ctx: Context, choice: Choice, offered: list[int], chars: int
) -> list[EvidenceView]:
    return file_views(analysed, choice.parts[: ctx.files], offered, chars)


def _same(text: str, question: str) -> bool:
    return " ".join(text.split()) == " ".join(question.split())


def _mandatory(
    state: CaseState, question: str, redactor: Redactor, clip: _Clip
) -> tuple[StateView, str]:
    """The case state and the question, within `clip`."""
    state_part = state_view(
        state,
        redactor,
        max_hypotheses=clip.hypotheses,
        statement_chars=clip.statement_chars,
        max_feedback=clip.feedback,
        feedback_chars=clip.feedback_chars,
        conclusion_chars=clip.conclusion_chars,
    )
    return state_part, typed(redactor, question, clip.question_chars)
