"""One investigation turn of a case: read everything, reason, apply feedback, pick the phase.

The offline reasoner always runs first: it is cheap, it gives the suspects and timeline from
the evidence, and it is the answer whenever no LLM is configured or every model fails. An
LLM turn, when there is one, returns the same structure (`LLMTurn`) and replaces the
conclusion, hypotheses and next steps; people's Confirm / Rule out apply on top of either.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from engine.core.models import Case, Feedback, Message
from engine.core.redact import Redactor
from engine.core.wording import plural
from engine.evidence.reports import Evidence
from engine.investigate.feedback import apply_feedback, feedback_lines
from engine.investigate.llm import LLM, LLMUnavailable
from engine.investigate.memory import CaseState, build_prompt
from engine.investigate.offline import render_answer
from engine.investigate.phases import PhaseDecision, contradicted, next_phase
from engine.investigate.reasoner import investigate_offline
from engine.investigate.result import Hypothesis, Investigation, LLMTurn, TurnUsage

log = logging.getLogger(__name__)

DEFAULT_QUESTION = "What do you see so far, and what should we check next?"
Progress = Callable[[str], Awaitable[None]]
FindRelated = Callable[[Investigation], Awaitable[list[str]]]
RELATED_STEPS = 2


@dataclass
class TurnInput:
    """Everything a turn reads, loaded by the caller from the store."""

    case: Case
    history: list[Message]
    evidence: list[Evidence]
    feedback: list[Feedback]
    known: list[Hypothesis] = field(default_factory=list)  # stored before this turn
    questions: list[Message] = field(default_factory=list)  # asked since the last turn
    related: list[str] = field(default_factory=list)  # past cases and runbooks that look alike


@dataclass
class TurnOutcome:
    result: Investigation
    answer: str
    engine: Literal["llm", "offline"]
    model: str | None
    footer: str
    phase: PhaseDecision
    prompt_tokens: int = 0
    completion_tokens: int = 0
    full_history_tokens: int = 0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "hypothesis"


def _from_llm(turn: LLMTurn, offline: Investigation, known: list[Hypothesis]) -> Investigation:
    """The LLM's turn in the engine's shape; suspects and timeline stay the evidence's own."""
    ids = {h.id for h in [*offline.hypotheses, *known]}
    hypotheses = [
        Hypothesis(
            id=h.id if h.id in ids else f"llm:{_slug(h.component or '')}:{_slug(h.statement)}",
            statement=h.statement,
            category=h.category,
            component=h.component,
            confidence=h.confidence,
            # Only people confirm; a model that is sure is still testing its idea.
            status="testing" if h.status == "confirmed" else h.status,
            supporting=h.supporting,
            contradicting=h.contradicting,
            checks=h.checks,
        )
        for h in turn.hypotheses
    ]
    return offline.model_copy(
        update={
            "response_type": turn.response_type,
            "working_conclusion": turn.working_conclusion,
            "confidence": turn.confidence,
            "hypotheses": hypotheses,
            "next_steps": turn.next_steps,
            "commands": turn.commands,
        }
    )


def _with_decided(result: Investigation, known: list[Hypothesis]) -> list[Hypothesis]:
    """This turn's hypotheses plus the ones people decided that the turn left out."""
    present = {h.id for h in result.hypotheses}
    kept = [h for h in known if h.decided_by and h.id not in present]
    return [*result.hypotheses, *kept]


def _mark_testing(hypotheses: list[Hypothesis], phase: str) -> list[Hypothesis]:
    """In analysis, the leading open hypothesis is the one being tested now."""
    if phase != "analyzing":
        return hypotheses
    marked = list(hypotheses)
    for i, hypothesis in enumerate(marked):
        if hypothesis.status == "confirmed":
            return marked
        if hypothesis.status == "proposed":
            marked[i] = hypothesis.model_copy(update={"status": "testing"})
            return marked
    return marked


def _settle(
    result: Investigation, given: TurnInput, has_evidence: bool
) -> tuple[Investigation, PhaseDecision]:
    """Apply feedback, decide the phase, mark what is being tested."""
    contradictions = contradicted(given.known, result.hypotheses)
    hypotheses = apply_feedback(_with_decided(result, given.known), given.feedback)
    decision = next_phase(
        given.case.phase,
        has_evidence=has_evidence,
        hypotheses=hypotheses,
        contradictions=contradictions,
    )
    hypotheses = _mark_testing(hypotheses, decision.phase)
    live = [h for h in hypotheses if h.status != "ruled_out"]
    update: dict[str, object] = {"hypotheses": hypotheses, "phase": decision.phase}
    lead = live[0] if live else None
    if lead is not None and lead.decided_by:
        update["working_conclusion"] = f"{lead.statement} (confirmed by {lead.decided_by})"
        update["confidence"] = lead.confidence
    elif lead is not None and result.hypotheses and lead.id != result.hypotheses[0].id:
        # People ruled out the engine's first pick: the conclusion follows the new lead.
        update["working_conclusion"] = f"{lead.statement} ({lead.confidence:.0%})"
        update["confidence"] = lead.confidence
        update["next_steps"] = list(dict.fromkeys([*lead.checks, *result.next_steps]))[:6]
    if given.related:
        # What fixed a case like this one, and the runbook for it, come before fresh checks.
        steps = update.get("next_steps", result.next_steps)
        assert isinstance(steps, list)
        update["next_steps"] = list(dict.fromkeys([*given.related[:RELATED_STEPS], *steps]))[:6]
    return result.model_copy(update=update), decision


async def run_turn(
    given: TurnInput,
    *,
    llm: LLM,
    redactor: Redactor,
    deadline_s: float,
    budget_tokens: int,
    progress: Progress,
    related: FindRelated | None = None,
) -> TurnOutcome:
    """`related`, given the offline result (suspects, hypotheses), finds past cases and
    runbooks that look like the case: they lead the next steps and go to the LLM."""
    analysed = [e for e in given.evidence if e.status == "analysed"]
    reports = [e.report for e in analysed if e.report is not None]
    question = given.questions[-1].text.strip() if given.questions else ""
    said = [m.text for m in given.history if m.role == "user"]
    await progress(f"reading {plural(len(analysed), 'file')} and {plural(len(said), 'message')}…")
    offline = await asyncio.to_thread(
        investigate_offline, question or DEFAULT_QUESTION, said, reports
    )
    await progress("ranking suspects and hypotheses…")
    if related is not None:
        given.related = await related(offline)
    settled, decision = _settle(offline, given, bool(analysed))
    findings = [e.summary for e in analysed]
    basis = f"{plural(len(analysed), 'file')}, {plural(len(given.history), 'message')}"
    outcome = TurnOutcome(
        result=settled,
        answer=render_answer(settled, findings),
        engine="offline",
        model=None,
        footer=f"Offline analysis — no LLM was used · {basis}",
        phase=decision,
    )
    if not llm.configured:
        return outcome
    await progress(f"asking {llm.models[0]}…")
    prompt = build_prompt(
        given.case,
        given.history,
        given.evidence,
        CaseState(
            working_conclusion=settled.working_conclusion,
            hypotheses=settled.hypotheses,
            feedback=feedback_lines(given.feedback),
            related=given.related,
        ),
        question or DEFAULT_QUESTION,
        given.questions[-1].author if given.questions else "the team",
        redactor,
        count_tokens=llm.count_tokens,
        budget_tokens=budget_tokens,
    )
    try:
        async with asyncio.timeout(deadline_s):
            reply = await llm.complete_structured(prompt.messages, LLMTurn)
    except TimeoutError:
        log.warning("case %s: LLM took over %.0f s, offline turn", given.case.id, deadline_s)
        why = "LLM too slow"
        errors = [f"no answer within the {deadline_s:.0f} s allowed for the LLM"]
        outcome.result = outcome.result.model_copy(update={"llm_errors": errors})
    except LLMUnavailable as exc:
        log.warning("case %s: every LLM failed, offline turn: %s", given.case.id, exc)
        why = "LLM unavailable: " + ", ".join(r.split(":", 1)[0] for r in exc.reasons)
        # Failed attempts still cost tokens: the turn row must show what was spent.
        # The turn row keeps why each model failed, for whoever wonders why it was offline.
        outcome.result = outcome.result.model_copy(
            update={"usage": list(exc.usage), "llm_errors": list(exc.reasons)}
        )
        outcome.prompt_tokens = sum(u.prompt_tokens for u in exc.usage)
        outcome.completion_tokens = sum(u.completion_tokens for u in exc.usage)
    else:
        usage: list[TurnUsage] = reply.usage
        merged = _from_llm(reply.value, offline, given.known).model_copy(update={"usage": usage})
        settled, decision = _settle(merged, given, bool(analysed))
        return TurnOutcome(
            result=settled,
            answer=reply.value.answer,
            engine="llm",
            model=reply.model,
            footer=f"Answered by {reply.model} · {basis}",
            phase=decision,
            prompt_tokens=sum(u.prompt_tokens for u in usage),
            completion_tokens=sum(u.completion_tokens for u in usage),
            full_history_tokens=prompt.full_history_tokens,
        )
    outcome.footer = f"Offline analysis — no LLM was used ({why}) · {basis}"
    outcome.full_history_tokens = prompt.full_history_tokens
    return outcome
