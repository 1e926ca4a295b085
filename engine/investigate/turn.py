"""One investigation turn of a case: read everything, reason, apply feedback, pick the phase.

The offline reasoner always runs first: it is cheap, it gives the suspects and timeline from
the evidence, and it is the answer whenever no LLM is configured or every model fails. An
LLM turn, when there is one, returns the same structure (`LLMTurn`) and replaces the
conclusion, hypotheses and next steps; people's Confirm / Rule out apply on top of either.

The model reads the case as it stands: its own earlier hypotheses and conclusion as well as
the offline analysis of the evidence now, each saying where it came from. What it returns is
merged with what the case knows: its citations must be in the case (grounding.py), a reused id
keeps its failure signature and the evidence's own score, a "ruled out" needs evidence, and a
hypothesis people confirmed stays confirmed whether the model restates it or not.
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
from engine.core.tool_runs import CheckResult, ToolBox
from engine.core.wording import plural
from engine.evidence.reports import Evidence
from engine.investigate.calibration import Calibration
from engine.investigate.checks import apply_checks
from engine.investigate.excerpts import load_sources
from engine.investigate.feedback import apply_feedback, feedback_lines
from engine.investigate.grounding import (
    GroundedHypothesis,
    ReadFile,
    gather_sources,
    ground_hypotheses,
)
from engine.investigate.llm import LLM, LLMUnavailable
from engine.investigate.look_closer import LookResult, look_closer
from engine.investigate.memory import CaseState, build_prompt
from engine.investigate.offline import render_answer
from engine.investigate.phases import PhaseDecision, contradicted, next_phase
from engine.investigate.reasoner import investigate_offline
from engine.investigate.result import (
    CitationCheck,
    Hypothesis,
    HypothesisStatus,
    Investigation,
    LLMHypothesis,
    LLMTurn,
    TurnUsage,
)
from engine.investigate.signatures import SIGNATURES

log = logging.getLogger(__name__)

DEFAULT_QUESTION = "What do you see so far, and what should we check next?"
Progress = Callable[[str], Awaitable[None]]
FindRelated = Callable[[Investigation], Awaitable[list[str]]]
RELATED_STEPS = 2
MAX_SHOWN_RUNS = 3  # tool runs named in the footer; the turn row keeps them all
LLM_ID = "llm:"  # the id prefix of hypotheses a model proposed
_SIGNATURE_IDS = frozenset(signature.id for signature in SIGNATURES)


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
    previous: Investigation | None = None  # the last turn's result
    previous_engine: str | None = None  # "llm" or "offline": who gave it
    read_file: ReadFile | None = None  # a file's stored content, to ground citations on
    toolbox: ToolBox | None = None  # what a model may run to look closer before answering
    calibration: Calibration | None = None  # the team's graded outcomes per failure signature
    checks: list[CheckResult] = field(default_factory=list)  # live checks of hypotheses


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


# The origin tags the prompt puts before a statement; a model that copies one back loses it.
_ORIGIN_TAG = re.compile(
    r"^\s*\[(?:offline analysis|model|confirmed by [^\]]*|ruled out by [^\]]*)\]\s*",
    re.IGNORECASE,
)


def _signature_of(hypothesis_id: str) -> str | None:
    """Offline ids are "<signature>:<component>": the stored rows keep no signature column."""
    head = hypothesis_id.split(":", 1)[0]
    return head if head in _SIGNATURE_IDS else None


def _merged(
    h: LLMHypothesis,
    grounded: GroundedHypothesis,
    fresh: Hypothesis | None,
    stored: Hypothesis | None,
) -> Hypothesis:
    """A model's hypothesis with what the case knows of its id. `fresh` is the offline
    reasoner's this turn, `stored` the case's from earlier turns."""
    known = fresh or stored
    hypothesis_id = (
        known.id if known else f"{LLM_ID}{_slug(h.component or '')}:{_slug(h.statement)}"
    )
    # Only people confirm; a model that is sure is still testing its idea.
    status: HypothesisStatus = "testing" if h.status == "confirmed" else h.status
    if status == "ruled_out" and not grounded.contradicting:
        # "Ruled out" hides a hypothesis: the model must show the case's evidence against it.
        status = stored.status if stored else (fresh.status if fresh else "proposed")
    supporting = grounded.supporting
    if not supporting and fresh is not None:
        supporting = fresh.supporting  # the evidence's own lines for it, real by construction
    return Hypothesis(
        id=hypothesis_id,
        statement=_ORIGIN_TAG.sub("", h.statement) or h.statement,
        category=h.category or (known.category if known else None),
        signature=(known.signature if known else None) or _signature_of(hypothesis_id),
        component=h.component,
        confidence=grounded.confidence(h.confidence),
        status=status,
        supporting=supporting,
        contradicting=grounded.contradicting,
        checks=h.checks,
        # The evidence's own score for it (the offline reasoner's now, else as stored), so the
        # phase and contradiction checks never take the model's number for the evidence's.
        evidence_confidence=fresh.confidence
        if fresh is not None
        else (stored.evidence_confidence if stored else None),
    )


def _from_llm(
    turn: LLMTurn,
    grounded: list[GroundedHypothesis],
    check: CitationCheck,
    offline: Investigation,
    known: list[Hypothesis],
) -> Investigation:
    """The LLM's turn in the engine's shape; suspects and timeline stay the evidence's own."""
    fresh = {h.id: h for h in offline.hypotheses}
    stored = {h.id: h for h in known}
    hypotheses = [
        _merged(h, g, fresh.get(h.id or ""), stored.get(h.id or ""))
        for h, g in zip(turn.hypotheses, grounded, strict=True)
    ]
    confidence = turn.confidence
    if hypotheses and grounded[0].dropped_supporting:
        # The conclusion rests on its lead: it is no surer than what the case shows of it.
        confidence = min(confidence, hypotheses[0].confidence)
    return offline.model_copy(
        update={
            "response_type": turn.response_type,
            "working_conclusion": turn.working_conclusion,
            "confidence": confidence,
            "hypotheses": hypotheses,
            "next_steps": turn.next_steps,
            "commands": turn.commands,
            "citations": check,
        }
    )


def _contradictions(
    known: list[Hypothesis], offline: Investigation, merged: Investigation | None = None
) -> list[Hypothesis]:
    """Confirmed hypotheses the evidence no longer backs. The offline reasoner's ids are judged
    on the evidence's own scores; a model's ids only on what a model says of them when it
    restates them (`merged`, an LLM turn): the offline reasoner cannot speak of them, and a
    model leaving one out says nothing against it (it chose what to restate)."""
    ours = [h for h in known if h.id.startswith(LLM_ID)]
    theirs = [h for h in known if not h.id.startswith(LLM_ID)]
    found = contradicted(theirs, offline.hypotheses)
    if merged is not None:
        restated = {h.id for h in merged.hypotheses}
        found += [h for h in contradicted(ours, merged.hypotheses) if h.id in restated]
    return found


def _origin(h: Hypothesis, by_model: set[str]) -> str:
    if h.decided_by and h.status in ("confirmed", "ruled_out"):
        verb = "confirmed" if h.status == "confirmed" else "ruled out"
        return f"{verb} by {h.decided_by}"
    return "model" if h.id.startswith(LLM_ID) or h.id in by_model else "offline analysis"


def _prompt_state(given: TurnInput, settled: Investigation) -> CaseState:
    """What the model reads of the case so far: the hypotheses of the last turn (its own when
    it gave that turn) and those the offline analysis finds now, and both conclusions, each
    tagged with where it came from, so it can build on itself and on people's word."""
    previous = given.previous
    by_model = (
        {h.id for h in previous.hypotheses}
        if previous is not None and given.previous_engine == "llm"
        else set()
    )
    current = {h.id for h in previous.hypotheses} if previous is not None else None
    fresh = {h.id: h for h in settled.hypotheses}
    shown: dict[str, Hypothesis] = {}
    for h in given.known:
        if current is not None and h.id not in current and not h.decided_by:
            continue  # an older turn's idea that no later turn kept
        origin = _origin(h, by_model)
        if h.id in fresh and (h.decided_by or origin == "offline analysis"):
            h = fresh[h.id]  # the evidence's score now, people's verdict applied
        shown[h.id] = h.model_copy(update={"statement": f"[{origin}] {h.statement}"})
    for h in settled.hypotheses:
        if h.id not in shown:
            shown[h.id] = h.model_copy(update={"statement": f"[{_origin(h, set())}] {h.statement}"})
    conclusion = f"[offline analysis now] {settled.working_conclusion}"
    if previous is not None and given.previous_engine == "llm" and previous.working_conclusion:
        conclusion = f"[model, last turn] {previous.working_conclusion} · {conclusion}"
    return CaseState(
        working_conclusion=conclusion,
        hypotheses=list(shown.values()),
        feedback=feedback_lines(given.feedback),
        related=given.related,
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
    result: Investigation,
    given: TurnInput,
    has_evidence: bool,
    contradictions: list[Hypothesis],
) -> tuple[Investigation, PhaseDecision]:
    """Apply feedback, decide the phase, mark what is being tested."""
    checked = apply_checks(_with_decided(result, given.known), given.checks)
    hypotheses = apply_feedback(checked, given.feedback)
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


def _log_grounding(case_id: int, check: CitationCheck) -> None:
    if not check.dropped:
        log.info(
            "case %s: %d citations kept (%d normalised)", case_id, check.kept, check.normalised
        )
        return
    log.warning(
        "case %s: %d citations kept (%d normalised), %d dropped: %s",
        case_id,
        check.kept,
        check.normalised,
        len(check.dropped),
        "; ".join(f"{d.source} line {d.line}: {d.why}" for d in check.dropped[:5]),
    )


def _with_tool_results(messages: list[dict[str, str]], looked: LookResult) -> list[dict[str, str]]:
    """The prompt with what the tools answered added to its last message, as data."""
    block = looked.prompt_block()
    if not block:
        return messages
    last = messages[-1]
    return [*messages[:-1], {**last, "content": f"{block}\n\n{last['content']}"}]


def _looked(looked: LookResult) -> str:
    """' · looked closer: `grep_evidence(pattern='pool')` → ok, …' for the footer."""
    if not looked.runs:
        return ""
    shown = "; ".join(looked.shown()[:MAX_SHOWN_RUNS])
    more = len(looked.runs) - MAX_SHOWN_RUNS
    return f" · looked closer: {shown}" + (f" and {more} more" if more > 0 else "")


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
        investigate_offline, question or DEFAULT_QUESTION, said, reports, given.calibration
    )
    await progress("ranking suspects and hypotheses…")
    if related is not None:
        given.related = await related(offline)
    settled, decision = _settle(
        offline, given, bool(analysed), _contradictions(given.known, offline)
    )
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
        _prompt_state(given, settled),
        question or DEFAULT_QUESTION,
        given.questions[-1].author if given.questions else "the team",
        redactor,
        count_tokens=llm.count_tokens,
        budget_tokens=budget_tokens,
        sources=await load_sources(given.evidence, given.read_file, given.related, redactor),
    )
    looked = LookResult()
    try:
        async with asyncio.timeout(deadline_s):
            messages = prompt.messages
            if given.toolbox is not None and llm.calls_tools:
                await progress("looking closer at the evidence…")
                looked = await look_closer(llm, messages, given.toolbox)
                messages = _with_tool_results(messages, looked)
            reply = await llm.complete_structured(messages, LLMTurn)
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
        usage: list[TurnUsage] = [*looked.usage, *reply.usage]
        turn = reply.value
        sources = await gather_sources(
            given.evidence,
            given.history,
            given.case.created_at.date(),
            turn.hypotheses,
            given.read_file,
        )
        grounded, check = await asyncio.to_thread(ground_hypotheses, turn.hypotheses, sources)
        _log_grounding(given.case.id, check)
        merged = _from_llm(turn, grounded, check, offline, given.known)
        merged = merged.model_copy(update={"usage": usage, "tool_runs": looked.notes()})
        contradictions = _contradictions(given.known, offline, merged)
        settled, decision = _settle(merged, given, bool(analysed), contradictions)
        dropped = (
            f" · {plural(len(check.dropped), 'citation')} not found in the case left out"
            if check.dropped
            else ""
        )
        return TurnOutcome(
            result=settled,
            answer=turn.answer,
            engine="llm",
            model=reply.model,
            footer=f"Answered by {reply.model} · {basis}{_looked(looked)}{dropped}",
            phase=decision,
            prompt_tokens=sum(u.prompt_tokens for u in usage),
            completion_tokens=sum(u.completion_tokens for u in usage),
            full_history_tokens=prompt.full_history_tokens,
        )
    outcome.footer = f"Offline analysis — no LLM was used ({why}) · {basis}"
    outcome.full_history_tokens = prompt.full_history_tokens
    return outcome
