"""The investigation's memory: what of a long case goes into one turn's prompt.

A case thread grows every turn, and sending all of it makes each turn cost more than the last.
Within a token budget, filled by priority:

1. always: the system prompt, the case, the case state (working conclusion, hypotheses with
   their ids, team feedback: feedback must change the next turn), each file's summary line,
   and the question. Clipped, step by step, only when they alone exceed the budget;
2. the last few messages verbatim (clipped to a length each);
3. the top details of each file, round-robin so every file keeps its first ones, files that
   bear on the question first, within a share of the budget;
4. the older messages most relevant to the question and the leading hypotheses (shared words
   and identifiers, weighted by rarity in the thread), verbatim;
5. the other older messages as one short line each, newest first, then a count of the rest.

Tokens come from the caller's counter (litellm's tokenizer in production: only llm.py imports
litellm), so the budget is measured with the tokenizer of the model that is called.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from engine.core.models import Case, Message
from engine.core.redact import Redactor
from engine.evidence.reports import Evidence
from engine.investigate.prompting import (
    MAX_GROUPS_PER_FILE,
    CaseState,
    EvidenceView,
    HistoryView,
    MessageView,
    StateView,
    attr,
    build_messages,
    case_view,
    evidence_details,
    message_view,
    one_line,
    quote,
    render,
    render_line,
    state_view,
    typed,
)

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
DETAILS_PER_FILE = 4
EVIDENCE_SHARE = 0.1  # of the budget, for detail lines
QUESTION_WEIGHT = 2.0  # the question outweighs the hypotheses when retrieving
HYPOTHESES_FOR_RETRIEVAL = 3


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
    _Clip(2, 60, 3, 60, 80, 60, 200),
)


@dataclass(frozen=True)
class MemoryStats:
    """What of the case went into the prompt."""

    verbatim: int = 0  # recent messages, as written
    retrieved: int = 0  # older messages brought back as written, for their relevance
    summarised: int = 0  # messages shortened to one line
    dropped: int = 0  # messages left out
    details_kept: int = 0  # evidence detail lines sent
    details_dropped: int = 0  # detail lines the full prompt has and this one does not
    clip_level: int = 0  # 0 unless the mandatory parts alone overflowed the budget


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    prompt_tokens: int
    full_history_tokens: int  # the same turn with every message and detail, for comparison
    kept: MemoryStats = field(default_factory=MemoryStats)

    @property
    def ratio(self) -> float:
        return self.prompt_tokens / self.full_history_tokens if self.full_history_tokens else 1.0


# --- relevance -------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9][a-z0-9_.:/-]*[a-z0-9]|[a-z0-9]")
_SPLIT = re.compile(r"[-_./:]")
_SUFFIXES = ("ments", "ment", "ing", "ed", "es", "s", "e")
_STOP_WORDS = """about above after again against all also and any are because been before being
    below between both but can could did does doing down during each few for from further had
    has have having here how into its just more most now off once only other our out over own
    same should some still such than that the their them then there these they this those
    through too under until very was were what when where which while who why will with would
    you your yes not see let get got one two think know look looking maybe seem like"""
_STOP = frozenset(_STOP_WORDS.split())


def _stem(word: str) -> str:
    """Crude, but enough for "deploy", "deployed", "deployment" to meet."""
    if any(c.isdigit() for c in word):
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    """Words and identifiers (payments-db, v142, 13:58), and the parts of identifiers."""
    found: set[str] = set()
    for word in _WORD.findall(text.lower()):
        parts = [word, *_SPLIT.split(word)] if _SPLIT.search(word) else [word]
        for part in parts:
            if part in _STOP or (len(part) < 3 and not any(c.isdigit() for c in part)):
                continue
            found.add(_stem(part))
    return found


def _is_identifier(term: str) -> bool:
    return any(c.isdigit() or c in "-_./:" for c in term)


def _query(question: str, state: CaseState) -> dict[str, float]:
    """What makes an older item relevant: the question's terms, then the terms of the leading
    hypotheses that are still open (a ruled-out one should not steer what is recalled)."""
    weights: dict[str, float] = {}
    leading = sorted(
        (h for h in state.hypotheses if h.status != "ruled_out"), key=lambda h: -h.confidence
    )[:HYPOTHESES_FOR_RETRIEVAL]
    for h in leading:
        for term in terms(f"{h.id} {h.component or ''} {h.statement}"):
            weights[term] = 1.0
    for term in terms(question):
        weights[term] = QUESTION_WEIGHT
    return weights


def _ranked(texts: list[str], query: dict[str, float]) -> list[tuple[float, int]]:
    """(score, index) of the texts that share terms with the query, best first. Terms found in
    many texts count for little; identifiers count for more than words."""
    bags = [terms(t) for t in texts]
    df = Counter(term for bag in bags for term in bag)
    scored = []
    for i, bag in enumerate(bags):
        score = sum(
            weight
            * math.log((len(bags) + 1) / (df[term] + 0.5))
            * (1.5 if _is_identifier(term) else 1)
            for term, weight in query.items()
            if term in bag
        )
        if score > 0:
            scored.append((score, i))
    return sorted(scored, key=lambda pair: (-pair[0], -pair[1]))


# --- the budget ----------------------------------------------------------------------------

Kind = Literal["verbatim", "retrieved", "summarised", "detail"]


class _Fill:
    """Tokens left and what has been chosen, in the order it was chosen (the last choice is
    undone first). Line costs come from the caller's counter, which counts whole messages."""

    def __init__(self, count_tokens: TokenCounter, left: int, files: int) -> None:
        self.count = count_tokens
        self._empty = count_tokens([{"role": "user", "content": ""}])
        self.left = left
        self.messages: dict[int, tuple[Kind, MessageView]] = {}
        self.details: list[list[str]] = [[] for _ in range(files)]
        self.order: list[tuple[Kind, int]] = []

    def cost(self, macro: str, item: object) -> int:
        line = render_line(macro, item)
        return max(1, self.count([{"role": "user", "content": line}]) - self._empty)

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

    def add_detail(self, file: int, line: str, share: list[int]) -> bool:
        if not self.take(self.cost("detail_line", line), share):
            return False
        self.details[file].append(line)
        self.order.append(("detail", file))
        return True

    def undo(self) -> None:
        kind, index = self.order.pop()
        if kind == "detail":
            self.details[index].pop()
        else:
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
) -> Prompt:
    """The prompt for one structured turn within `budget_tokens` (see the module docstring).
    `history` is oldest first and may end with the question's own message (it is then shown
    once, as the question); `count_tokens` counts the tokens of a list of chat messages."""
    full_tokens = count_tokens(
        build_messages(case, history, evidence, question, asker, redactor, state=state)
    )
    asked_last = bool(history) and history[-1].role == "user" and _same(history[-1].text, question)
    thread = history[:-1] if asked_last else history
    analysed = [e for e in evidence if e.status == "analysed"]
    totals = [_total_details(e) for e in analysed]
    header, asked_by = case_view(case, redactor), quote(asker, 80)

    # 1. The mandatory parts, clipped further only while they alone overflow the budget.
    for level in range(len(_CLIP_LEVELS)):
        state_part, files, asked = _mandatory(
            state, analysed, totals, question, redactor, _CLIP_LEVELS[level]
        )
        bare = HistoryView([], omitted=len(thread))
        used = count_tokens(render(header, state_part, bare, files, asked, asked_by))
        if used <= budget_tokens:
            break
    fill = _Fill(count_tokens, budget_tokens - used, len(files))

    def shown(i: int, limit: int) -> MessageView:
        return message_view(thread[i], typed(redactor, thread[i].text, limit))

    def shortened(i: int) -> MessageView:
        return message_view(thread[i], one_line(redactor, thread[i].text, SUMMARY_CHARS))

    # 2. The tail of the thread as written (the question counts as one of its messages);
    # shortened, then left out, when even that does not fit.
    recent_from = max(0, len(thread) - RECENT_MESSAGES + asked_last)
    for i in reversed(range(recent_from, len(thread))):
        if not fill.add_message(i, "verbatim", shown(i, RECENT_CHARS)):
            fill.add_message(i, "summarised", shortened(i))

    # 3. Each file's top details, round-robin, the files that match the question first.
    query = _query(question, state)
    candidates = [[quote(d) for d in evidence_details(e, DETAILS_PER_FILE)] for e in analysed]
    relevant = [i for _, i in _ranked([f"{e.name} {e.summary}" for e in analysed], query)]
    file_order = relevant + [i for i in range(len(analysed)) if i not in relevant]
    share = [int(budget_tokens * EVIDENCE_SHARE)]
    for rank in range(DETAILS_PER_FILE):
        for f in file_order:
            if rank < len(candidates[f]) and len(fill.details[f]) == rank:
                fill.add_detail(f, candidates[f][rank], share)

    # 4. Older messages that bear on the question, as written.
    ranked = _ranked([m.text for m in thread[:recent_from]], query)[:RETRIEVED_MESSAGES]
    for score, i in ranked:
        if score >= RELEVANCE_FLOOR * ranked[0][0]:
            fill.add_message(i, "retrieved", shown(i, RETRIEVED_CHARS))

    # 5. The other older messages, one line each, newest first, while they fit.
    share = [int(budget_tokens * SUMMARY_SHARE)]
    for i in reversed(range(recent_from)):
        if i not in fill.messages and not fill.add_message(i, "summarised", shortened(i), share):
            break

    # Lines were measured one at a time; the whole is measured exactly, and the last choices
    # are undone while it is over the budget.

    def assemble() -> tuple[list[dict[str, str]], int]:
        part = HistoryView(
            [view for _, (_, view) in sorted(fill.messages.items())],
            omitted=len(thread) - len(fill.messages),
            shortened=fill.number("summarised") > 0,
        )
        views = [
            replace(f, details=kept, more=max(0, total - len(kept)))
            for f, total, kept in zip(files, totals, fill.details, strict=True)
        ]
        messages = render(header, state_part, part, views, asked, asked_by)
        return messages, count_tokens(messages)

    messages, tokens = assemble()
    while tokens > budget_tokens and fill.order:
        fill.undo()
        messages, tokens = assemble()

    kept_details = sum(len(d) for d in fill.details)
    return Prompt(
        messages=messages,
        prompt_tokens=tokens,
        full_history_tokens=full_tokens,
        kept=MemoryStats(
            verbatim=fill.number("verbatim") + asked_last,
            retrieved=fill.number("retrieved"),
            summarised=fill.number("summarised"),
            dropped=len(thread) - len(fill.messages),
            details_kept=kept_details,
            details_dropped=max(0, sum(totals) - kept_details),
            clip_level=level,
        ),
    )


def _same(text: str, question: str) -> bool:
    return " ".join(text.split()) == " ".join(question.split())


def _mandatory(
    state: CaseState,
    analysed: list[Evidence],
    totals: list[int],
    question: str,
    redactor: Redactor,
    clip: _Clip,
) -> tuple[StateView, list[EvidenceView], str]:
    """The case state, each file's summary line and the question, within `clip`."""
    state_part = state_view(
        state,
        redactor,
        max_hypotheses=clip.hypotheses,
        statement_chars=clip.statement_chars,
        max_feedback=clip.feedback,
        feedback_chars=clip.feedback_chars,
        conclusion_chars=clip.conclusion_chars,
    )
    files = [
        EvidenceView(
            name=attr(e.name, 200),
            summary=quote(e.summary, clip.summary_chars),
            details=[],
            more=total,  # "(N more detail lines not shown)" until details are chosen
        )
        for e, total in zip(analysed, totals, strict=True)
    ]
    return state_part, files, typed(redactor, question, clip.question_chars)


def _total_details(item: Evidence) -> int:
    """How many detail lines the full prompt gives this file."""
    return len(evidence_details(item, MAX_GROUPS_PER_FILE))
