"""The postmortem of a closed case, from what the case holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.core.models import Case, Feedback
from engine.evidence.analyze import analyze
from engine.evidence.reports import Evidence
from engine.investigate.result import Citation, Hypothesis, Investigation
from engine.knowledge.postmortem import CaseRecord, postmortem_markdown, root_cause
from engine.knowledge.related import fingerprint
from tests.samples import checkout_log

OPENED = datetime(2026, 11, 21, 14, 10, tzinfo=UTC)


def case(**extra: object) -> Case:
    fields: dict[str, object] = {
        "id": 12,
        "team_id": "T1",
        "channel_id": "C1",
        "thread_ts": "1.0",
        "title": "checkout 502s",
        "status": "resolved",
        "phase": "resolved",
        "opened_by": "U1",
        "resolution": "raised the payments-db pool to 50",
        "created_at": OPENED,
        "updated_at": OPENED + timedelta(minutes=95),
        "closed_at": OPENED + timedelta(minutes=95),
    }
    return Case.model_validate({**fields, **extra})


def pool(status: str = "confirmed", decided_by: str | None = "<@U2>") -> Hypothesis:
    return Hypothesis(
        id="db-pool-exhausted:payments-db",
        statement="The database connection pool is exhausted in payments-db",
        signature="db-pool-exhausted",
        component="payments-db",
        confidence=0.9,
        status=status,  # type: ignore[arg-type]
        decided_by=decided_by,
        supporting=[Citation(source="checkout.log", line=12, text="pool exhausted")],
    )


def dns() -> Hypothesis:
    return Hypothesis(
        id="dns:-", statement="Name resolution is failing", confidence=0.0, status="ruled_out"
    )


def record(hypotheses: list[Hypothesis], **extra: object) -> CaseRecord:
    report = analyze("checkout.log", checkout_log())
    evidence = Evidence(
        id=1,
        case_id=12,
        source_id="F1",
        name="checkout.log",
        kind="log",
        size_bytes=100,
        sha256=None,
        status="analysed",
        summary="checkout.log: 458 lines, 40 ERROR",
        report=report,
        created_at=OPENED,
    )
    result = Investigation(
        response_type="solution",
        phase="analyzing",
        working_conclusion="pool exhausted",
        confidence=0.9,
        hypotheses=hypotheses,
        next_steps=["Find the leaking transactions in pg_stat_activity"],
    )
    feedback = Feedback(
        id=1,
        case_id=12,
        hypothesis_key=pool().id,
        kind="confirm",
        author="<@U2>",
        text="",
        created_at=OPENED + timedelta(minutes=40),
    )
    fields: dict[str, object] = {
        "case": case(),
        "closed_by": "U3",
        "result": result,
        "evidence": [evidence],
        "history": [],
        "feedback": [feedback],
    }
    return CaseRecord(**{**fields, **extra})  # type: ignore[arg-type]


def section(markdown: str, title: str) -> str:
    return markdown.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0].strip()


def test_a_confirmed_cause_with_its_evidence_timeline_and_follow_ups() -> None:
    markdown = postmortem_markdown(record([pool(), dns()]))
    assert markdown.startswith("# Postmortem: case #12 — checkout 502s\n")
    assert "after 1 h 35 min" in markdown
    cause = section(markdown, "Root cause")
    assert cause.startswith("The database connection pool is exhausted in payments-db")
    assert "Confirmed by <@U2>." in cause
    assert "checkout.log line 12: `pool exhausted`" in cause
    assert "- Name resolution is failing" in cause  # ruled out, said so
    assert section(markdown, "Resolution").strip() == "raised the payments-db pool to 50"
    timeline = section(markdown, "Timeline (UTC)")
    assert "first error" in timeline and "(checkout.log)" in timeline
    assert "case opened by U1" in timeline and "resolved by U3" in timeline
    assert "<@U2> confirmed `db-pool-exhausted:payments-db`" in timeline
    impact = section(markdown, "Impact")
    assert "- Seen in the evidence: " in impact and "UTC (" in impact
    symptoms = section(markdown, "Symptoms")
    assert "`upstream payments-db: connection pool exhausted`" in symptoms
    follow = section(markdown, "Follow-ups")
    assert "- [ ] Find the leaking transactions in pg_stat_activity" in follow
    assert "`/faultmaven kb add`" in follow


def test_an_unconfirmed_lead_is_said_to_be_one() -> None:
    lead = pool(status="testing", decided_by=None)
    cause, chosen = root_cause(record([lead]).result)
    assert chosen == lead and cause.endswith("(not confirmed; 90%)")


def test_a_case_with_nothing_found_says_so() -> None:
    markdown = postmortem_markdown(record([], result=None, evidence=[], feedback=[]))
    assert section(markdown, "Root cause").strip() == "Not established."
    assert "## Symptoms" not in markdown and "Seen in the evidence" not in markdown


def test_the_fingerprint_is_the_lead_signature_and_component() -> None:
    assert fingerprint(record([dns(), pool()]).result) == {
        "signature:db-pool-exhausted",
        "component:payments-db",
    }
    assert fingerprint(None) == set()
