"""The case summary people read at the top of a thread, from a turn's result."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.cases.summary import case_summary
from engine.core.models import Case
from engine.investigate.result import Citation, Hypothesis, Investigation

NOW = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)


def case(status: str = "open") -> Case:
    return Case(
        id=7,
        team_id="T1",
        channel_id="C1",
        thread_ts="1.0",
        title="checkout 502s",
        status=status,  # type: ignore[arg-type]
        phase="diagnosing",
        opened_by="U1",
        created_at=NOW,
        updated_at=NOW,
    )


def result(**extra: object) -> Investigation:
    fields: dict[str, object] = {
        "response_type": "answer",
        "phase": "analyzing",
        "working_conclusion": "payments exhausted its pool at 14:05",
        "confidence": 0.8,
        "hypotheses": [
            Hypothesis(
                id="db-pool-exhausted:payments",
                statement="The pool is exhausted in payments",
                confidence=0.8,
                status="testing",
                supporting=[Citation(source="payments.json", text="250× could not get connection")],
            ),
            Hypothesis(
                id="dns:-",
                statement="Name resolution is failing",
                confidence=0.0,
                status="ruled_out",
                decided_by="<@U2>",
            ),
        ],
        "next_steps": ["Count active connections (`SELECT count(*) FROM pg_stat_activity;`)"],
        "commands": ["SELECT count(*) FROM pg_stat_activity;", "kubectl -n shop top pods"],
    }
    fields.update(extra)
    return Investigation.model_validate(fields)


def test_the_summary_reads_phase_conclusion_hypotheses_and_steps() -> None:
    summary = case_summary(case(), result(), footer="Offline analysis")
    assert summary.phase == "analyzing"
    assert summary.text.splitlines()[0] == "*Case #7: checkout 502s* · 🧪 analyzing"
    assert "*Working conclusion:* payments exhausted its pool at 14:05" in summary.text
    assert "1. 🧪 The pool is exhausted in payments — 80%" in summary.text
    assert "2. 🚫 Name resolution is failing — 0% (ruled out by <@U2>)" in summary.text
    assert summary.hypotheses[0].evidence == "250× could not get connection (payments.json)"


def test_commands_not_already_in_a_step_get_their_own_line() -> None:
    steps = case_summary(case(), result()).next_steps
    assert steps[-1] == "Run `kubectl -n shop top pods`"
    assert sum("pg_stat_activity" in step for step in steps) == 1


def test_a_running_turn_shows_its_status_and_a_closed_case_reads_resolved() -> None:
    running = case_summary(case(), None, status="reading 3 files…")
    assert running.text.endswith("⏳ reading 3 files…")
    assert running.working_conclusion == "Not investigated yet."
    assert case_summary(case("resolved"), result()).phase == "resolved"
