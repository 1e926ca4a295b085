"""What live checks said about hypotheses, applied every turn like people's feedback.

A check that supports a hypothesis confirms it, naming the check as who decided (a person's
later word still wins: feedback is applied after); one that contradicts it halves its
confidence and says why. Later checks of the same hypothesis win.
"""

from __future__ import annotations

from engine.core.tool_runs import CheckResult
from engine.investigate.result import Citation, Hypothesis

CONFIRMED = 0.9
WEAKENED = 0.5  # a contradicting check halves the confidence: data, not a person's word
CHECK_SOURCE = "live check"


def apply_checks(hypotheses: list[Hypothesis], checks: list[CheckResult]) -> list[Hypothesis]:
    by_id = {h.id: h for h in hypotheses}
    latest: dict[str, CheckResult] = {}
    for check in checks:
        if check.ok and check.verdict != "unclear":
            latest[check.hypothesis_key] = check
    for key, check in latest.items():
        hypothesis = by_id.get(key)
        if hypothesis is None:
            continue
        said = Citation(source=CHECK_SOURCE, text=f"{check.call}: {check.summary}")
        if check.verdict == "supports":
            by_id[key] = hypothesis.model_copy(
                update={
                    "status": "confirmed",
                    "decided_by": f"check `{check.call}`",
                    "confidence": max(hypothesis.confidence, CONFIRMED),
                    "supporting": [said, *hypothesis.supporting],
                    "evidence_confidence": hypothesis.evidence_confidence
                    if hypothesis.evidence_confidence is not None
                    else hypothesis.confidence,
                }
            )
        else:
            by_id[key] = hypothesis.model_copy(
                update={
                    "confidence": round(hypothesis.confidence * WEAKENED, 3),
                    "contradicting": [said, *hypothesis.contradicting],
                }
            )
    return [by_id[h.id] for h in hypotheses]
