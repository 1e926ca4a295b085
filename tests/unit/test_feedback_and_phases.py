"""What people say changes the hypotheses; the phase follows the evidence and the verdicts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.core.models import Feedback, FeedbackKind
from engine.investigate.feedback import apply_feedback, corrections_in, feedback_lines
from engine.investigate.phases import contradicted, next_phase
from engine.investigate.result import Hypothesis

NOW = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)


def hypothesis(
    key: str, signature: str | None, component: str | None, confidence: float, **extra: object
) -> Hypothesis:
    return Hypothesis(
        id=key,
        statement=f"{signature or 'suspect'} in {component}",
        signature=signature,
        component=component,
        confidence=confidence,
        **extra,  # type: ignore[arg-type]
    )


def feedback(kind: FeedbackKind, text: str = "", key: str | None = None) -> Feedback:
    return Feedback(
        id=1,
        case_id=1,
        hypothesis_key=key,
        kind=kind,
        author="<@U2>",
        text=text,
        created_at=NOW,
    )


POOL = hypothesis("db-pool-exhausted:payments", "db-pool-exhausted", "payments", 0.7)
DNS = hypothesis("dns:checkout", "dns", "checkout", 0.4)
TIMEOUT = hypothesis("timeout:checkout", "timeout", "checkout", 0.3)
SUSPECT = hypothesis("suspect:payments-db", None, "payments-db", 0.2)


@pytest.mark.parametrize(
    ("said", "verdict", "signatures", "components"),
    [
        ("already checked DNS, it's fine", "rule_out", {"dns"}, set()),
        ("payments-db looks healthy", "rule_out", set(), {"payments-db"}),
        ("it's not the connection pool", "rule_out", {"db-pool-exhausted"}, set()),
        ("Confirmed: the pool is exhausted", "confirm", {"db-pool-exhausted"}, set()),
        ("root cause was the expired cert", "confirm", {"tls"}, set()),
    ],
)
def test_corrections_are_read_from_what_people_type(
    said: str, verdict: str, signatures: set[str], components: set[str]
) -> None:
    [correction] = corrections_in(said, {"payments-db", "checkout"})
    assert correction.verdict == verdict
    assert correction.signatures == signatures
    assert correction.components == components


@pytest.mark.parametrize(
    "said",
    ["we deployed checkout v142 at 13:58", "checkout is slow since 14:00", "any idea?", ""],
)
def test_ordinary_chat_is_not_a_correction(said: str) -> None:
    assert corrections_in(said, {"payments-db", "checkout"}) == []


def test_a_ruled_out_idea_goes_to_the_bottom_and_stays_there() -> None:
    ranked = apply_feedback(
        [POOL, DNS, TIMEOUT], [feedback("rule_out", key="db-pool-exhausted:payments")]
    )
    assert [h.id for h in ranked] == ["dns:checkout", "timeout:checkout", POOL.id]
    assert ranked[-1].status == "ruled_out" and ranked[-1].confidence == 0.0
    assert ranked[-1].decided_by == "<@U2>"


def test_a_confirmed_idea_leads_whatever_the_engine_scored() -> None:
    ranked = apply_feedback([POOL, DNS, TIMEOUT], [feedback("confirm", key="timeout:checkout")])
    assert ranked[0].id == "timeout:checkout"
    assert ranked[0].status == "confirmed" and ranked[0].confidence >= 0.9


def test_a_typed_correction_rules_out_every_hypothesis_it_names() -> None:
    dns_elsewhere = hypothesis("dns:payments", "dns", "payments", 0.35)
    ranked = apply_feedback(
        [DNS, POOL, dns_elsewhere], [feedback("note", "already checked DNS, all fine")]
    )
    statuses = {h.id: h.status for h in ranked}
    assert statuses == {
        "dns:checkout": "ruled_out",
        "dns:payments": "ruled_out",
        "db-pool-exhausted:payments": "proposed",
    }
    # The reason is kept as evidence against it, in the person's words.
    assert ranked[-1].contradicting[0].text == "already checked DNS, all fine"


def test_a_component_named_healthy_rules_out_its_hypotheses_only() -> None:
    ranked = apply_feedback([POOL, SUSPECT, DNS], [feedback("note", "payments-db looks healthy")])
    assert {h.id for h in ranked if h.status == "ruled_out"} == {"suspect:payments-db"}


def test_later_feedback_wins() -> None:
    ranked = apply_feedback(
        [POOL, DNS],
        [
            feedback("rule_out", key="dns:checkout"),
            feedback("confirm", key="dns:checkout"),
        ],
    )
    assert ranked[0].id == "dns:checkout" and ranked[0].status == "confirmed"


def test_feedback_is_stated_for_the_prompt() -> None:
    lines = feedback_lines(
        [feedback("confirm", key="dns:checkout"), feedback("note", "already checked DNS")]
    )
    assert lines == [
        "<@U2> confirmed hypothesis dns:checkout",
        "<@U2> said: already checked DNS",
    ]


def test_no_evidence_is_consulting() -> None:
    decision = next_phase("consulting", has_evidence=False, hypotheses=[DNS], contradictions=[])
    assert decision.phase == "consulting"


def test_evidence_without_a_strong_lead_is_diagnosing() -> None:
    decision = next_phase("consulting", has_evidence=True, hypotheses=[DNS], contradictions=[])
    assert decision.phase == "diagnosing"


def test_a_strong_or_confirmed_lead_is_analyzing() -> None:
    strong = next_phase("diagnosing", has_evidence=True, hypotheses=[POOL], contradictions=[])
    assert strong.phase == "analyzing" and "70%" in strong.reason
    confirmed = DNS.model_copy(update={"status": "confirmed", "decided_by": "<@U2>"})
    decision = next_phase(
        "diagnosing", has_evidence=True, hypotheses=[confirmed], contradictions=[]
    )
    assert decision.phase == "analyzing" and "by <@U2>" in decision.reason


def test_ruling_out_every_lead_goes_back_to_diagnosing() -> None:
    out = POOL.model_copy(update={"status": "ruled_out", "confidence": 0.0})
    decision = next_phase("analyzing", has_evidence=True, hypotheses=[out], contradictions=[])
    assert decision.phase == "diagnosing"
    assert decision.reason == "every hypothesis was ruled out"


def test_new_evidence_against_a_confirmed_hypothesis_goes_back_to_diagnosing() -> None:
    confirmed = POOL.model_copy(update={"status": "confirmed", "confidence": 0.9})
    weaker = POOL.model_copy(update={"confidence": 0.3})
    found = contradicted([confirmed], [weaker])
    assert found == [confirmed]
    decision = next_phase("analyzing", has_evidence=True, hypotheses=[weaker], contradictions=found)
    assert decision.phase == "diagnosing"
    assert decision.reason.startswith("new evidence contradicts")
    # The same hypothesis as strong as before is no contradiction.
    assert contradicted([confirmed], [confirmed]) == []


def test_a_closed_case_stays_resolved() -> None:
    decision = next_phase("resolved", has_evidence=True, hypotheses=[POOL], contradictions=[])
    assert decision.phase == "resolved"


def test_contradiction_compares_the_evidence_not_the_confirmation() -> None:
    """A Confirm lifts the shown confidence; only the evidence's own score can contradict."""
    confirmed = POOL.model_copy(
        update={"status": "confirmed", "confidence": 0.9, "evidence_confidence": 0.5}
    )
    assert contradicted([confirmed], [POOL.model_copy(update={"confidence": 0.45})]) == []
    assert contradicted([confirmed], [POOL.model_copy(update={"confidence": 0.2})]) == [confirmed]
    assert contradicted([confirmed], []) == [confirmed], "gone from the evidence entirely"
