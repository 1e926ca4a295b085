"""The offline reasoner's confidences calibrated per failure signature by the team's graded
outcomes (engine/investigate/calibration.py)."""

from __future__ import annotations

import pytest

from engine.investigate.calibration import (
    CEILING,
    MAX_SHIFT,
    MIN_OUTCOMES,
    Calibration,
    SignatureRecord,
)
from engine.investigate.reasoner import investigate_offline
from engine.investigate.result import Citation, Hypothesis
from tests.unit.test_reasoner import incident_reports


def record(signature: str, grades: list[int]) -> SignatureRecord:
    return SignatureRecord(signature, len(grades), sum(grades) / 100)


def backed(signature: str, confidence: float) -> Hypothesis:
    return Hypothesis(
        id=f"{signature}:svc",
        statement=signature,
        signature=signature,
        confidence=confidence,
        supporting=[Citation(source="app.log", text="1× boom")],
    )


def test_fewer_than_the_minimum_outcomes_change_nothing() -> None:
    calibration = Calibration([record("tls", [100] * (MIN_OUTCOMES - 1))])
    assert not calibration
    assert calibration.confidence("tls", 0.5) == 0.5


def test_a_signature_always_right_rises_and_one_always_wrong_falls() -> None:
    calibration = Calibration([record("tls", [100, 100, 100]), record("http-5xx", [0, 35, 0])])
    assert calibration.confidence("tls", 0.6) > 0.6
    assert calibration.confidence("http-5xx", 0.6) < 0.6
    assert calibration.confidence("dns", 0.6) == 0.6  # no outcomes of its own


def test_more_outcomes_move_it_further_within_bounds() -> None:
    few = Calibration([record("tls", [100] * 3)]).confidence("tls", 0.6)
    many = Calibration([record("tls", [100] * 30)]).confidence("tls", 0.6)
    assert 0.6 < few < many <= 0.6 + MAX_SHIFT
    assert Calibration([record("oom", [100] * 50)]).confidence("oom", 0.9) <= CEILING
    assert Calibration([record("oom", [0] * 50)]).confidence("oom", 0.9) >= 0.9 - MAX_SHIFT


def test_only_hypotheses_the_evidence_backs_are_calibrated() -> None:
    calibration = Calibration([record("tls", [100] * 5)])
    said_in_thread = backed("tls", 0.1).model_copy(update={"supporting": []})
    assert calibration.apply(said_in_thread).confidence == 0.1
    assert calibration.apply(backed("tls", 0.5)).confidence > 0.5


@pytest.mark.parametrize(("grades", "moves"), [([0, 0, 0, 35], "down"), ([100] * 4, "none")])
def test_the_reasoner_takes_the_calibration_and_reorders_by_it(
    grades: list[int], moves: str
) -> None:
    plain = investigate_offline("checkout is failing", [], incident_reports())
    lead = plain.hypotheses[0]
    assert lead.signature == "db-pool-exhausted"
    calibration = Calibration([record("db-pool-exhausted", grades)])
    calibrated = investigate_offline("checkout is failing", [], incident_reports(), calibration)
    same = next(h for h in calibrated.hypotheses if h.id == lead.id)
    if moves == "down":
        assert same.confidence < lead.confidence
        assert calibrated.confidence == calibrated.hypotheses[0].confidence
    else:  # at the reasoner's ceiling already: right every time keeps it there
        assert same.confidence == lead.confidence
