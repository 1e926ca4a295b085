"""How a case ended, in one click at close: was its leading hypothesis the root cause, a
contributing cause, only a symptom, or wrong (graded 100 / 65 / 35 / 0), and which runbook or
past case helped. The fix is the resolution given at close.

The close summary carries the buttons (`prompt`); a click is one row, written right after
it is acknowledged (`record`). What the outcomes are used for: related knowledge ranks by
them (engine/knowledge/related.py), the offline reasoner's confidences are calibrated by them
(engine/investigate/calibration.py), and `/faultmaven stats` counts them (accuracy.py).
"""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from engine.core.errors import CaseNotFound
from engine.core.models import Case, OutcomeRequest, OutcomeVerdict
from engine.core.replies import HelpedOption, OutcomePrompt
from engine.core.wording import clip
from engine.investigate.result import Hypothesis, Investigation
from engine.knowledge.postmortem import root_cause
from engine.store import audit, cases, investigation
from engine.store import outcomes as outcome_store

GRADES: dict[OutcomeVerdict, int] = {
    "root_cause": 100,
    "contributing": 65,
    "symptom": 35,
    "wrong": 0,
}
SAID: dict[OutcomeVerdict, str] = {
    "root_cause": "the root cause",
    "contributing": "a contributing cause",
    "symptom": "a symptom, not the cause",
    "wrong": "wrong",
}
HELPED_OPTIONS = 4  # the pages offered as "it helped": the latest shown
CASE_OUTCOME = "case.outcome"


def prompt_text(prompt: OutcomePrompt) -> str:
    """The close summary's line that asks for the grade (the buttons are under it)."""
    lines = []
    if prompt.statement:
        lines.append(
            f"📊 *How good was the leading hypothesis?* “{clip(prompt.statement, 160)}”: "
            "the root cause, contributing, only a symptom, or wrong? The grade ranks and "
            "calibrates the next cases like this one."
        )
    if prompt.helped:
        lines.append("Did one of the runbooks or past cases shown help? (optional)")
    return "\n".join(lines)


def _graded(hypothesis: Hypothesis) -> float:
    """The evidence's own score for it (people's confirmation lifts `confidence`)."""
    if hypothesis.evidence_confidence is not None:
        return hypothesis.evidence_confidence
    return hypothesis.confidence


class CaseOutcomes:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def prompt(self, case: Case, result: Investigation | None) -> OutcomePrompt | None:
        """What the close summary asks: the lead to grade and the pages shown; None when the
        case had neither."""
        _, lead = root_cause(result)
        shown = await outcome_store.shown_documents(self.pool, case.id)
        helped = [
            HelpedOption(
                document_id=d.id,
                kind="case" if d.tier == "case" else "runbook",
                title=d.title,
                link=d.link,
            )
            for d in shown[-HELPED_OPTIONS:]
        ]
        if lead is None and not helped:
            return None
        return OutcomePrompt(
            hypothesis_key=lead.id if lead else None,
            statement=lead.statement if lead else None,
            helped=helped,
        )

    async def record(self, req: OutcomeRequest) -> str:
        """Record a grade or a "this helped"; what to tell the person who clicked."""
        case = await cases.get(self.pool, req.case_id)
        if case is None or case.channel_id != req.channel_id:
            raise CaseNotFound(f"There is no case #{req.case_id} in this channel.")
        if case.status == "open":
            raise CaseNotFound(
                f"Case #{case.id} is open: grade it with the buttons of its close summary."
            )
        if req.verdict is not None:
            return await self._grade(case, req.verdict, req.hypothesis_key, req.user)
        if req.document_id is not None:
            return await self._helped(case, req.document_id, req.user)
        raise CaseNotFound("That button does not say what to record.")

    async def closing_lead(self, case_id: int) -> Hypothesis | None:
        """The hypothesis case `case_id` closed on, the one a grade is about (None: none)."""
        case = await cases.get(self.pool, case_id)
        return await self._lead(case) if case is not None else None

    async def _lead(self, case: Case) -> Hypothesis | None:
        """The hypothesis the case closed on (the confirmed one, else the leading one)."""
        last = await investigation.last_turn(self.pool, case.id)
        return root_cause(last.result if last else None)[1]

    async def _grade(self, case: Case, verdict: OutcomeVerdict, key: str | None, user: str) -> str:
        lead = await self._lead(case)
        if lead is None or lead.id != key:
            raise CaseNotFound(
                f"Case #{case.id}'s leading hypothesis is not the one that button grades any "
                "more (it was reopened and closed again): grade it on the latest close summary."
            )
        grade = GRADES[verdict]
        await outcome_store.record_verdict(
            self.pool,
            case_id=case.id,
            verdict=verdict,
            grade=grade,
            hypothesis_key=lead.id,
            signature=lead.signature,
            statement=lead.statement,
            confidence=_graded(lead),
            graded_by=user,
        )
        await audit.record(
            self.pool,
            actor=user,
            action=CASE_OUTCOME,
            case_id=case.id,
            target=lead.id,
            detail={"verdict": verdict, "grade": grade},
            team_id=case.team_id,
        )
        return (
            f"📊 Recorded for case #{case.id}: its leading hypothesis was {SAID[verdict]} "
            f"(grade {grade}). Cases like it will be ranked and calibrated by it."
        )

    async def _helped(self, case: Case, document_id: int, user: str) -> str:
        shown = {d.id: d for d in await outcome_store.shown_documents(self.pool, case.id)}
        document = shown.get(document_id)
        lead = await self._lead(case)
        if document is None or not await outcome_store.record_helped(
            self.pool,
            case_id=case.id,
            document_id=document_id,
            helped_by=user,
            hypothesis_key=lead.id if lead else None,
            signature=lead.signature if lead else None,
            statement=lead.statement if lead else None,
        ):
            raise CaseNotFound("That page is no longer in the knowledge base.")
        await audit.record(
            self.pool,
            actor=user,
            action=CASE_OUTCOME,
            case_id=case.id,
            target=f"document:{document_id}",
            detail={"helped": document.title},
            team_id=case.team_id,
        )
        return (
            f"📊 Noted for case #{case.id}: “{clip(document.title, 80)}” helped. It ranks higher "
            "for cases of the same failure."
        )
