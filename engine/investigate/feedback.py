"""What people told the investigation, applied to its hypotheses every turn.

Two kinds of feedback: the Confirm / Rule out buttons on a hypothesis, and corrections typed
in the thread ("already checked DNS, it's fine", "payments-db looks healthy"). Both are kept
per case and re-applied at every turn, so a ruled-out idea stays ruled out even when the
engine (offline or LLM) proposes it again, and a confirmed one leads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from engine.core.models import Feedback
from engine.evidence.components import canonical
from engine.investigate.result import Citation, Hypothesis
from engine.investigate.signatures import about

Verdict = Literal["confirm", "rule_out"]
CONFIRMED = 0.9

# A clause that says something is not the problem. Checked before CONFIRM: "it's not X".
_RULE_OUT = re.compile(
    r"\b(?:already (?:checked|looked at|ruled out|verified)|ruled out|rule out|checked"
    r"|(?:it'?s|it is|it was|that'?s|that is|this is) not|isn'?t|wasn'?t|aren'?t|not the"
    r"|nothing wrong with|no (?:issues?|problems?) (?:with|in)"
    r"|(?:is|are|looks?|seems?) (?:fine|healthy|ok|okay|normal|good))\b",
    re.IGNORECASE,
)
_CONFIRM = re.compile(
    r"\b(?:confirmed|confirm|root cause (?:is|was)|(?:it|that) (?:was|is) (?:definitely|indeed)"
    r"|found it|that'?s it|culprit (?:is|was))\b",
    re.IGNORECASE,
)
_CLAUSES = re.compile(r"[.;!?\n]+|,\s*(?:but|and|so)\b|\bbut\b")
_NAME = re.compile(r"[A-Za-z][\w.-]*[\w]")


@dataclass(frozen=True)
class Correction:
    """One thing a person said about a failure kind or a component."""

    verdict: Verdict
    signatures: frozenset[str]
    components: frozenset[str]
    said: str


def corrections_in(text: str, components: set[str]) -> list[Correction]:
    """The corrections in a message, clause by clause; `components` are the names in play."""
    found: list[Correction] = []
    for clause in _CLAUSES.split(text):
        clause = clause.strip()
        if not clause:
            continue
        verdict: Verdict
        if _RULE_OUT.search(clause):
            verdict = "rule_out"
        elif _CONFIRM.search(clause):
            verdict = "confirm"
        else:
            continue
        signatures = frozenset(sig.id for sig in about(clause))
        named = frozenset(
            canonical(word) for word in _NAME.findall(clause) if canonical(word) in components
        )
        if signatures or named:
            found.append(Correction(verdict, signatures, named, clause))
    return found


def _matches(hypothesis: Hypothesis, correction: Correction) -> bool:
    component = canonical(hypothesis.component) if hypothesis.component else None
    same_kind = hypothesis.signature in correction.signatures
    same_place = component is not None and component in correction.components
    if correction.signatures and correction.components:
        return same_kind and same_place
    return same_kind or same_place


def _decide(hypothesis: Hypothesis, verdict: Verdict, who: str, said: str) -> Hypothesis:
    status = "confirmed" if verdict == "confirm" else "ruled_out"
    contradicting = hypothesis.contradicting
    if verdict == "rule_out" and said:
        contradicting = [*contradicting, Citation(source=f"thread ({who})", text=said)]
    # A person's word is stronger than any pattern count: confirmed leads, ruled out weighs 0.
    confidence = max(hypothesis.confidence, CONFIRMED) if verdict == "confirm" else 0.0
    return hypothesis.model_copy(
        update={
            "status": status,
            "decided_by": who,
            "contradicting": contradicting,
            "confidence": confidence,
            # An LLM turn's hypothesis carries the evidence's own score already; the
            # model's number is not one.
            "evidence_confidence": hypothesis.confidence
            if hypothesis.evidence_confidence is None
            else hypothesis.evidence_confidence,
        }
    )


def apply_feedback(hypotheses: list[Hypothesis], feedback: list[Feedback]) -> list[Hypothesis]:
    """Hypotheses with people's verdicts applied (later feedback wins), confirmed ones first,
    ruled-out ones last; the engine's order otherwise."""
    components = {canonical(h.component) for h in hypotheses if h.component}
    by_id = {h.id: h for h in hypotheses}
    for item in feedback:
        if item.kind != "note":
            verdict: Verdict = "confirm" if item.kind == "confirm" else "rule_out"
            key = item.hypothesis_key or ""
            if key in by_id:
                by_id[key] = _decide(by_id[key], verdict, item.author, "")
            continue
        for correction in corrections_in(item.text, components):
            for key, hypothesis in by_id.items():
                if _matches(hypothesis, correction):
                    by_id[key] = _decide(hypothesis, correction.verdict, item.author, item.text)
    ordered = [by_id[h.id] for h in hypotheses]
    order = {"confirmed": 0, "testing": 1, "proposed": 1, "ruled_out": 2}
    return sorted(ordered, key=lambda h: order[h.status])  # stable: engine order within a group


def feedback_lines(feedback: list[Feedback]) -> list[str]:
    """Feedback as the prompt states it: who said what about which hypothesis."""
    lines: list[str] = []
    for item in feedback:
        if item.kind == "note":
            lines.append(f"{item.author} said: {item.text}")
        else:
            verb = "confirmed" if item.kind == "confirm" else "ruled out"
            lines.append(f"{item.author} {verb} hypothesis {item.hypothesis_key}")
    return lines
