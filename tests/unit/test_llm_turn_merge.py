"""An LLM turn merged with what the case knows, through the real litellm client against the
fake OpenAI server: grounded citations, reused ids, people's verdicts, the model's memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.cases.summary import case_summary
from engine.core.models import Case, Feedback, Message
from engine.core.redact import Redactor
from engine.evidence.analyze import analyze, summarize_report
from engine.evidence.reports import Evidence
from engine.investigate.llm import LLM
from engine.investigate.result import Citation, Hypothesis, Investigation
from engine.investigate.turn import TurnInput, TurnOutcome, run_turn
from engine.knowledge.postmortem import CaseRecord, postmortem_markdown
from tests.fakes.llm_turns import turn
from tests.fakes.openai import FakeOpenAI, Reply
from tests.samples import checkout_log

LOG = checkout_log()
POOL_LINE = next(i for i, line in enumerate(LOG.decode().splitlines(), 1) if "exhausted" in line)
AT = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
# The offline reasoner's lead on this log: its id is "<signature>:<component>".
POOL_ID = "db-pool-exhausted:checkout"
REAL = {"source": "checkout.log", "text": "connection pool exhausted", "line": POOL_LINE}
INVENTED = {"source": "nonexistent.log", "text": "FATAL: disk quota exceeded", "line": 99999}
MADE_UP_LINE = {"source": "checkout.log", "text": "kernel: Out of memory: Killed process 4242"}
HEALTHY = "payments-db looks healthy, pool at 12/50"


@pytest.fixture
async def openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake


def the_case(phase: str = "diagnosing") -> Case:
    return Case(
        id=7,
        team_id="T1",
        channel_id="C1",
        thread_ts="1.0",
        title="checkout 502s",
        status="open",
        phase=phase,
        opened_by="U1",
        created_at=AT,
        updated_at=AT,
    )


def checkout_evidence() -> Evidence:
    report = analyze("checkout.log", LOG)
    return Evidence(
        id=1,
        case_id=7,
        source_id="F1",
        name="checkout.log",
        kind=report.kind,
        size_bytes=len(LOG),
        sha256=None,
        status="analysed",
        summary=summarize_report(report),
        report=report,
        created_at=AT,
    )


def message(text: str, author: str = "U2", number: int = 1) -> Message:
    return Message(
        id=number,
        case_id=7,
        ts=f"{number}.0",
        author=author,
        role="user",
        text=text,
        created_at=AT,
    )


async def read_file(item: Evidence) -> bytes | None:
    return LOG if item.name == "checkout.log" else None


def hypothesis(statement: str, **fields: Any) -> dict[str, Any]:
    return {"statement": statement, "confidence": 0.8, "status": "proposed", **fields}


async def run(
    openai: FakeOpenAI,
    reply: str,
    *,
    known: list[Hypothesis] | None = None,
    feedback: list[Feedback] | None = None,
    history: list[Message] | None = None,
    phase: str = "diagnosing",
    **given: Any,
) -> TurnOutcome:
    openai.script(Reply(reply))
    llm = LLM(["openai/fake-model"], api_base=openai.base_url, api_key="sk-fake", timeout_s=5)
    history = history or [message("checkout 502s since 14:00, what broke?", "U1")]

    async def quiet(status: str) -> None:
        pass

    return await run_turn(
        TurnInput(
            case=the_case(phase),
            history=history,
            evidence=[checkout_evidence()],
            feedback=feedback or [],
            known=known or [],
            questions=[history[-1]],
            read_file=read_file,
            **given,
        ),
        llm=llm,
        redactor=Redactor(),
        deadline_s=30,
        budget_tokens=6000,
        progress=quiet,
    )


def cited(result: Investigation) -> list[Citation]:
    return [c for h in result.hypotheses for c in [*h.supporting, *h.contradicting]]


async def test_loose_citation_forms_cost_no_repair(openai: FakeOpenAI) -> None:
    loose = [
        {"source": f"checkout.log:{POOL_LINE}", "text": "connection pool exhausted"},
        {
            "source": "checkout.log",
            "text": "connection pool exhausted",
            "line": f"L{POOL_LINE}",
            "at": "14:02",
        },
        {
            "source": "checkout.log",
            "text": "connection pool exhausted",
            "line": f"line {POOL_LINE}",
        },
    ]
    outcome = await run(openai, turn("The pool.", hypothesis("pool exhausted", supporting=loose)))

    assert outcome.engine == "llm"
    assert len(openai.requests) == 1, "a loose form must not cost a repair call"
    check = outcome.result.citations
    assert check is not None and (check.kept, check.normalised, check.dropped) == (3, 3, [])
    [lead] = outcome.result.hypotheses
    assert {c.line for c in lead.supporting} == {POOL_LINE}
    assert any(c.at == datetime(2026, 11, 21, 14, 2, tzinfo=UTC) for c in lead.supporting)


async def test_no_ungrounded_citation_reaches_the_summary_or_the_postmortem(
    openai: FakeOpenAI,
) -> None:
    reply = turn(
        "Disk quota, surely.",
        hypothesis(
            "disk quota exceeded on checkout", confidence=0.9, supporting=[INVENTED, MADE_UP_LINE]
        ),
        hypothesis("pool exhausted", confidence=0.7, supporting=[REAL, INVENTED]),
        confidence=0.9,
    )
    outcome = await run(openai, reply)
    result = outcome.result

    texts = [c.text for c in cited(result)]
    assert texts == ["connection pool exhausted"]
    check = result.citations
    assert check is not None and len(check.dropped) == 3
    assert {d.source for d in check.dropped} == {"nonexistent.log", "checkout.log"}
    assert "3 citations not found in the case left out" in outcome.footer
    disk, pool = result.hypotheses
    assert disk.confidence == 0.4  # all of its proof invented: capped below analysis
    assert pool.confidence == pytest.approx(0.56)  # one invented proof of two
    assert result.confidence == 0.4  # the conclusion rests on its lead

    summary = case_summary(the_case(), result)
    record = CaseRecord(
        case=the_case().model_copy(update={"status": "resolved", "closed_at": AT}),
        closed_by="U1",
        result=result,
        evidence=[checkout_evidence()],
        history=[],
    )
    shown = summary.model_dump_json() + postmortem_markdown(record)
    for invented in ("nonexistent.log", "99999", "FATAL: disk quota", "Killed process"):
        assert invented not in shown
    assert "connection pool exhausted (checkout.log)" in shown


async def test_a_reused_id_keeps_its_signature_and_evidence_score(openai: FakeOpenAI) -> None:
    """So a strong LLM lead on a known failure reaches analysis, as the offline one would."""
    reply = turn(
        "Pool.", hypothesis("pool exhausted", id=POOL_ID, confidence=0.85, supporting=[REAL])
    )
    outcome = await run(openai, reply)

    [lead] = outcome.result.hypotheses
    assert lead.id == POOL_ID and lead.signature == "db-pool-exhausted"
    assert lead.evidence_confidence == pytest.approx(0.597)  # the offline reasoner's own score
    assert lead.confidence == 0.85
    assert outcome.phase.phase == "analyzing"


async def test_a_confirmed_hypothesis_the_model_leaves_out_stays_confirmed(
    openai: FakeOpenAI,
) -> None:
    confirmed = Hypothesis(
        id="llm:payments-db:pool-too-small",
        statement="the payments-db pool is too small for the traffic",
        component="payments-db",
        confidence=0.9,
        evidence_confidence=0.7,
        status="confirmed",
        decided_by="U2",
    )
    feedback = [
        Feedback(
            id=1,
            case_id=7,
            hypothesis_key=confirmed.id,
            kind="confirm",
            author="U2",
            text="",
            created_at=AT,
        )
    ]
    reply = turn("Maybe the release.", hypothesis("checkout v142 release", confidence=0.5))
    outcome = await run(openai, reply, known=[confirmed], feedback=feedback, phase="analyzing")

    kept = next(h for h in outcome.result.hypotheses if h.id == confirmed.id)
    assert kept.status == "confirmed" and kept.decided_by == "U2"
    assert outcome.phase.phase == "analyzing", outcome.phase.reason
    assert "contradicts" not in outcome.phase.reason
    assert outcome.result.working_conclusion.endswith("(confirmed by U2)")


async def test_a_model_rules_out_only_with_evidence_the_case_holds(openai: FakeOpenAI) -> None:
    history = [message(HEALTHY, "U2", 1), message("so what is it?", "U1", 2)]
    unproven = hypothesis("pool exhausted", id=POOL_ID, status="ruled_out", confidence=0.1)
    invented = {**unproven, "contradicting": [INVENTED]}
    proven = {**unproven, "contradicting": [{"source": "thread", "text": "pool at 12/50"}]}

    outcome = await run(openai, turn("Not the pool?", unproven), history=history)
    [lead] = outcome.result.hypotheses
    assert lead.status != "ruled_out"
    outcome = await run(openai, turn("Not the pool?", invented), history=history)
    [lead] = outcome.result.hypotheses
    assert lead.status != "ruled_out" and not lead.contradicting
    outcome = await run(openai, turn("Not the pool.", proven), history=history)
    [lead] = outcome.result.hypotheses
    assert lead.status == "ruled_out"
    assert lead.contradicting == [Citation(source="thread (U2)", text="pool at 12/50", at=AT)]


async def test_the_model_sees_its_previous_hypotheses_and_where_each_came_from(
    openai: FakeOpenAI,
) -> None:
    own = Hypothesis(
        id="llm:checkout:retry-storm",
        statement="a retry storm from checkout overloads payments-db",
        component="checkout",
        confidence=0.55,
    )
    people = Hypothesis(
        id="dns-failure:-",
        statement="name resolution fails",
        confidence=0.0,
        status="ruled_out",
        decided_by="U3",
    )
    previous = Investigation(
        response_type="answer",
        phase="diagnosing",
        working_conclusion="probably a retry storm",
        confidence=0.55,
        hypotheses=[own, people],
    )
    reply = turn("Still the storm.", hypothesis(f"[model] {own.statement}", id=own.id))
    outcome = await run(
        openai, reply, known=[own, people], previous=previous, previous_engine="llm"
    )

    prompt = next(m["content"] for m in openai.requests[-1].messages if m["role"] == "user")
    state = prompt.split("<case_state>")[1].split("</case_state>")[0]
    assert "[model, last turn] probably a retry storm" in state
    assert "[offline analysis now] The database connection pool is exhausted" in state
    assert f"[{own.id}] proposed, confidence 55%: [model] {own.statement}" in state
    assert "[ruled out by U3] name resolution fails" in state
    assert f"[{POOL_ID}] proposed, confidence 60%: [offline analysis] The database" in state
    # The model copied the tag back: the stored statement is its own words only.
    [restated] = [h for h in outcome.result.hypotheses if h.id == own.id]
    assert restated.statement == own.statement


async def test_a_confirmed_model_hypothesis_stays_confirmed_when_the_turn_falls_back_offline(
    openai: FakeOpenAI,
) -> None:
    """The offline reasoner cannot speak of a model's hypothesis: not finding it is no
    contradiction."""
    confirmed = Hypothesis(
        id="llm:payments-db:pool-too-small",
        statement="the payments-db pool is too small for the traffic",
        confidence=0.9,
        status="confirmed",
        decided_by="U2",
    )
    openai.script(Reply("I think it is the database."))  # prose, then prose again: offline
    outcome = await run(openai, "Really, the database.", known=[confirmed], phase="analyzing")

    assert outcome.engine == "offline"
    assert outcome.phase.phase == "analyzing", outcome.phase.reason
    assert outcome.result.hypotheses[0].id == confirmed.id
