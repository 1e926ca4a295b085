"""The offline reasoner's confidences, calibrated per failure signature by the team's outcomes.

When a case closes, people grade its leading hypothesis (root cause 100, contributing 65, a
symptom 35, wrong 0; engine/cases/outcomes.py). A signature the team has graded at least
MIN_OUTCOMES times gets a smoothed hit rate: a Beta posterior whose prior is the reasoner's
own confidence for this case, worth PRIOR_STRENGTH outcomes, and whose observations are the
grades (as fractions). So a few outcomes move a confidence a little, many move it more, and
the evidence of the case at hand still counts. The move is bounded (MAX_SHIFT) and only
hypotheses the evidence backs are calibrated: a signature someone merely mentioned in the
thread does not become likely because the team's past ones were right.

The table comes from the caller (engine/cases/turns.py reads it from the store): this layer
never reads the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.investigate.result import Hypothesis

MIN_OUTCOMES = 3
PRIOR_STRENGTH = 4.0
MAX_SHIFT = 0.25
CEILING = 0.95  # the reasoner's own ceiling: only people confirm


@dataclass(frozen=True)
class SignatureRecord:
    """The team's graded outcomes whose leading hypothesis had this signature."""

    signature: str
    graded: int
    credit: float  # the grades summed as fractions: 3 root causes and a wrong one = 3.0


class Calibration:
    def __init__(self, records: Iterable[SignatureRecord] = ()) -> None:
        self.records = {r.signature: r for r in records if r.graded >= MIN_OUTCOMES}

    def __bool__(self) -> bool:
        return bool(self.records)

    def confidence(self, signature: str | None, prior: float) -> float:
        """`prior` (the reasoner's confidence) moved toward the team's hit rate for the
        signature; `prior` itself when the team has too few outcomes for it."""
        record = self.records.get(signature or "")
        if record is None:
            return prior
        posterior = (PRIOR_STRENGTH * prior + record.credit) / (PRIOR_STRENGTH + record.graded)
        shift = max(-MAX_SHIFT, min(MAX_SHIFT, posterior - prior))
        return round(max(0.0, min(CEILING, prior + shift)), 3)

    def apply(self, hypothesis: Hypothesis) -> Hypothesis:
        """The hypothesis with its confidence calibrated, when the evidence backs it."""
        if not hypothesis.supporting or hypothesis.signature not in self.records:
            return hypothesis
        calibrated = self.confidence(hypothesis.signature, hypothesis.confidence)
        return hypothesis.model_copy(update={"confidence": calibrated})
