"""The phase of a case, from its evidence and hypotheses, and why it changed.

consulting  no evidence yet: talking about the problem, asking for data.
diagnosing  evidence in: blast radius, timeline, suspects and hypotheses are being formed.
analyzing   a leading hypothesis (confirmed by a person, or strong in the evidence) is being
            validated and a fix worked out.
resolved    the case was closed.

A case may go back: from analyzing to diagnosing when new evidence contradicts the confirmed
hypothesis, or when people rule out every hypothesis that was leading.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.investigate.result import Hypothesis, Phase

LEADING = 0.6  # a hypothesis this strong in the evidence alone is worth validating
CONTRADICTION_DROP = 0.25  # confidence falling this much on new evidence contradicts it


@dataclass(frozen=True)
class PhaseDecision:
    phase: Phase
    reason: str


def contradicted(before: list[Hypothesis], engine_now: list[Hypothesis]) -> list[Hypothesis]:
    """Confirmed hypotheses whose support the evidence no longer gives.

    People's Confirm holds; but when a later turn's evidence scores the same hypothesis much
    lower (or not at all), the team should hear that the evidence now disagrees. Both scores
    are the evidence's own, before anyone's verdict (`engine_now` is the engine's raw turn).
    """
    current = {h.id: h for h in engine_now}
    found: list[Hypothesis] = []
    for old in before:
        if old.status != "confirmed":
            continue
        was = old.evidence_confidence if old.evidence_confidence is not None else old.confidence
        new = current.get(old.id)
        if new is None or new.confidence <= was - CONTRADICTION_DROP:
            found.append(old)
    return found


def next_phase(
    current: str,
    *,
    has_evidence: bool,
    hypotheses: list[Hypothesis],
    contradictions: list[Hypothesis],
) -> PhaseDecision:
    if current == "resolved":
        return PhaseDecision("resolved", "the case is closed")
    if contradictions:
        names = ", ".join(h.statement for h in contradictions[:2])
        return PhaseDecision("diagnosing", f"new evidence contradicts: {names}")
    live = [h for h in hypotheses if h.status != "ruled_out"]
    confirmed = [h for h in live if h.status == "confirmed"]
    if confirmed:
        who = f" by {confirmed[0].decided_by}" if confirmed[0].decided_by else ""
        return PhaseDecision("analyzing", f"confirmed{who}: {confirmed[0].statement}")
    if not has_evidence:
        return PhaseDecision("consulting", "no evidence yet")
    strong = [h for h in live if h.confidence >= LEADING and h.signature]
    if strong:
        return PhaseDecision(
            "analyzing", f"leading hypothesis ({strong[0].confidence:.0%}): {strong[0].statement}"
        )
    if current == "analyzing" and hypotheses and not live:
        return PhaseDecision("diagnosing", "every hypothesis was ruled out")
    if current == "analyzing":
        return PhaseDecision("diagnosing", "no hypothesis leads any more")
    return PhaseDecision("diagnosing", "evidence is in: forming hypotheses")
