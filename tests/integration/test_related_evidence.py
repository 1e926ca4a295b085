"""A case's related knowledge is asked for by its evidence (failure signatures, error templates,
kubectl findings), not only its words, and each page says why it was picked; real Postgres +
pgvector, the real MiniLM model and the starter runbooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool

from engine.cases.service import CaseService
from engine.core.config import Settings
from engine.core.models import FilesRequest, MentionRequest, ThreadRef
from engine.core.replies import CaseSummaryReply, KnowledgeLine, KnowledgeReply
from tests.fakes.memory import MemoryFiles, MemoryReplier

pytestmark = pytest.mark.integration

SCENARIOS = Path(__file__).parents[1] / "scenarios" / "cases"
# Says nothing of certificates: people's first guesses, as they come.
CHATTY = (
    "customers keep getting errors at checkout and the app is slow too; payments folks think "
    "the database or kafka is acting up again, can someone look?"
)


def _log(service: str, minutes: int, *errors: str) -> bytes:
    lines = []
    for m in range(minutes):
        lines.append(f"2026-10-01T00:{m:02d}:01Z INFO {service} request {m} done in 12 ms")
        if m >= 10:
            lines += [
                f"2026-10-01T00:{m:02d}:{2 + i:02d}Z ERROR {service} {e.format(m=m)}"
                for i, e in enumerate(errors)
            ]
    return ("\n".join(lines) + "\n").encode()


def expired_certificate_incident() -> dict[str, bytes]:
    """A provider's certificate expired: the gateway and checkout see 502s and timeouts (more
    lines, more files), only payments' log says why."""
    return {
        "gateway.log": _log(
            "gateway",
            40,
            "upstream checkout returned 502 Bad Gateway for POST /api/checkout",
            "upstream checkout returned 502 Bad Gateway for POST /api/checkout",
            "upstream checkout returned 502 Bad Gateway for POST /api/checkout",
            "upstream timed out (110: Connection timed out) while reading response header",
        ),
        "checkout.log": _log("checkout", 40, "charge failed for order {m}: 502 from payments"),
        "payments.log": _log(
            "payments",
            40,
            "POST https://api.paystream.io/v1/charges failed: x509: certificate has expired or "
            "is not yet valid",
            "request failed with status 502 for order {m}",
        ),
    }


@pytest.fixture
async def service(
    pool: AsyncConnectionPool, settings: Settings, replier: MemoryReplier, files: MemoryFiles
) -> CaseService:
    with_runbooks = settings.model_copy(update={"starter_knowledge": True})
    service = CaseService(pool, with_runbooks, replier=replier, files=files)
    await service.prepare_knowledge()
    return service


async def incident(
    service: CaseService, files: MemoryFiles, title: str, evidence: dict[str, bytes]
) -> ThreadRef:
    thread = ThreadRef(team_id="T1", channel_id="C1", thread_ts="1700000000.1")
    await service.answer_mention(
        MentionRequest(thread=thread, ts=thread.thread_ts, user="U1", text=title), key="m1"
    )
    refs = [files.add(f"f:{name}", name, data) for name, data in evidence.items()]
    await service.add_files(
        FilesRequest(thread=thread, ts="1700000001.1", user="U1", text="", files=refs), key="f1"
    )
    return thread


def runbooks_shown(replier: MemoryReplier, thread: ThreadRef) -> list[KnowledgeLine]:
    return [
        line
        for posted in replier.in_thread(thread.thread_ts)
        if isinstance(posted.latest, KnowledgeReply)
        for line in posted.latest.lines
        if line.kind == "runbook"
    ]


async def test_a_certificate_error_in_the_logs_ranks_the_certificate_runbook_first_and_says_why(
    service: CaseService, files: MemoryFiles, replier: MemoryReplier
) -> None:
    thread = await incident(service, files, CHATTY, expired_certificate_incident())

    [first, *_] = runbooks_shown(replier, thread)
    assert first.text == "Runbook: TLS and certificates › Certificate expired"
    assert first.snippet == "Why: matches the failure signature `tls` of the leading hypothesis"
    posted = next(
        p.latest
        for p in replier.in_thread(thread.thread_ts)
        if isinstance(p.latest, KnowledgeReply) and p.latest.lines
    )
    assert "   Why: matches the failure signature `tls`" in posted.text
    # The case summary's next steps say it too.
    summary = [p.latest for p in replier.summaries(thread.thread_ts)][-1]
    assert isinstance(summary, CaseSummaryReply)
    assert any(
        "Certificate expired (matches the failure signature `tls`" in step
        for step in summary.next_steps
    )


async def test_an_oom_kill_gets_the_memory_runbook_before_the_crash_loop_it_causes(
    service: CaseService, files: MemoryFiles, replier: MemoryReplier
) -> None:
    folder = SCENARIOS / "inventory-oomkilled"
    evidence = {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != "answer.yaml"
    }
    thread = await incident(service, files, "something is off since this morning?", evidence)

    shown = runbooks_shown(replier, thread)
    assert shown[0].text == "Runbook: Memory › Process killed by the OOM killer"
    assert shown[0].snippet == "Why: matches the failure signature `oom` of the leading hypothesis"
