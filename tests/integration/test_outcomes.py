"""How cases ended, and what it changes: the grade of the leading hypothesis and the page that
helped, recorded at close; past cases whose fix held before those reopened, a runbook that
helped first for the same failure, the offline reasoner's confidences calibrated per failure
signature, and the accuracy figures. Real Postgres + pgvector, the real MiniLM model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from bot.cli.main import app
from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.errors import CaseNotFound
from engine.core.models import (
    CloseCaseRequest,
    FilesRequest,
    KnowledgeAddRequest,
    MentionRequest,
    OutcomeRequest,
    OutcomeVerdict,
    ReopenCaseRequest,
    ThreadRef,
)
from engine.core.replies import CaseClosedReply, KnowledgeLine, KnowledgeReply
from engine.investigate.result import Hypothesis
from engine.store import audit
from engine.store import outcomes as outcome_store
from tests.fakes.memory import MemoryFiles, MemoryReplier
from tests.integration.test_related_evidence import expired_certificate_incident

pytestmark = pytest.mark.integration

SCENARIOS = Path(__file__).parents[1] / "scenarios" / "cases"
POOL_NOTE = (
    "# Payments database pool\n\nWhen payments logs `connection pool exhausted` or HikariPool "
    "timeouts, look for sessions idle in transaction in pg_stat_activity, restart the leaking "
    "worker, then raise maximumPoolSize."
)


def scenario(name: str) -> dict[str, bytes]:
    folder = SCENARIOS / name
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "answer.yaml"
    }


class Desk:
    """Cases opened, closed and graded as people do, through the service."""

    def __init__(self, service: CaseService, files: MemoryFiles, replier: MemoryReplier) -> None:
        self.service, self.files, self.replier = service, files, replier
        self.opened = 0

    async def incident(
        self, evidence: dict[str, bytes], *, channel: str = "C1", team: str = "T1"
    ) -> ThreadRef:
        self.opened += 1
        ts = f"17000{self.opened:05d}.1"
        thread = ThreadRef(team_id=team, channel_id=channel, thread_ts=ts)
        await self.service.answer_mention(
            MentionRequest(thread=thread, ts=ts, user="U1", text="what broke?"), key=f"m{ts}"
        )
        refs = [self.files.add(f"{ts}:{n}", n, data) for n, data in evidence.items()]
        await self.service.add_files(
            FilesRequest(thread=thread, ts=f"{ts}1", user="U1", text="", files=refs),
            key=f"f{ts}",
        )
        return thread

    async def close(self, thread: ThreadRef, fix: str = "renewed it") -> CaseClosedReply:
        case = await self.service.case_for_thread(thread.channel_id, thread.thread_ts)
        assert case is not None
        reply = await self.service.close_case(
            CloseCaseRequest(case_id=case.id, user="U1", resolution=fix),
            key=f"close:{case.id}:{self.opened}",
        )
        assert isinstance(reply, CaseClosedReply)
        return reply

    async def grade(
        self, closed: CaseClosedReply, verdict: OutcomeVerdict, *, channel: str = "C1"
    ) -> str:
        assert closed.outcome is not None and closed.outcome.hypothesis_key
        return await self.service.record_outcome(
            OutcomeRequest(
                case_id=closed.case_id,
                user="U2",
                channel_id=channel,
                verdict=verdict,
                hypothesis_key=closed.outcome.hypothesis_key,
            )
        )

    async def helped(self, closed: CaseClosedReply, title: str) -> str:
        assert closed.outcome is not None
        [option] = [o for o in closed.outcome.helped if o.title == title]
        return await self.service.record_outcome(
            OutcomeRequest(
                case_id=closed.case_id, user="U3", channel_id="C1", document_id=option.document_id
            )
        )

    def related(self, thread: ThreadRef, kind: str) -> list[KnowledgeLine]:
        return [
            line
            for posted in self.replier.in_thread(thread.thread_ts)
            if isinstance(posted.latest, KnowledgeReply)
            for line in posted.latest.lines
            if line.kind == kind
        ]

    async def hypothesis(self, thread: ThreadRef, signature: str) -> Hypothesis:
        case = await self.service.case_for_thread(thread.channel_id, thread.thread_ts)
        assert case is not None
        hypotheses = await self.service.case_hypotheses(case.id)
        return next(h for h in hypotheses if h.signature == signature)


@pytest.fixture
def desk(service: CaseService, files: MemoryFiles, replier: MemoryReplier) -> Desk:
    return Desk(service, files, replier)


@pytest.fixture
async def desk_with_runbooks(
    pool: AsyncConnectionPool, settings: Settings, files: MemoryFiles, replier: MemoryReplier
) -> Desk:
    with_runbooks = settings.model_copy(update={"starter_knowledge": True})
    service = CaseService(pool, with_runbooks, replier=replier, files=files)
    await service.prepare_knowledge()
    return Desk(service, files, replier)


async def test_a_close_asks_for_the_grade_and_keeps_the_latest(
    desk: Desk, pool: AsyncConnectionPool
) -> None:
    thread = await desk.incident(expired_certificate_incident())
    lead = await desk.hypothesis(thread, "tls")
    case = await desk.service.case_for_thread("C1", thread.thread_ts)
    assert case is not None
    with pytest.raises(CaseNotFound, match="is open"):
        await desk.service.record_outcome(
            OutcomeRequest(
                case_id=case.id, user="U2", channel_id="C1", verdict="wrong", hypothesis_key="x"
            )
        )

    closed = await desk.close(thread, "renewed the provider's certificate")
    assert closed.outcome is not None
    assert (closed.outcome.hypothesis_key, closed.outcome.statement) == (lead.id, lead.statement)
    assert "How good was the leading hypothesis?" in closed.text

    said = await desk.grade(closed, "root_cause")
    assert "its leading hypothesis was the root cause (grade 100)" in said
    assert "(grade 0)" in await desk.grade(closed, "wrong")  # a changed mind: the latest wins
    outcome = await outcome_store.outcome(pool, case.id)
    assert outcome is not None
    assert (outcome.verdict, outcome.grade, outcome.signature) == ("wrong", 0, "tls")
    assert outcome.fix == "renewed the provider's certificate"
    [graded] = await outcome_store.graded_cases(pool, "T1")
    assert graded.first_lead_key == lead.id  # the first turn with evidence led with it
    assert graded.first_seen_at is not None and graded.first_seen_at >= graded.opened_at
    assert [e.action for e in await audit.recent(pool)].count("case.outcome") == 2

    # A button of another channel, or for a lead that is not the case's, records nothing.
    with pytest.raises(CaseNotFound, match="in this channel"):
        await desk.grade(closed, "root_cause", channel="C2")
    stale = closed.model_copy(
        update={"outcome": closed.outcome.model_copy(update={"hypothesis_key": "dns:x"})}
    )
    with pytest.raises(CaseNotFound, match="latest close summary"):
        await desk.grade(stale, "root_cause")

    # Reopened and closed again: the old grade was of a fix that did not hold; the new close
    # asks again, and counts once graded.
    await desk.service.reopen_case(
        ReopenCaseRequest(case_id=case.id, user="U2", reason="expired again"), key="re"
    )
    again = await desk.close(thread, "renewed it and fixed the renewal job")
    assert (await desk.service.accuracy("T1")).graded == 0
    await desk.grade(again, "root_cause")
    stats = await desk.service.accuracy("T1")
    assert (stats.graded, stats.right_at_close, stats.reopened) == (1, 1, 1)


async def test_a_past_case_whose_fix_held_ranks_above_one_that_was_reopened(
    desk: Desk,
) -> None:
    # Case 1 is closed, reopened (its fix did not hold), and closed again; case 2's fix held.
    first = await desk.incident(scenario("payments-pool-exhausted"))
    await desk.close(first, "restarted payments")
    case_1 = await desk.service.case_for_thread("C1", first.thread_ts)
    assert case_1 is not None
    await desk.service.reopen_case(
        ReopenCaseRequest(case_id=case_1.id, user="U2", reason="pool ran dry again"), key="r1"
    )
    await desk.close(first, "restarted payments again")
    second = await desk.incident(scenario("payments-pool-exhausted"), channel="C2")
    await desk.grade(
        await desk.close(second, "fixed the connection leak"), "root_cause", channel="C2"
    )

    again = await desk.incident(scenario("payments-pool-exhausted"), channel="C3")
    past = desk.related(again, "case")
    assert [line.text.split(">")[0] for line in past] == [
        f"Looks like <https://memory.example/C2/{second.thread_ts}|case #{case_1.id + 1}",
        f"Looks like <https://memory.example/C1/{first.thread_ts}|case #{case_1.id}",
    ]
    assert past[0].snippet == (
        f"Why: same failure signature as case #{case_1.id + 1} (`db-pool-exhausted`), same "
        "component (`payments`); its fix held and its conclusion was graded the root cause"
    )
    assert "reopened once: a fix of it did not hold" in past[1].snippet


async def test_a_runbook_that_helped_ranks_first_for_the_next_case_of_that_failure(
    desk_with_runbooks: Desk,
) -> None:
    desk = desk_with_runbooks
    await desk.service.add_knowledge(
        KnowledgeAddRequest(channel_id="C1", user="U1", text=POOL_NOTE), key="note"
    )
    first = await desk.incident(scenario("payments-pool-exhausted"))
    shown = [line.text for line in desk.related(first, "runbook")]
    # Both pages answer this failure; the team's note comes second.
    assert shown == [
        "Runbook: PostgreSQL › Connection pool exhausted",
        "Runbook: Payments database pool",
    ]

    closed = await desk.close(first, "fixed the connection leak")
    assert "Noted for case" in await desk.helped(closed, "Payments database pool")

    again = await desk.incident(scenario("payments-pool-exhausted"))
    [note, *_] = desk.related(again, "runbook")
    assert note.text == "Runbook: Payments database pool"
    assert note.snippet.endswith(
        "; helped close 1 past case of the same failure (`db-pool-exhausted`)"
    )


async def test_the_reasoners_confidence_follows_the_teams_grades_per_signature(
    desk: Desk,
) -> None:
    before = None
    for _ in range(3):
        thread = await desk.incident(expired_certificate_incident())
        before = before or (await desk.hypothesis(thread, "tls")).confidence
        await desk.grade(await desk.close(thread), "root_cause")

    after = await desk.hypothesis(await desk.incident(expired_certificate_incident()), "tls")
    assert after.confidence > before
    # Another team's cases are calibrated by that team's outcomes only.
    other = await desk.incident(expired_certificate_incident(), team="T2")
    assert (await desk.hypothesis(other, "tls")).confidence == before


async def test_the_accuracy_figures_come_from_the_graded_rows(
    desk: Desk, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    right = await desk.incident(expired_certificate_incident())
    await desk.grade(await desk.close(right), "root_cause")
    wrong = await desk.incident(scenario("payments-pool-exhausted"))
    await desk.grade(await desk.close(wrong), "wrong")
    await desk.close(await desk.incident(expired_certificate_incident()))  # not graded

    stats = await desk.service.accuracy("T1")
    assert (stats.closed, stats.graded, stats.first_right, stats.right_at_close) == (3, 2, 1, 1)
    assert stats.median_minutes_to_right is not None
    assert [(s.signature, s.wrong) for s in stats.signatures] == [
        ("db-pool-exhausted", 1),
        ("tls", 0),
    ]
    assert (await desk.service.accuracy("T9")).graded == 0

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("FAULTMAVEN_DATA_DIR", str(tmp_path / "data"))
    # The CLI runs its own event loop, as from a terminal: in a thread of its own here.
    result = await asyncio.to_thread(CliRunner().invoke, app, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["graded"] == 2 and figures["first_right"] == 1
    assert figures["first_right_share"] == 0.5
    assert figures["signatures"][0] == {
        "signature": "db-pool-exhausted",
        "graded": 1,
        "root_cause": 0,
        "wrong": 1,
        "wrong_share": 1.0,
    }
    text = (await asyncio.to_thread(CliRunner().invoke, app, ["stats"])).stdout
    assert "First hypothesis right: 1/2 (50%)" in text
